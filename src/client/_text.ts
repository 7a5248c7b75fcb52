/**
 * Small text helpers shared by the client modules.
 *
 * @module
 */

/**
 * Lower-cases the first character, to fit a libc or nested message after a colon (std voice:
 * `Cannot open socket: too many open files`).
 *
 * @param s The text, e.g. `strerror`'s `Too many open files`.
 * @returns The text with its first character lower-cased.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lowerFirst } from "./_text.ts";
 * assert.equal(lowerFirst("No such device"), "no such device", "bad case");
 * ```
 */
export function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}
