/**
 * The one TCP flag table: bits of the TCP header's flags byte, knockd.conf's flag names,
 * tportknockd's flag letters, and the per-step notation `PORT:tcp:FLAGS` that knocktool uses
 * everywhere (`Sequence`, `knocktool knock` arguments, `check` output and `--json`;
 * docs/FLAG-KNOCKING.md).
 *
 * The notation's FLAGS are flag names joined by `+` (`syn`, `fin+psh+urg`; any order and case
 * when read, knockd's order fin, syn, rst, psh, ack, urg when written), or `none` (no flag set),
 * or `any` (any flags; tportknockd's `i`). A step with FLAGS matches a TCP packet whose six flags
 * FIN, SYN, RST, PSH, ACK and URG are exactly those; ECE and CWR (ECN) are never compared.
 *
 * @module
 */

/** TCP flag bits as in the TCP header's flags byte (RFC 9293 §3.1, RFC 3168 for ECE and CWR). */
export const TCP_FLAGS = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

/** The six TCP flags knockd understands, in the order knockd emits them into the BPF filter. */
export const TCP_FLAG_NAMES = ["fin", "syn", "rst", "psh", "ack", "urg"] as const;

/** A TCP flag name as knockd.conf spells it (lower-cased). */
export type TcpFlagName = typeof TCP_FLAG_NAMES[number];

/** Bit value of each of the six flags. */
export const TCP_FLAG_BITS: Readonly<Record<TcpFlagName, number>> = {
  fin: TCP_FLAGS.FIN,
  syn: TCP_FLAGS.SYN,
  rst: TCP_FLAGS.RST,
  psh: TCP_FLAGS.PSH,
  ack: TCP_FLAGS.ACK,
  urg: TCP_FLAGS.URG,
};

/** The six flags a flag step compares (ECE and CWR are left out). */
export const SIX_FLAGS_MASK = 0x3f;

/** tportknockd's flag letters for single flags (`x`, `n` and `i` are handled apart). */
export const TPORTKNOCKD_LETTERS: Readonly<Record<string, TcpFlagName>> = {
  f: "fin",
  s: "syn",
  r: "rst",
  p: "psh",
  a: "ack",
  u: "urg",
};

/**
 * The flags a sequence step demands: the exact value of the six flags (0 = none), or `"any"`.
 */
export type StepFlags = number | "any";

/** The outcome of parsing flags: the flags, or an error message in std's voice. */
export type StepFlagsResult =
  | { readonly ok: true; readonly flags: StepFlags }
  | { readonly ok: false; readonly error: string };

/**
 * Parses the FLAGS of the notation: names joined by `+` (any case), `none`, or `any`.
 *
 * @param text The text after `PORT:tcp:`.
 * @returns The flags, or an error naming the bad part.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseStepFlags } from "./tcp_flags.ts";
 *
 * assert.deepEqual(parseStepFlags("FIN+urg+psh"), { ok: true, flags: 0x29 });
 * assert.deepEqual(parseStepFlags("none"), { ok: true, flags: 0 });
 * assert.deepEqual(parseStepFlags("any"), { ok: true, flags: "any" });
 * assert.equal(parseStepFlags("syb").ok, false);
 * ```
 */
export function parseStepFlags(text: string): StepFlagsResult {
  const lower = text.trim().toLowerCase();
  if (lower === "any") return { ok: true, flags: "any" };
  if (lower === "none") return { ok: true, flags: 0 };
  let flags = 0;
  for (const part of lower.split("+")) {
    const name = part.trim();
    if (!(TCP_FLAG_NAMES as readonly string[]).includes(name)) {
      return {
        ok: false,
        error: `unknown TCP flag ${JSON.stringify(name)} in ${
          JSON.stringify(text)
        } (use fin, syn, rst, psh, ack, urg joined by "+", or "none", or "any")`,
      };
    }
    flags |= TCP_FLAG_BITS[name as TcpFlagName];
  }
  return { ok: true, flags };
}

/**
 * Writes step flags in the notation: names in knockd's order joined by `+`, `none` or `any`.
 *
 * @param flags The step's flags.
 * @returns The FLAGS text.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatStepFlags } from "./tcp_flags.ts";
 *
 * assert.equal(formatStepFlags(0x29), "fin+psh+urg");
 * assert.equal(formatStepFlags(0), "none");
 * assert.equal(formatStepFlags("any"), "any");
 * ```
 */
export function formatStepFlags(flags: StepFlags): string {
  if (flags === "any") return "any";
  const names = TCP_FLAG_NAMES.filter((n) => (flags & TCP_FLAG_BITS[n]) !== 0);
  return names.length === 0 ? "none" : names.join("+");
}

/**
 * Whether a packet's flags byte satisfies a step's flags (exactly the six, or `any`).
 *
 * @param flags The step's flags.
 * @param packetFlags The TCP header's flags byte.
 * @returns True if the packet matches.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { stepFlagsMatch } from "./tcp_flags.ts";
 *
 * assert.equal(stepFlagsMatch(0x02, 0xc2), true); // SYN with ECE+CWR (an ECN SYN)
 * assert.equal(stepFlagsMatch(0x02, 0x12), false); // SYN+ACK
 * assert.equal(stepFlagsMatch("any", 0x3f), true);
 * ```
 */
export function stepFlagsMatch(flags: StepFlags, packetFlags: number): boolean {
  return flags === "any" || (packetFlags & SIX_FLAGS_MASK) === flags;
}

/**
 * Parses tportknockd's flag letters (`fsrpauxni`): single-flag letters combine (`frap`), `x`
 * means all six set and may combine with them, `n` (none) and `i` (any flags) stand alone.
 *
 * @param letters The text after `tcp:PORT:`.
 * @returns The flags, or an error naming the bad letter.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTportknockdFlags } from "./tcp_flags.ts";
 *
 * assert.deepEqual(parseTportknockdFlags("frap"), { ok: true, flags: 0x1d });
 * assert.deepEqual(parseTportknockdFlags("x"), { ok: true, flags: 0x3f });
 * assert.deepEqual(parseTportknockdFlags("i"), { ok: true, flags: "any" });
 * assert.equal(parseTportknockdFlags("ni").ok, false);
 * ```
 */
export function parseTportknockdFlags(letters: string): StepFlagsResult {
  if (letters === "") return { ok: false, error: "flags are empty (use letters from fsrpauxni)" };
  if (letters === "n") return { ok: true, flags: 0 };
  if (letters === "i") return { ok: true, flags: "any" };
  let flags = 0;
  for (const c of letters) {
    if (c === "x") flags |= SIX_FLAGS_MASK;
    else if (Object.hasOwn(TPORTKNOCKD_LETTERS, c)) {
      flags |= TCP_FLAG_BITS[TPORTKNOCKD_LETTERS[c] as TcpFlagName];
    } else if (c === "n" || c === "i") {
      return {
        ok: false,
        error: `flag ${JSON.stringify(c)} in ${JSON.stringify(letters)} must stand alone`,
      };
    } else {
      return {
        ok: false,
        error: `unknown flag ${JSON.stringify(c)} in ${
          JSON.stringify(letters)
        } (use letters from fsrpauxni)`,
      };
    }
  }
  return { ok: true, flags };
}
