/**
 * Linux cooked-mode capture v1 (DLT_LINUX_SLL 113, what libpcap gives on the `any` device):
 * packet type (2), ARPHRD type (2), link-address length (2), link address (8), protocol (2).
 * The protocol field is an EtherType for IP; libpcap re-inserts VLAN tags after the header.
 *
 * @module
 */

import type { Cursor } from "./cursor.ts";
import { fail } from "./cursor.ts";
import type { DecodeError } from "./packet.ts";

/** Length of a LINUX_SLL header. */
export const SLL_HEADER_LEN = 16;

/**
 * Checks a LINUX_SLL header; on success `c.proto` is its protocol field and `c.off` 16.
 *
 * @param dv A view of the frame's buffer (the cursor's offsets are positions in it).
 * @param c The cursor, reset for this frame.
 * @returns An error, or `undefined`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Cursor } from "./cursor.ts";
 * import { checkSll } from "./sll.ts";
 * const f = new Uint8Array(16);
 * f[14] = 0x08;
 * const c = new Cursor();
 * c.reset(16, 16);
 * assert.equal(checkSll(new DataView(f.buffer), c), undefined);
 * assert.equal(c.proto, 0x0800);
 * ```
 */
export function checkSll(dv: DataView, c: Cursor): DecodeError | undefined {
  const at = c.base;
  if (c.cap - at < SLL_HEADER_LEN) {
    return fail("link", "truncated", at, `LINUX_SLL header needs 16 bytes, ${c.cap - at} captured`);
  }
  c.proto = dv.getUint16(at + 14);
  c.off = at + SLL_HEADER_LEN;
  return undefined;
}
