/**
 * UDP header (RFC 768). Checked once: 8 bytes within the IP payload and captured, length field
 * ≥ 8 and not beyond the IP payload (a shorter one is allowed: the rest is trailing bytes, as
 * Linux treats it; in a first fragment it counts the reassembled datagram, so it may exceed this
 * packet). The checksum is not verified.
 *
 * @module
 */

import type { Cursor } from "./cursor.ts";
import { fail } from "./cursor.ts";
import type { DecodeError } from "./packet.ts";

/** Length of a UDP header. */
export const UDP_HEADER_LEN = 8;

/**
 * Checks the UDP header at `c.off`, inside the IP payload ending at `c.end`. On success the
 * ports are at `c.off` and `c.off + 2`.
 *
 * @param dv A view of the frame's buffer (the cursor's offsets are positions in it).
 * @param c The cursor, after the IP layer.
 * @returns An error, or `undefined`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Cursor } from "./cursor.ts";
 * import { checkUdp } from "./udp.ts";
 * const c = new Cursor();
 * c.reset(8, 8);
 * const dv = new DataView(new Uint8Array([0, 1, 0, 2, 0, 9, 0, 0]).buffer);
 * assert.equal(checkUdp(dv, c)?.detail, "length 9 exceeds the IP payload of 8");
 * ```
 */
export function checkUdp(dv: DataView, c: Cursor): DecodeError | undefined {
  const at = c.off;
  if (at + UDP_HEADER_LEN > c.end) {
    return fail("udp", "invalid", at, `header needs 8 bytes, IP payload has ${c.end - at}`);
  }
  if (at + UDP_HEADER_LEN > c.cap) {
    return fail("udp", "truncated", at, `header needs 8 bytes, ${c.cap - at} captured`);
  }
  // In bounds: [at, at + 8) checked just above.
  const len = dv.getUint16(at + 4);
  if (len < UDP_HEADER_LEN) return fail("udp", "invalid", at, `length ${len} is less than 8`);
  // A first fragment's length field counts the whole reassembled datagram.
  if (at + len > c.end && !c.fragment) {
    return fail("udp", "invalid", at, `length ${len} exceeds the IP payload of ${c.end - at}`);
  }
  return undefined;
}
