/**
 * C-library string behaviour that knockd's config reader depends on (glibc, "C" locale):
 * `fgets` line splitting, `isspace` trimming, `toupper` (`atoi` is in `atoi.ts`).
 *
 * @module
 */

/** knockd reads lines with `fgets(line, PATH_MAX)`: at most 4095 bytes per piece. */
export const FGETS_MAX = 4095;

import { decodeRawText, encodeRawText } from "../util/bytes.ts";

/** One piece returned by an emulated `fgets` call, with its 1-based piece number. */
export interface Piece {
  /** 1-based number of the `fgets` call that returned this piece (knockd's line counter). */
  readonly line: number;
  /**
   * The piece up to its first NUL byte (what `strlen` sees), decoded as UTF-8 with invalid bytes
   * kept as escapes (see `bytes.ts`).
   */
  readonly text: string;
  /** Byte offset of the piece in the input. */
  readonly offset: number;
}

/**
 * Splits bytes the way repeated `fgets(buf, 4096)` calls do: each piece ends after a newline or
 * after 4095 bytes, so a longer line becomes several pieces, each counted as a line. Lazy, and
 * linear in the input's length.
 */
export function* iterPieces(bytes: Uint8Array): Generator<Piece> {
  let off = 0;
  let line = 0;
  while (off < bytes.length) {
    const limit = Math.min(bytes.length, off + FGETS_MAX);
    const window = bytes.subarray(off, limit);
    const nl = window.indexOf(0x0a);
    const len = nl < 0 ? window.length : nl + 1;
    const nul = window.subarray(0, len).indexOf(0);
    yield {
      line: ++line,
      text: decodeRawText(window.subarray(0, nul < 0 ? len : nul)),
      offset: off,
    };
    off += len;
  }
}

/** `isspace()` in the "C" locale: space, \t, \n, \v, \f, \r. */
export function isCSpace(ch: string | undefined): boolean {
  return ch === " " || ch === "\t" || ch === "\n" || ch === "\v" || ch === "\f" || ch === "\r";
}

/** knockd's `trim()`: removes leading and trailing `isspace()` characters (not Unicode spaces). */
export function cTrim(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isCSpace(s[a])) a++;
  while (b > a && isCSpace(s[b - 1])) b--;
  return s.slice(a, b);
}

/** `toupper()` in the "C" locale: only ASCII a–z change. */
export function cUpper(s: string): string {
  return s.replace(/[a-z]+/g, (m) => m.toUpperCase());
}

/** Truncates text to at most `maxBytes` bytes, like a fixed `char[]` buffer. */
export function truncateBytes(s: string, maxBytes: number): string {
  const b = encodeRawText(s);
  return b.length <= maxBytes ? s : decodeRawText(b.subarray(0, maxBytes));
}
