/**
 * knockd's `parse_port_sequence` (docs/COMPATIBILITY.md §2.4): the `Sequence` value and every line
 * of a one-time sequences file use this syntax.
 *
 * @module
 */
import type { Knock, PortNote, SuffixNote } from "./model.ts";
import { formatStepFlags, parseStepFlags } from "../wire/tcp_flags.ts";
import { readAtoi } from "./atoi.ts";
import { cTrim, cUpper } from "./_cstr.ts";

/** knockd keeps at most 32 knocks per sequence. */
export const MAX_KNOCKS = 32;

/** Why a sequence was rejected, with the text knockd's message quotes. */
export type SequenceProblem =
  | { readonly kind: "too-many" }
  | {
    readonly kind: "invalid-port";
    /** The port text as written, untrimmed (knockd prints it so). */
    readonly portText: string;
    readonly value: number;
  }
  | { readonly kind: "unknown-protocol"; readonly protocolText: string; readonly element: string };

/** The outcome of {@link parsePortSequence}. */
export type SequenceResult =
  | {
    readonly ok: true;
    readonly knocks: Knock[];
    readonly notes: PortNote[];
    /** Third fields that are not TCP flags, which knockd (and knocktool) ignore. */
    readonly suffixes: SuffixNote[];
  }
  | { readonly ok: false; readonly problem: SequenceProblem };

/**
 * Parses a knock sequence exactly as knockd 0.8 does: split on `,`, trim each element, split it at
 * `:`, read the port with `atoi` (junk → 0, negatives wrap to 65536+n), reject ports above
 * 65535, protocol `tcp` unless the trimmed, upper-cased text after the first `:` is `UDP`
 * (`TCP` and `UDP` are the only accepted names; knockd ignores text after a second `:`).
 *
 * knocktool reads a third field of a TCP step as its flags when it is the notation of
 * docs/FLAG-KNOCKING.md (`7000:tcp:syn`, `7000:tcp:fin+psh+urg`, `none`, `any`); any other third
 * field is ignored, as knockd does, and reported in `suffixes` for `check` to warn about.
 *
 * @param value The value after `Sequence =` (already trimmed) or a one-time file line.
 * @returns The knocks and notes on ports that were not written as plain numbers, or the problem.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePortSequence } from "./sequence.ts";
 * const r = parsePortSequence("7000, 8000:udp,");
 * assert(r.ok);
 * assert.equal(r.knocks.length, 3);
 * assert.equal(r.knocks[2]?.port, 0);
 * ```
 */
export function parsePortSequence(value: string): SequenceResult {
  const knocks: Knock[] = [];
  const notes: PortNote[] = [];
  const suffixes: SuffixNote[] = [];
  for (const raw of value.split(",")) {
    if (knocks.length >= MAX_KNOCKS) return { ok: false, problem: { kind: "too-many" } };
    const element = cTrim(raw);
    const parts = element.split(":");
    const portText = parts[0] ?? "";
    const read = readAtoi(portText);
    if (read.value > 65535) {
      // knockd prints the port text as it was written, spaces around it included.
      const written = raw.split(":")[0] ?? "";
      return { ok: false, problem: { kind: "invalid-port", portText: written, value: read.value } };
    }
    const port = read.value & 0xffff;
    let protocol: Knock["protocol"] = "tcp";
    if (parts.length > 1) {
      const name = cUpper(cTrim(parts[1] ?? ""));
      if (name === "UDP") protocol = "udp";
      else if (name !== "TCP") {
        return {
          ok: false,
          problem: { kind: "unknown-protocol", protocolText: parts[1] ?? "", element },
        };
      }
    }
    const index = knocks.length;
    let flags: Knock["flags"];
    if (parts.length > 2) {
      const suffix = parts.slice(2).join(":");
      const f = protocol === "tcp" && parts.length === 3 ? parseStepFlags(suffix) : undefined;
      if (f?.ok) flags = f.flags;
      else suffixes.push({ index, text: cTrim(suffix) });
    }
    const text = cTrim(portText);
    if (read.empty) notes.push({ index, text, kind: "empty", port });
    else if (read.junk) notes.push({ index, text, kind: "junk", port });
    else if (read.overflow || read.value < 0) notes.push({ index, text, kind: "wrapped", port });
    knocks.push(flags === undefined ? { port, protocol } : { port, protocol, flags });
  }
  return { ok: true, knocks, notes, suffixes };
}

/**
 * Formats a sequence the way knockd's debug output does: `7000:tcp,8000:udp`; a step with flags
 * gets them in the notation (`7000:tcp:syn`).
 *
 * @param knocks The sequence.
 * @returns The text.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatSequence } from "./sequence.ts";
 *
 * assert.equal(
 *   formatSequence([{ port: 7000, protocol: "tcp", flags: 0x29 }, { port: 8000, protocol: "udp" }]),
 *   "7000:tcp:fin+psh+urg,8000:udp",
 * );
 * ```
 */
export function formatSequence(knocks: readonly Knock[]): string {
  return knocks.map(formatKnock).join(",");
}

/**
 * Formats one step: `PORT:PROTO`, or `PORT:tcp:FLAGS` for a step with flags.
 *
 * @param knock The step.
 * @returns The text.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatKnock } from "./sequence.ts";
 *
 * assert.equal(formatKnock({ port: 110, protocol: "tcp", flags: "any" }), "110:tcp:any");
 * ```
 */
export function formatKnock(knock: Knock): string {
  const base = `${knock.port}:${knock.protocol}`;
  return knock.flags === undefined ? base : `${base}:${formatStepFlags(knock.flags)}`;
}
