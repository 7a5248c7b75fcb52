/**
 * glibc's `atoi` on 64-bit Linux: the number reading knockd's config parser and knock's command
 * line both rely on.
 *
 * @module
 */

const LONG_MAX = (1n << 63n) - 1n;
const LONG_MIN = -(1n << 63n);

/** What `atoi` made of a text, and whether the text was a plain number. */
export interface AtoiResult {
  /** glibc `atoi`: `(int) strtol(s, NULL, 10)`: saturated at 64 bits, then truncated to 32. */
  readonly value: number;
  /** The text (after leading spaces) is empty: the value is 0. */
  readonly empty: boolean;
  /** Characters after the number were ignored, or there was no number at all. */
  readonly junk: boolean;
  /** The written number lies outside the 32-bit `int` range, so `atoi` returned a wrapped value. */
  readonly overflow: boolean;
}

const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/**
 * glibc `atoi` with notes on how the text was read: leading `isspace()` characters ("C" locale)
 * are skipped, then an optional sign and decimal digits; anything else ends the number, and no
 * digits gives 0. `strtol` saturates at the 64-bit `long` range and the cast to `int` keeps the
 * low 32 bits, so a huge number can turn negative. Runs in time linear in the text's length.
 *
 * @param text The text.
 * @returns The value and how the text was read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readAtoi } from "./atoi.ts";
 * const r = readAtoi(" 12ab");
 * assert.equal(r.value, 12);
 * assert(r.junk);
 * assert(!r.empty);
 * assert(!r.overflow);
 * assert(readAtoi("4294967296").overflow);
 * ```
 */
export function readAtoi(text: string): AtoiResult {
  let i = 0;
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  const start = i;
  let negative = false;
  if (text[i] === "+" || text[i] === "-") {
    negative = text[i] === "-";
    i++;
  }
  const digitsStart = i;
  while (i < text.length && isDigit(text.charCodeAt(i))) i++;
  if (i === digitsStart) {
    const rest = text.length - start;
    return { value: 0, empty: rest === 0, junk: rest > 0, overflow: false };
  }
  // Skip leading zeros, then anything longer than 19 digits saturates (LONG_MAX has 19).
  let d = digitsStart;
  while (d < i - 1 && text.charCodeAt(d) === 0x30) d++;
  let v: bigint;
  if (i - d > 19) v = negative ? LONG_MIN : LONG_MAX;
  else {
    v = BigInt(text.slice(d, i));
    if (negative) v = -v;
    if (v > LONG_MAX) v = LONG_MAX;
    if (v < LONG_MIN) v = LONG_MIN;
  }
  const value = Number(BigInt.asIntN(32, v));
  let j = i;
  while (j < text.length && isSpace(text.charCodeAt(j))) j++;
  return { value, empty: false, junk: j < text.length, overflow: BigInt(value) !== v };
}

/**
 * glibc `atoi` (`(int) strtol(s, NULL, 10)`) on 64-bit Linux: optional leading white space and
 * sign, then decimal digits; anything else ends the number; no digits gives 0. `strtol`
 * saturates at the `long` range and the cast to `int` keeps the low 32 bits, so huge values can
 * turn negative.
 *
 * @param text The text.
 * @returns The `int` value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { atoi } from "./atoi.ts";
 * assert.equal(atoi(" 12ab"), 12);
 * assert.equal(atoi("x"), 0);
 * assert.equal(atoi("-5"), -5);
 * assert.equal(atoi("4294967297"), 1, "bad truncation");
 * assert.equal(atoi("99999999999999999999"), -1, "bad saturation");
 * ```
 */
export function atoi(text: string): number {
  return readAtoi(text).value;
}
