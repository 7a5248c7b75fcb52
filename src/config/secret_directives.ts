/**
 * Values of the secret-sequence door directives (docs/SECRET-SEQUENCES.md §3): `Secret_Ports`,
 * `Secret_Length`, `Secret_Step` and `Secret_Protocols`. knocktool extensions: knockd 0.8 rejects
 * them. The parser calls these; the client's options reuse {@link parseSecretPorts}.
 *
 * @module
 */
import type { SecretProtocols } from "./model.ts";

/**
 * Reads `LOW-HIGH` (decimal, 1 ≤ LOW ≤ HIGH ≤ 65535).
 *
 * @param text The value.
 * @returns The range, or the problem (lower case, to follow a colon).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSecretPorts } from "./secret_directives.ts";
 * assert.deepEqual(parseSecretPorts("7000 - 7999"), { low: 7000, high: 7999 });
 * assert.deepEqual(parseSecretPorts("9-3"), { error: `expected "LOW-HIGH" with 1 <= LOW <= HIGH <= 65535` });
 * ```
 */
export function parseSecretPorts(text: string): { low: number; high: number } | { error: string } {
  const m = text.trim().match(/^(\d{1,5})\s*-\s*(\d{1,5})$/);
  const low = m === null ? NaN : Number(m[1]);
  const high = m === null ? NaN : Number(m[2]);
  if (!(low >= 1 && low <= high && high <= 65535)) {
    return { error: `expected "LOW-HIGH" with 1 <= LOW <= HIGH <= 65535` };
  }
  return { low, high };
}

/**
 * Reads a whole decimal number within bounds.
 *
 * @param text The value.
 * @param min Smallest accepted.
 * @param max Largest accepted.
 * @returns The number, or the problem.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSecretInteger } from "./secret_directives.ts";
 * assert.equal(parseSecretInteger("8", 1, 32), 8);
 * assert.deepEqual(parseSecretInteger("0", 1, 32), { error: "expected a whole number from 1 to 32" });
 * ```
 */
export function parseSecretInteger(text: string, min: number, max: number): number | {
  error: string;
} {
  const t = text.trim();
  const n = /^\d{1,10}$/.test(t) ? Number(t) : NaN;
  if (!(n >= min && n <= max)) return { error: `expected a whole number from ${min} to ${max}` };
  return n;
}

/**
 * Reads `Secret_Protocols`: `tcp`, `udp` or `both` (case-insensitive).
 *
 * @param text The value.
 * @returns The choice, or the problem.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSecretProtocols } from "./secret_directives.ts";
 * assert.equal(parseSecretProtocols("UDP"), "udp");
 * ```
 */
export function parseSecretProtocols(text: string): SecretProtocols | { error: string } {
  const t = text.trim().toLowerCase();
  if (t === "tcp" || t === "udp" || t === "both") return t;
  return { error: `expected "tcp", "udp" or "both"` };
}
