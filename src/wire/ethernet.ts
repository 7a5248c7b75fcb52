/**
 * Ethernet II (DLT_EN10MB): destination MAC, source MAC, EtherType; 14 bytes, no FCS (Linux
 * captures strip it). Tags after the EtherType are handled by `vlan.ts`.
 *
 * @module
 */

import type { Cursor } from "./_cursor.ts";
import { fail } from "./_cursor.ts";
import type { DecodeError } from "./packet.ts";

/** Length of an Ethernet II header. */
export const ETHERNET_HEADER_LEN = 14;

/**
 * Checks an Ethernet II header at the start of the frame; on success `c.proto` is its
 * EtherType and `c.off` the offset after it.
 *
 * @param dv The frame.
 * @param c The cursor, reset for this frame.
 * @returns An error, or `undefined`.
 *
 * @example
 * ```ts
 * import { Cursor } from "./_cursor.ts";
 * import { checkEthernet } from "./ethernet.ts";
 * const f = new Uint8Array(14);
 * f[12] = 0x86;
 * f[13] = 0xdd;
 * const c = new Cursor();
 * c.reset(14, 14);
 * console.assert(checkEthernet(new DataView(f.buffer), c) === undefined && c.proto === 0x86dd);
 * ```
 */
export function checkEthernet(dv: DataView, c: Cursor): DecodeError | undefined {
  if (c.cap < ETHERNET_HEADER_LEN) {
    return fail("link", "truncated", 0, `Ethernet header needs 14 bytes, ${c.cap} captured`);
  }
  c.proto = dv.getUint16(12);
  c.off = ETHERNET_HEADER_LEN;
  return undefined;
}
