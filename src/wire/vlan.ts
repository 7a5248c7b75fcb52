/**
 * IEEE 802.1Q/802.1ad tags after an Ethernet or Linux cooked header: TPID 0x8100 (C-tag), 0x88a8
 * (S-tag) and the pre-standard 0x9100, stacked any way (QinQ), up to {@link MAX_VLAN_TAGS}. libpcap
 * re-inserts tags the kernel stripped, so captured frames carry them in line. knockd 0.8 dropped
 * every tagged frame (docs/COMPATIBILITY.md B22); knocktool looks through.
 *
 * @module
 */

import type { Cursor } from "./cursor.ts";
import { fail } from "./cursor.ts";
import type { DecodeError } from "./packet.ts";

/** Bytes per tag: TCI (2) then the next EtherType (2); the TPID is the previous EtherType. */
export const VLAN_TAG_LEN = 4;

/** More tags than this are reported `unsupported` (real QinQ uses two). */
export const MAX_VLAN_TAGS = 8;

/**
 * Whether an EtherType announces a VLAN tag.
 *
 * @param etherType The EtherType.
 * @returns `true` for 0x8100, 0x88a8 and 0x9100.
 *
 * @example
 * ```ts
 * import { isVlanTpid } from "./vlan.ts";
 * console.assert(isVlanTpid(0x88a8) && !isVlanTpid(0x0800));
 * ```
 */
export function isVlanTpid(etherType: number): boolean {
  return etherType === 0x8100 || etherType === 0x88a8 || etherType === 0x9100;
}

/**
 * Skips the VLAN tags starting at `c.off` while `c.proto` is a tag TPID, leaving `c.proto` at
 * the inner EtherType and `c.off` after the last tag.
 *
 * @param dv A view of the frame's buffer (the cursor's offsets are positions in it).
 * @param c The cursor (`proto` = EtherType just read, `off` = where its payload starts).
 * @returns An error, or `undefined` when the tags were skipped.
 *
 * @example
 * ```ts
 * import { Cursor } from "./cursor.ts";
 * import { skipVlanTags } from "./vlan.ts";
 * const f = new Uint8Array([0x00, 0x64, 0x08, 0x00]); // VID 100, then IPv4
 * const c = new Cursor();
 * c.reset(4, 4);
 * c.proto = 0x8100;
 * console.assert(skipVlanTags(new DataView(f.buffer), c) === undefined && c.proto === 0x0800);
 * ```
 */
export function skipVlanTags(dv: DataView, c: Cursor): DecodeError | undefined {
  let n = 0;
  while (isVlanTpid(c.proto)) {
    if (n === MAX_VLAN_TAGS) {
      return fail("vlan", "unsupported", c.off, `more than ${MAX_VLAN_TAGS} VLAN tags`);
    }
    if (c.off + VLAN_TAG_LEN > c.cap) {
      return fail("vlan", "truncated", c.off, `VLAN tag needs 4 bytes, ${c.cap - c.off} captured`);
    }
    // In bounds: checked just above.
    c.proto = dv.getUint16(c.off + 2);
    c.off += VLAN_TAG_LEN;
    n++;
  }
  return undefined;
}
