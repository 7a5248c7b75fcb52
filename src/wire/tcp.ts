/**
 * TCP header (RFC 9293). Checked once: the 20-byte header fits in the IP payload and was
 * captured, data offset ≥ 5, and the options it announces fit in both. The checksum is not
 * verified (knockd does not, and `lo` captures carry offloaded, unfilled checksums).
 *
 * @module
 */

import type { Cursor } from "./cursor.ts";
import { fail } from "./cursor.ts";
import type { DecodeError } from "./packet.ts";

/** Length of a TCP header without options. */
export const TCP_MIN_HEADER_LEN = 20;

/**
 * Checks the TCP header at `c.off`, inside the IP payload ending at `c.end`. On success the
 * ports are at `c.off` and `c.off + 2`, the flags byte at `c.off + 13`.
 *
 * @param dv A view of the frame's buffer (the cursor's offsets are positions in it).
 * @param c The cursor, after the IP layer.
 * @returns An error, or `undefined`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Cursor } from "./cursor.ts";
 * import { checkTcp } from "./tcp.ts";
 * const seg = new Uint8Array(20);
 * seg[12] = 0x40; // data offset 4
 * const c = new Cursor();
 * c.reset(20, 20);
 * assert.equal(checkTcp(new DataView(seg.buffer), c)?.detail, "data offset 4 is less than 5");
 * ```
 */
export function checkTcp(dv: DataView, c: Cursor): DecodeError | undefined {
  const at = c.off;
  if (at + TCP_MIN_HEADER_LEN > c.end) {
    return fail("tcp", "invalid", at, `header needs 20 bytes, IP payload has ${c.end - at}`);
  }
  if (at + TCP_MIN_HEADER_LEN > c.cap) {
    return fail("tcp", "truncated", at, `header needs 20 bytes, ${c.cap - at} captured`);
  }
  // In bounds: [at, at + 20) checked just above.
  const dataOffset = dv.getUint8(at + 12) >> 4;
  if (dataOffset < 5) return fail("tcp", "invalid", at, `data offset ${dataOffset} is less than 5`);
  const hlen = dataOffset * 4;
  if (at + hlen > c.end) {
    return fail(
      "tcp",
      "invalid",
      at,
      `data offset ${dataOffset} (${hlen} bytes) exceeds the IP payload of ${c.end - at}`,
    );
  }
  if (at + hlen > c.cap) {
    return fail("tcp", "truncated", at, `header needs ${hlen} bytes, ${c.cap - at} captured`);
  }
  return undefined;
}
