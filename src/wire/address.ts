/**
 * IPv4 and IPv6 addresses as bytes and as the text knockd compares: `inet_ntoa` dotted quads and
 * glibc `inet_ntop` IPv6 forms. Parsing follows `inet_pton` (no zone ids, no prefix lengths).
 *
 * @module
 */

/**
 * Parses a dotted-quad IPv4 address the way `inet_pton(AF_INET)` does: exactly four decimal
 * parts, each at most 255, no leading zeros, nothing else.
 *
 * @param text The address text.
 * @returns Four bytes, or `null` when the text is not an IPv4 address.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseIpv4 } from "./address.ts";
 * assert.equal(parseIpv4("192.0.2.1")?.join("."), "192.0.2.1");
 * assert.equal(parseIpv4("192.0.2.01"), null);
 * ```
 */
export function parseIpv4(text: string): Uint8Array | null {
  const out = new Uint8Array(4);
  return parseIpv4Into(text, 0, text.length, out, 0) ? out : null;
}

function parseIpv4Into(
  text: string,
  start: number,
  end: number,
  out: Uint8Array,
  at: number,
): boolean {
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      // inet_pton4 rejects a leading zero ("01") but accepts a lone "0".
      if (digits > 0 && value === 0) return false;
      value = value * 10 + (c - 48);
      if (value > 255) return false;
      digits++;
    } else if (c === 46) {
      if (digits === 0 || part === 3) return false;
      out[at + part++] = value;
      value = 0;
      digits = 0;
    } else {
      return false;
    }
  }
  if (digits === 0 || part !== 3) return false;
  out[at + 3] = value;
  return true;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Parses an IPv6 address the way glibc `inet_pton(AF_INET6)` does: up to eight groups of one to
 * four hex digits, at most one `::`, and an optional trailing dotted quad.
 *
 * @param text The address text (no zone id, no brackets).
 * @returns Sixteen bytes, or `null` when the text is not an IPv6 address.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseIpv6 } from "./address.ts";
 * assert.equal(parseIpv6("2001:db8::1")?.[15], 1);
 * assert.equal(parseIpv6("2001:db8:::1"), null);
 * ```
 */
export function parseIpv6(text: string): Uint8Array | null {
  const out = new Uint8Array(16);
  const len = text.length;
  if (len === 0) return null;
  let i = 0;
  let at = 0; // next byte to write
  let gap = -1; // byte index where "::" was seen
  if (text.charCodeAt(0) === 58) {
    if (len < 2 || text.charCodeAt(1) !== 58) return null;
    gap = 0;
    i = 2;
    if (i === len) return out;
  }
  let groupStart = i;
  let value = 0;
  let digits = 0;
  for (; i < len; i++) {
    const c = text.charCodeAt(i);
    const h = hexValue(c);
    if (h >= 0) {
      if (digits === 4) return null;
      value = (value << 4) | h;
      digits++;
      continue;
    }
    if (c === 58) {
      if (digits === 0) {
        // A second colon right after one: "::" (only once, and not after a leading "::").
        if (gap >= 0 || i === 0 || text.charCodeAt(i - 1) !== 58) return null;
        gap = at;
        groupStart = i + 1;
        continue;
      }
      if (i + 1 === len) return null; // trailing single colon
      if (at + 2 > 16) return null;
      out[at] = value >> 8;
      out[at + 1] = value & 0xff;
      at += 2;
      value = 0;
      digits = 0;
      groupStart = i + 1;
      continue;
    }
    if (c === 46) {
      // Embedded IPv4 in the last 32 bits.
      if (at + 4 > 16) return null;
      if (!parseIpv4Into(text, groupStart, len, out, at)) return null;
      at += 4;
      digits = 0;
      i = len;
      break;
    }
    return null;
  }
  if (digits > 0) {
    if (at + 2 > 16) return null;
    out[at] = value >> 8;
    out[at + 1] = value & 0xff;
    at += 2;
  }
  if (gap >= 0) {
    if (at === 16) return null; // "::" must stand for at least one group
    const tail = at - gap;
    out.copyWithin(16 - tail, gap, at);
    out.fill(0, gap, 16 - tail);
  } else if (at !== 16) {
    return null;
  }
  return out;
}

/**
 * Formats four bytes as a dotted quad, as `inet_ntoa` does.
 *
 * @param b The bytes.
 * @param off Where the address starts in `b` (default 0); `b` must hold 4 bytes from there.
 * @returns The text, e.g. `192.0.2.1`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatIpv4 } from "./address.ts";
 * assert.equal(formatIpv4(new Uint8Array([127, 0, 0, 1])), "127.0.0.1");
 * ```
 */
export function formatIpv4(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

// Hex text of a byte without and with a leading zero: a group is HEX[hi] + HEX2[lo], or
// HEX[lo] when hi is 0, which avoids Number#toString(16) on the capture path.
const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16));
const HEX2: readonly string[] = HEX.map((h) => h.padStart(2, "0"));

/**
 * Formats sixteen bytes exactly as glibc `inet_ntop(AF_INET6)` does: lower-case hex groups
 * without leading zeros, the first longest run of at least two zero groups as `::`, and the
 * IPv4-mapped (`::ffff:1.2.3.4`) and IPv4-compatible (`::1.2.3.4`) forms. glibc uses the
 * compatible form whenever exactly the first six groups are zero, so `::1` stays `::1` but
 * `::1:0` prints as `::0.1.0.0`.
 *
 * @param b The bytes.
 * @param off Where the address starts in `b` (default 0); `b` must hold 16 bytes from there.
 * @returns The text, e.g. `2001:db8::1`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatIpv6, parseIpv6 } from "./address.ts";
 * assert.equal(formatIpv6(parseIpv6("2001:DB8:0:0:1:0:0:1")!), "2001:db8::1:0:0:1");
 * assert.equal(formatIpv6(parseIpv6("::ffff:c000:201")!), "::ffff:192.0.2.1");
 * ```
 */
export function formatIpv6(b: Uint8Array, off = 0): string {
  // glibc inet_ntop6: find the first longest run of zero words; runs shorter than 2 are ignored.
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    const w = (b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!;
    if (w === 0) {
      if (curBase < 0) {
        curBase = i;
        curLen = 1;
      } else {
        curLen++;
      }
    } else if (curBase >= 0) {
      if (curLen > bestLen) {
        bestBase = curBase;
        bestLen = curLen;
      }
      curBase = -1;
    }
  }
  if (curBase >= 0 && curLen > bestLen) {
    bestBase = curBase;
    bestLen = curLen;
  }
  if (bestLen < 2) bestBase = -1;
  let s = "";
  for (let i = 0; i < 8; i++) {
    if (bestBase >= 0 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) s += ":";
      continue;
    }
    if (i !== 0) s += ":";
    if (
      i === 6 && bestBase === 0 &&
      (bestLen === 6 || (bestLen === 5 && b[off + 10] === 0xff && b[off + 11] === 0xff))
    ) {
      s += formatIpv4(b, off + 12);
      break;
    }
    const hi = b[off + 2 * i]!;
    const lo = b[off + 2 * i + 1]!;
    s += hi === 0 ? HEX[lo]! : HEX[hi]! + HEX2[lo]!;
  }
  if (bestBase >= 0 && bestBase + bestLen === 8) s += ":";
  return s;
}

/** An IP literal's family and its canonical text (see {@link canonicalAddress}). */
export interface CanonicalAddress {
  /** Address family. */
  readonly family: 4 | 6;
  /** `inet_ntoa` / glibc `inet_ntop` text: what the decoder gives packets to this address. */
  readonly text: string;
}

/**
 * Parses an IP literal with {@link parseIpv4} / {@link parseIpv6} (`inet_pton` rules: no leading
 * zeros in IPv4 parts, no zone, no prefix) and returns its canonical text, the form packet
 * addresses are decoded to; null when the text is not an IP literal.
 *
 * @param text The literal.
 * @returns Family and canonical text, or null.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { canonicalAddress } from "./address.ts";
 * assert.equal(canonicalAddress("2001:DB8:0:0::1")?.text, "2001:db8::1");
 * assert.equal(canonicalAddress("192.0.2.1")?.family, 4);
 * assert.equal(canonicalAddress("192.0.2.01"), null);
 * ```
 */
export function canonicalAddress(text: string): CanonicalAddress | null {
  const v4 = parseIpv4(text);
  if (v4 !== null) return { family: 4, text: formatIpv4(v4) };
  const v6 = parseIpv6(text);
  return v6 === null ? null : { family: 6, text: formatIpv6(v6) };
}

/**
 * Formats 4 or 16 address bytes as {@link formatIpv4} or {@link formatIpv6} do.
 *
 * @param bytes The address (4 or 16 bytes).
 * @returns The text.
 * @throws {RangeError} When `bytes` is not 4 or 16 bytes long.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatAddress } from "./address.ts";
 * assert.equal(formatAddress(new Uint8Array([192, 0, 2, 1])), "192.0.2.1");
 * assert.equal(formatAddress(new Uint8Array(16)), "::");
 * ```
 */
export function formatAddress(bytes: Uint8Array): string {
  if (bytes.length === 4) return formatIpv4(bytes);
  if (bytes.length === 16) return formatIpv6(bytes);
  throw new RangeError(`Cannot format address: length ${bytes.length} is not 4 or 16`);
}
