/**
 * IPv6 header (RFC 8200) and its extension-header chain. The fixed header is checked once: 40
 * bytes captured, version 6, payload length within the frame as it was on the wire. Then the
 * chain is followed to TCP or UDP through hop-by-hop options (0, first only), routing (43),
 * fragment (44; only offset 0 carries ports), destination options (60) and authentication
 * (51, RFC 4302: length in 4-byte units + 2), at most {@link MAX_EXTENSION_HEADERS} of them.
 * ESP (50), no-next-header (59) and anything else end the walk as `unsupported`. knockd 0.8
 * did not follow extension headers (docs/COMPATIBILITY.md B22); knocktool does.
 *
 * @module
 */

import type { Cursor } from "./cursor.ts";
import { fail } from "./cursor.ts";
import { IPPROTO_TCP, IPPROTO_UDP } from "./ipv4.ts";
import type { DecodeError } from "./packet.ts";

/** Length of the fixed IPv6 header. */
export const IPV6_HEADER_LEN = 40;

/** Longer extension-header chains are reported `unsupported`. */
export const MAX_EXTENSION_HEADERS = 8;

/** Every extension header is at least this long; the walk reads within these bytes. */
const EXT_MIN_LEN = 8;

/**
 * Checks the IPv6 header at `c.off` and walks its extension headers. On success: `c.src`/
 * `c.dst` point at the addresses, `c.off` at the transport header, `c.end` at the end of the
 * payload and `c.proto` is 6 or 17.
 *
 * @param dv A view of the frame's buffer (the cursor's offsets are positions in it).
 * @param c The cursor, after the link layer.
 * @returns An error (layer `ipv6` or `ipv6-ext`), or `undefined`.
 *
 * @example
 * ```ts
 * import { Cursor } from "./cursor.ts";
 * import { checkIpv6 } from "./ipv6.ts";
 * const ip = new Uint8Array(48);
 * ip[0] = 0x60;
 * ip[5] = 8; // payload length
 * ip[6] = 59; // no next header
 * const c = new Cursor();
 * c.reset(48, 48);
 * console.assert(checkIpv6(new DataView(ip.buffer), c)?.detail === "no next header");
 * ```
 */
export function checkIpv6(dv: DataView, c: Cursor): DecodeError | undefined {
  const at = c.off;
  if (at + IPV6_HEADER_LEN > c.cap) {
    return fail("ipv6", "truncated", at, `header needs 40 bytes, ${c.cap - at} captured`);
  }
  // Reads of the fixed header fall in [at, at + 40), checked just above.
  const version = dv.getUint8(at) >> 4;
  if (version !== 6) return fail("ipv6", "invalid", at, `version ${version} is not 6`);
  const payloadLen = dv.getUint16(at + 4);
  let nh = dv.getUint8(at + 6);
  if (payloadLen === 0 && nh === 0) {
    return fail("ipv6", "unsupported", at, "jumbogram (payload length 0) is not supported");
  }
  const end = at + IPV6_HEADER_LEN + payloadLen;
  if (end > c.wire) {
    return fail(
      "ipv6",
      "invalid",
      at,
      `payload length ${payloadLen} exceeds the ${
        c.wire - at - IPV6_HEADER_LEN
      } bytes left in the frame`,
    );
  }
  let p = at + IPV6_HEADER_LEN;
  for (let n = 0; nh !== IPPROTO_TCP && nh !== IPPROTO_UDP; n++) {
    let len: number;
    if (nh === 0 || nh === 43 || nh === 60 || nh === 44 || nh === 51) {
      if (n === MAX_EXTENSION_HEADERS) {
        return fail(
          "ipv6-ext",
          "unsupported",
          p,
          `more than ${MAX_EXTENSION_HEADERS} extension headers`,
        );
      }
      if (nh === 0 && n !== 0) {
        return fail("ipv6-ext", "invalid", p, "hop-by-hop options header is not first");
      }
      if (p + EXT_MIN_LEN > end) {
        return fail(
          "ipv6-ext",
          "invalid",
          p,
          `extension header ${nh} needs 8 bytes, payload has ${end - p} left`,
        );
      }
      if (p + EXT_MIN_LEN > c.cap) {
        return fail(
          "ipv6-ext",
          "truncated",
          p,
          `extension header ${nh} needs 8 bytes, ${c.cap - p} captured`,
        );
      }
      // Reads below fall in [p, p + 8), checked just above.
      if (nh === 44) {
        const fragOffset = dv.getUint16(p + 2) >> 3;
        if (fragOffset !== 0) {
          return fail(
            "ipv6-ext",
            "unsupported",
            p,
            `fragment at offset ${fragOffset * 8} carries no ports`,
          );
        }
        c.fragment = true;
        len = 8;
      } else if (nh === 51) {
        len = (dv.getUint8(p + 1) + 2) * 4;
      } else {
        len = (dv.getUint8(p + 1) + 1) * 8;
      }
      if (p + len > end) {
        return fail(
          "ipv6-ext",
          "invalid",
          p,
          `extension header ${nh} length ${len} exceeds the ${end - p} bytes left in the payload`,
        );
      }
      nh = dv.getUint8(p);
      p += len;
    } else {
      // Reported against the header that names the unsupported protocol.
      const layer = n === 0 ? "ipv6" : "ipv6-ext";
      const where = n === 0 ? at : p;
      if (nh === 50) {
        return fail(layer, "unsupported", where, "ESP-encrypted payload has no visible ports");
      }
      if (nh === 59) return fail(layer, "unsupported", where, "no next header");
      return fail(layer, "unsupported", where, `next header ${nh} is not TCP or UDP`);
    }
  }
  c.proto = nh;
  c.src = at + 8;
  c.dst = at + 24;
  c.off = p;
  c.end = end;
  return undefined;
}
