/**
 * Raw IP links: DLT_RAW (12), LINKTYPE_RAW (101), LINKTYPE_IPV4 (228) and LINKTYPE_IPV6 (229).
 * No link header; the IP version nibble decides between IPv4 and IPv6 for all four, so a 228
 * frame holding IPv6 decodes as IPv6 (libpcap writes 228/229 only for what it saw). knockd 0.8
 * dropped IPv6 on raw links (docs/COMPATIBILITY.md B22); knocktool decodes it.
 *
 * @module
 */

import type { Cursor } from "./cursor.ts";
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6, fail } from "./cursor.ts";
import type { DecodeError } from "./packet.ts";

/**
 * Picks IPv4 or IPv6 from the first byte of a raw-IP frame; on success `c.proto` is the
 * matching EtherType and `c.off` 0.
 *
 * @param dv A view of the frame's buffer (the cursor's offsets are positions in it).
 * @param c The cursor, reset for this frame.
 * @returns An error, or `undefined`.
 *
 * @example
 * ```ts
 * import { Cursor } from "./cursor.ts";
 * import { checkRaw } from "./raw.ts";
 * const c = new Cursor();
 * c.reset(1, 1);
 * console.assert(checkRaw(new DataView(new Uint8Array([0x60]).buffer), c) === undefined);
 * console.assert(c.proto === 0x86dd);
 * ```
 */
export function checkRaw(dv: DataView, c: Cursor): DecodeError | undefined {
  const at = c.base;
  if (c.cap <= at) return fail("link", "truncated", at, "raw IP frame is empty");
  const v = dv.getUint8(at) >> 4;
  if (v === 4) c.proto = ETHERTYPE_IPV4;
  else if (v === 6) c.proto = ETHERTYPE_IPV6;
  else return fail("link", "unsupported", at, `IP version ${v} is not 4 or 6`);
  c.off = at;
  return undefined;
}
