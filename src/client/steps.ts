/**
 * Port arguments of the knock client: knock 0.8's `PORT[:PROTO]`; knocktool's per-step
 * `PORT:tcp:FLAGS` (the notation of docs/FLAG-KNOCKING.md: flag names joined by `+`, `none`,
 * `any`; the client also sends ECE and CWR, and reads `,` as well as `+`), sent through a raw socket; and tportknockd's frames `tcp:PORT[:LETTERS]` and
 * `udp:PORT`.
 *
 * @module
 */

import { parseTportknockdFlags, TCP_FLAGS } from "../wire/tcp_flags.ts";
import { lowerFirst } from "./_text.ts";

/**
 * TCP flag bits by their lower-case names (the TCP header's flags byte): `wire/tcp_flags.ts`'s
 * {@link TCP_FLAGS} table, keyed as the notation spells them. The client may send ECE and CWR
 * too, although a server compares only the first six.
 */
export const FLAG_BITS: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(Object.entries(TCP_FLAGS).map(([name, bit]) => [name.toLowerCase(), bit])),
);

/** One hit of a knock sequence. */
export interface KnockStep {
  /** The port as typed: passed to `getaddrinfo` as the service (`ssh`, `70000`, …). */
  readonly port: string;
  /** The transport protocol. */
  readonly protocol: "tcp" | "udp";
  /**
   * TCP flags for a raw-socket hit; absent for a plain `connect` hit (also what a step whose
   * flags are `any` sends: one SYN).
   */
  readonly flags?: number;
}

/** A parsed step, or the reason it does not parse (std voice). */
export type StepResult =
  | { readonly ok: true; readonly step: KnockStep }
  | { readonly ok: false; readonly error: string };

/** Parsed flags: a flags byte, `"any"`, or the reason they do not parse. */
export type FlagsResult =
  | { readonly ok: true; readonly flags: number | "any" }
  | { readonly ok: false; readonly error: string };

/**
 * Parses FLAGS of the notation: flag names joined by `+` (`,` is accepted too), any case;
 * `none` or empty means no flag at all, `any` any flags.
 *
 * @param text The flag list.
 * @returns The flags byte or `"any"`, or an error message naming the bad name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFlags } from "./steps.ts";
 * assert.deepEqual(parseFlags("fin+URG+psh"), { ok: true, flags: 0x29 });
 * assert.deepEqual(parseFlags("any"), { ok: true, flags: "any" });
 * ```
 */
export function parseFlags(text: string): FlagsResult {
  const lower = text.trim().toLowerCase();
  if (lower === "" || lower === "none") return { ok: true, flags: 0 };
  if (lower === "any") return { ok: true, flags: "any" };
  let flags = 0;
  for (const raw of text.split(/[+,]/)) {
    const name = raw.trim().toLowerCase();
    const bit = Object.hasOwn(FLAG_BITS, name) ? FLAG_BITS[name] : undefined;
    if (bit === undefined) {
      return {
        ok: false,
        error: `Cannot parse TCP flags "${text}": unknown flag "${raw}" ` +
          `(use ${Object.keys(FLAG_BITS).join(", ")} joined by "+", or none, or any)`,
      };
    }
    flags |= bit;
  }
  return { ok: true, flags };
}

/**
 * Formats a flags byte in the notation, e.g. `fin+ack`; `none` for 0.
 *
 * @param flags The flags byte.
 * @returns The flag names joined by `+`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatFlags } from "./steps.ts";
 * assert.equal(formatFlags(0x12), "syn+ack");
 * ```
 */
export function formatFlags(flags: number): string {
  const names = Object.entries(FLAG_BITS).filter(([, b]) => (flags & b) !== 0).map(([n]) => n);
  return names.length === 0 ? "none" : names.join("+");
}

/**
 * Parses a port argument the way knock 0.8 does: split at the first `:`; the protocol is UDP
 * only when the rest is exactly `udp`, anything else is TCP (`1234:UDP` is TCP).
 *
 * @param arg The argument.
 * @returns The step (never fails).
 *
 * @example
 * ```ts
 * import { parseKnockStep } from "./steps.ts";
 * if (parseKnockStep("1234:UDP").protocol !== "tcp") throw new Error("UDP must be TCP");
 * if (parseKnockStep("53:udp").port !== "53") throw new Error("bad port");
 * ```
 */
export function parseKnockStep(arg: string): KnockStep {
  const colon = arg.indexOf(":");
  if (colon < 0) return { port: arg, protocol: "tcp" };
  return { port: arg.slice(0, colon), protocol: arg.slice(colon + 1) === "udp" ? "udp" : "tcp" };
}

function withFlags(port: string, flags: number | "any"): KnockStep {
  return flags === "any" ? { port, protocol: "tcp" } : { port, protocol: "tcp", flags };
}

/**
 * Parses a tportknockd frame: `udp:PORT`, `tcp:PORT` (no flags at all, tportknockd's `n`) or
 * `tcp:PORT:LETTERS`.
 */
function parseFrame(arg: string, proto: "tcp" | "udp", rest: string): StepResult {
  const colon = rest.indexOf(":");
  const port = colon < 0 ? rest : rest.slice(0, colon);
  if (port === "") return { ok: false, error: `Cannot parse frame "${arg}": the port is empty` };
  if (proto === "udp") {
    if (colon >= 0) {
      return { ok: false, error: `Cannot parse frame "${arg}": UDP frames have no flags` };
    }
    return { ok: true, step: { port, protocol: "udp" } };
  }
  if (colon < 0) return { ok: true, step: { port, protocol: "tcp", flags: 0 } };
  const f = parseTportknockdFlags(rest.slice(colon + 1));
  if (!f.ok) return { ok: false, error: `Cannot parse frame "${arg}": ${f.error}` };
  return { ok: true, step: withFlags(port, f.flags) };
}

/**
 * Parses one port argument of `knocktool knock`:
 *
 * - `tcp:PORT[:LETTERS]` or `udp:PORT`: a tportknockd frame (a TCP frame without letters sends
 *   no flags at all, as tportknockd reads it);
 * - `PORT` or `PORT:PROTO`: knock 0.8's form exactly ({@link parseKnockStep});
 * - `PORT:tcp:FLAGS`: the notation (PROTO must be `tcp`, any case).
 *
 * A step whose flags are `any` (`i`) is sent as a plain `connect` hit (one SYN).
 *
 * @param arg The argument.
 * @returns The step, or an error in std voice.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseStep } from "./steps.ts";
 * assert.deepEqual(parseStep("8000:tcp:fin+urg+psh"), {
 *   ok: true,
 *   step: { port: "8000", protocol: "tcp", flags: 0x29 },
 * });
 * assert.deepEqual(parseStep("tcp:7000:s"), {
 *   ok: true,
 *   step: { port: "7000", protocol: "tcp", flags: 0x02 },
 * });
 * ```
 */
export function parseStep(arg: string): StepResult {
  if (arg.startsWith("tcp:")) return parseFrame(arg, "tcp", arg.slice(4));
  if (arg.startsWith("udp:")) return parseFrame(arg, "udp", arg.slice(4));
  const first = arg.indexOf(":");
  const second = first < 0 ? -1 : arg.indexOf(":", first + 1);
  if (second < 0) return { ok: true, step: parseKnockStep(arg) };
  const port = arg.slice(0, first);
  const proto = arg.slice(first + 1, second);
  if (proto.toLowerCase() !== "tcp") {
    return {
      ok: false,
      error: `Cannot parse port "${arg}": flags need protocol "tcp", not "${proto}"`,
    };
  }
  const f = parseFlags(arg.slice(second + 1));
  if (!f.ok) return { ok: false, error: `Cannot parse port "${arg}": ${lowerFirst(f.error)}` };
  return { ok: true, step: withFlags(port, f.flags) };
}
