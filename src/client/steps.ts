/**
 * Port arguments of the knock client: knock 0.8's `PORT[:PROTO]`, and knocktool's per-step
 * `PORT[:PROTO[:FLAGS]]` with TCP flags sent through a raw socket.
 *
 * @module
 */

import { TCP_FLAGS } from "../wire/build.ts";
import { lowerFirst } from "./_text.ts";

/**
 * TCP flag bits by their lower-case names (the TCP header's flags byte): `wire/build.ts`'s
 * {@link TCP_FLAGS} table, keyed as the client's `--flags` spells them.
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
  /** TCP flags for a raw-socket hit; absent for a plain `connect` hit. */
  readonly flags?: number;
}

/** A parsed step, or the reason it does not parse (std voice). */
export type StepResult =
  | { readonly ok: true; readonly step: KnockStep }
  | { readonly ok: false; readonly error: string };

/**
 * Parses a TCP flag list such as `fin,ack` (names case-insensitive; `none` or empty means no
 * flag at all).
 *
 * @param text The comma-separated list.
 * @returns The flags byte, or an error message naming the bad token.
 *
 * @example
 * ```ts
 * import { parseFlags } from "./steps.ts";
 * const r = parseFlags("fin,ACK");
 * if (!r.ok || r.flags !== 0x11) throw new Error("bad flags");
 * ```
 */
export function parseFlags(
  text: string,
): { ok: true; flags: number } | { ok: false; error: string } {
  if (text === "" || text.toLowerCase() === "none") return { ok: true, flags: 0 };
  let flags = 0;
  for (const raw of text.split(",")) {
    const name = raw.trim().toLowerCase();
    const bit = Object.hasOwn(FLAG_BITS, name) ? FLAG_BITS[name] : undefined;
    if (bit === undefined) {
      return {
        ok: false,
        error: `Cannot parse TCP flags "${text}": unknown flag "${raw}" ` +
          `(use ${Object.keys(FLAG_BITS).join(", ")} or none)`,
      };
    }
    flags |= bit;
  }
  return { ok: true, flags };
}

/**
 * Formats a flags byte as a lower-case list, e.g. `fin,ack`; `none` for 0.
 *
 * @param flags The flags byte.
 * @returns The list.
 *
 * @example
 * ```ts
 * import { formatFlags } from "./steps.ts";
 * if (formatFlags(0x12) !== "syn,ack") throw new Error("bad format");
 * ```
 */
export function formatFlags(flags: number): string {
  const names = Object.entries(FLAG_BITS).filter(([, b]) => (flags & b) !== 0).map(([n]) => n);
  return names.length === 0 ? "none" : names.join(",");
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

/**
 * Parses knocktool's `PORT[:PROTO[:FLAGS]]`. With two fields it is knock 0.8's form exactly
 * ({@link parseKnockStep}); with a third, PROTO must be `tcp` (any case) and FLAGS a flag list.
 *
 * @param arg The argument.
 * @returns The step, or an error in std voice.
 *
 * @example
 * ```ts
 * import { parseStep } from "./steps.ts";
 * const r = parseStep("7000:tcp:fin,ack");
 * if (!r.ok || r.step.flags !== 0x11) throw new Error("bad step");
 * ```
 */
export function parseStep(arg: string): StepResult {
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
  return { ok: true, step: { port, protocol: "tcp", flags: f.flags } };
}
