/**
 * IPv4 header (RFC 791). Checked once: 20 bytes captured, version 4, IHL ≥ 5, IHL × 4 ≤ total
 * length, total length within the frame as it was on the wire, options captured. Only a
 * packet with fragment offset 0 carries the transport header, so later fragments are
 * `unsupported`. The header checksum is not verified, as knockd does not (and on `lo` the
 * kernel may leave offloaded checksums unfilled).
 *
 * @module
 */

import type { Cursor } from "./cursor.ts";
import { fail } from "./cursor.ts";
import type { DecodeError } from "./packet.ts";

/** Length of an IPv4 header without options. */
export const IPV4_MIN_HEADER_LEN = 20;

/** IP protocol number of TCP. */
export const IPPROTO_TCP = 6;
/** IP protocol number of UDP. */
export const IPPROTO_UDP = 17;

/**
 * Checks the IPv4 header at `c.off`. On success: `c.src`/`c.dst` point at the addresses,
 * `c.off` at the transport header, `c.end` at the end of the datagram (total length; link
 * padding after it is ignored) and `c.proto` is 6 or 17.
 *
 * @param dv A view of the frame's buffer (the cursor's offsets are positions in it).
 * @param c The cursor, after the link layer.
 * @returns An error (`truncated`, `invalid`, or `unsupported` for a later fragment or a
 * protocol other than TCP/UDP), or `undefined`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Cursor } from "./cursor.ts";
 * import { checkIpv4 } from "./ipv4.ts";
 * const ip = new Uint8Array(20);
 * ip[0] = 0x45;
 * ip[3] = 20; // total length
 * ip[9] = 1; // ICMP
 * const c = new Cursor();
 * c.reset(20, 20);
 * assert.equal(checkIpv4(new DataView(ip.buffer), c)?.detail, "protocol 1 is not TCP or UDP");
 * ```
 */
export function checkIpv4(dv: DataView, c: Cursor): DecodeError | undefined {
  const at = c.off;
  if (at + IPV4_MIN_HEADER_LEN > c.cap) {
    return fail("ipv4", "truncated", at, `header needs 20 bytes, ${c.cap - at} captured`);
  }
  // All reads below fall in [at, at + 20), checked just above.
  const b0 = dv.getUint8(at);
  const version = b0 >> 4;
  if (version !== 4) return fail("ipv4", "invalid", at, `version ${version} is not 4`);
  const ihl = b0 & 0x0f;
  if (ihl < 5) return fail("ipv4", "invalid", at, `IHL ${ihl} is less than 5`);
  const hlen = ihl * 4;
  const total = dv.getUint16(at + 2);
  if (total < hlen) {
    return fail("ipv4", "invalid", at, `total length ${total} is less than header length ${hlen}`);
  }
  if (at + total > c.wire) {
    return fail(
      "ipv4",
      "invalid",
      at,
      `total length ${total} exceeds the ${c.wire - at} bytes left in the frame`,
    );
  }
  if (at + hlen > c.cap) {
    return fail("ipv4", "truncated", at, `header needs ${hlen} bytes, ${c.cap - at} captured`);
  }
  const flagsOffset = dv.getUint16(at + 6);
  const fragOffset = flagsOffset & 0x1fff;
  if (fragOffset !== 0) {
    return fail(
      "ipv4",
      "unsupported",
      at,
      `fragment at offset ${fragOffset * 8} carries no ports`,
    );
  }
  const proto = dv.getUint8(at + 9);
  if (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) {
    return fail("ipv4", "unsupported", at, `protocol ${proto} is not TCP or UDP`);
  }
  c.proto = proto;
  c.fragment = (flagsOffset & 0x2000) !== 0; // MF
  c.src = at + 12;
  c.dst = at + 16;
  c.off = at + hlen;
  c.end = at + total;
  return undefined;
}
