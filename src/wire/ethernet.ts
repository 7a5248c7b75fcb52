/**
 * Ethernet II (DLT_EN10MB): destination MAC, source MAC, EtherType; 14 bytes, no FCS (Linux
 * captures strip it). Tags after the EtherType are handled by `vlan.ts`.
 *
 * @module
 */

import type { Cursor } from "./cursor.ts";
import { fail } from "./cursor.ts";
import type { DecodeError } from "./packet.ts";

/** Length of an Ethernet II header. */
export const ETHERNET_HEADER_LEN = 14;

/**
 * Checks an Ethernet II header at the start of the frame; on success `c.proto` is its
 * EtherType and `c.off` the offset after it.
 *
 * @param dv A view of the frame's buffer (the cursor's offsets are positions in it).
 * @param c The cursor, reset for this frame.
 * @returns An error, or `undefined`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Cursor } from "./cursor.ts";
 * import { checkEthernet } from "./ethernet.ts";
 * const f = new Uint8Array(14);
 * f[12] = 0x86;
 * f[13] = 0xdd;
 * const c = new Cursor();
 * c.reset(14, 14);
 * assert.equal(checkEthernet(new DataView(f.buffer), c), undefined);
 * assert.equal(c.proto, 0x86dd);
 * ```
 */
export function checkEthernet(dv: DataView, c: Cursor): DecodeError | undefined {
  const at = c.base;
  if (c.cap - at < ETHERNET_HEADER_LEN) {
    return fail("link", "truncated", at, `Ethernet header needs 14 bytes, ${c.cap - at} captured`);
  }
  c.proto = dv.getUint16(at + 12);
  c.off = at + ETHERNET_HEADER_LEN;
  return undefined;
}
