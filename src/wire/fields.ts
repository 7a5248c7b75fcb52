/**
 * A frame's matching fields as numbers, for the allocation-free fast path (docs/PERFORMANCE.md,
 * "Where the CPU per packet goes"): `peekFrame` in `decode.ts` fills one reused
 * {@link FrameFields} per packet instead of creating a `Packet` with both addresses as text, and a
 * source is keyed by a {@link SourceKey} (a number for IPv4, an 8-character string for IPv6)
 * instead of its text. The text is formatted only when it is needed (log lines, commands).
 *
 * @module
 */

import { formatIpv6, parseIpv4, parseIpv6 } from "./address.ts";
import type { Family } from "./packet.ts";

/**
 * A source address as a map key: IPv4 as the 32 address bits read as a signed integer (a small
 * integer to V8, so a lookup allocates nothing), IPv6 as a string of 8 UTF-16 code units (one per
 * 16-bit group). The two never collide (number vs string).
 */
export type SourceKey = number | string;

/** The fields a frame is matched on, as numbers; one object is reused for every frame. */
export class FrameFields {
  /** IP version. */
  family: Family = 4;
  /** True for TCP, false for UDP. */
  tcp = false;
  /** Source port. */
  srcPort = 0;
  /** Destination port. */
  dstPort = 0;
  /** TCP flags byte; 0 for UDP. */
  tcpFlags = 0;
  /** Capture second. */
  tsSec = 0;
  /** Source address as 32-bit words (signed, big-endian): IPv4 in `src0` only, IPv6 in all four. */
  src0 = 0;
  /** Second word of an IPv6 source. */
  src1 = 0;
  /** Third word of an IPv6 source. */
  src2 = 0;
  /** Fourth word of an IPv6 source. */
  src3 = 0;
  /** Destination address as words, as for the source. */
  dst0 = 0;
  /** Second word of an IPv6 destination. */
  dst1 = 0;
  /** Third word of an IPv6 destination. */
  dst2 = 0;
  /** Fourth word of an IPv6 destination. */
  dst3 = 0;
}

/** An IPv6 key from four 32-bit words. */
function v6Key(w0: number, w1: number, w2: number, w3: number): string {
  return String.fromCharCode(
    w0 >>> 16,
    w0 & 0xffff,
    w1 >>> 16,
    w1 & 0xffff,
    w2 >>> 16,
    w2 & 0xffff,
    w3 >>> 16,
    w3 & 0xffff,
  );
}

/**
 * The {@link SourceKey} of a frame's source.
 *
 * @param f Fields filled by `peekFrame`.
 * @returns The key (allocates only for IPv6).
 */
export function fieldsSourceKey(f: FrameFields): SourceKey {
  return f.family === 4 ? f.src0 : v6Key(f.src0, f.src1, f.src2, f.src3);
}

/**
 * Address bytes as a {@link SourceKey}.
 *
 * @param bytes 4 or 16 bytes.
 * @returns The key.
 */
export function bytesKey(bytes: Uint8Array): SourceKey {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length === 4) return dv.getInt32(0);
  return v6Key(dv.getInt32(0), dv.getInt32(4), dv.getInt32(8), dv.getInt32(12));
}

/**
 * The {@link SourceKey} of an address in text (a packet's `src`). Text that is not an IP literal
 * (never the decoder's output) gets a key of its own that no address has.
 *
 * @param text Canonical address text.
 * @returns The key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { keyText, textKey } from "./fields.ts";
 * assert.equal(textKey("192.0.2.1"), 0xc0000201 | 0);
 * assert.equal(keyText(textKey("2001:db8::7")), "2001:db8::7");
 * ```
 */
export function textKey(text: string): SourceKey {
  const bytes = parseIpv4(text) ?? parseIpv6(text);
  // An address key is a number or exactly 8 code units long: this one is longer.
  return bytes === null ? `?${text.padEnd(8)}` : bytesKey(bytes);
}

/**
 * The canonical text of a {@link SourceKey} (as the decoder formats addresses).
 *
 * @param key A key from {@link fieldsSourceKey}, {@link bytesKey} or {@link textKey}.
 * @returns The address text.
 */
export function keyText(key: SourceKey): string {
  if (typeof key === "number") {
    return `${key >>> 24}.${(key >>> 16) & 255}.${(key >>> 8) & 255}.${key & 255}`;
  }
  if (key.length !== 8) return key.slice(1).trimEnd();
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const w = key.charCodeAt(i);
    bytes[2 * i] = w >> 8;
    bytes[2 * i + 1] = w & 255;
  }
  return formatIpv6(bytes);
}
