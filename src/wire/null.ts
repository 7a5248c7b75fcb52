/**
 * BSD loopback encapsulation: a 4-byte address family before the IP packet. DLT_NULL (0)
 * stores it in the capturing host's byte order, which a savefile may not share with the
 * reader, so (as tcpdump does) a value with any of its upper 16 bits set is read byte-swapped.
 * DLT_LOOP (108) stores it in network byte order. AF_INET is 2 everywhere; AF_INET6 is 10
 * (Linux), 24 (NetBSD, OpenBSD, BSD/OS), 28 (FreeBSD, DragonFly) or 30 (macOS).
 *
 * @module
 */

import type { Cursor } from "./cursor.ts";
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6, fail } from "./cursor.ts";
import type { DecodeError } from "./packet.ts";

/** Length of the DLT_NULL / DLT_LOOP header. */
export const NULL_HEADER_LEN = 4;

/**
 * Maps a BSD address family to an EtherType.
 *
 * @param af The address family value.
 * @returns 0x0800, 0x86dd, or -1 when it is neither IPv4 nor IPv6 on any OS.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { familyToEtherType } from "./null.ts";
 * assert.equal(familyToEtherType(30), 0x86dd);
 * assert.equal(familyToEtherType(7), -1);
 * ```
 */
export function familyToEtherType(af: number): number {
  if (af === 2) return ETHERTYPE_IPV4;
  if (af === 10 || af === 24 || af === 28 || af === 30) return ETHERTYPE_IPV6;
  return -1;
}

/**
 * Checks a DLT_NULL (`loop` false) or DLT_LOOP (`loop` true) header; on success `c.proto` is
 * the EtherType its family stands for and `c.off` 4.
 *
 * @param dv A view of the frame's buffer (the cursor's offsets are positions in it).
 * @param c The cursor, reset for this frame.
 * @param loop Whether the family is in network byte order (DLT_LOOP).
 * @returns An error, or `undefined`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Cursor } from "./cursor.ts";
 * import { checkNull } from "./null.ts";
 * const c = new Cursor();
 * c.reset(4, 4);
 * const dv = new DataView(new Uint8Array([0, 0, 0, 24]).buffer);
 * assert.equal(checkNull(dv, c, true), undefined);
 * assert.equal(c.proto, 0x86dd);
 * ```
 */
export function checkNull(dv: DataView, c: Cursor, loop: boolean): DecodeError | undefined {
  const name = loop ? "LOOP" : "NULL";
  const at = c.base;
  if (c.cap - at < NULL_HEADER_LEN) {
    return fail("link", "truncated", at, `${name} header needs 4 bytes, ${c.cap - at} captured`);
  }
  let af = dv.getUint32(at, !loop);
  if (!loop && af > 0xffff) af = dv.getUint32(at, false);
  const et = familyToEtherType(af);
  if (et < 0) {
    return fail("link", "unsupported", at, `address family ${af} is not IPv4 or IPv6`);
  }
  c.proto = et;
  c.off = at + NULL_HEADER_LEN;
  return undefined;
}
