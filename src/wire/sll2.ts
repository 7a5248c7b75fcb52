/**
 * Linux cooked-mode capture v2 (DLT_LINUX_SLL2 276): protocol (2), reserved (2), interface
 * index (4), ARPHRD type (2), packet type (1), link-address length (1), link address (8).
 * knockd 0.8 refused this link type; knocktool decodes it.
 *
 * @module
 */

import type { Cursor } from "./cursor.ts";
import { fail } from "./cursor.ts";
import type { DecodeError } from "./packet.ts";

/** Length of a LINUX_SLL2 header. */
export const SLL2_HEADER_LEN = 20;

/**
 * Checks a LINUX_SLL2 header; on success `c.proto` is its protocol field and `c.off` 20.
 *
 * @param dv A view of the frame's buffer (the cursor's offsets are positions in it).
 * @param c The cursor, reset for this frame.
 * @returns An error, or `undefined`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Cursor } from "./cursor.ts";
 * import { checkSll2 } from "./sll2.ts";
 * const f = new Uint8Array(20);
 * f[0] = 0x86;
 * f[1] = 0xdd;
 * const c = new Cursor();
 * c.reset(20, 20);
 * assert.equal(checkSll2(new DataView(f.buffer), c), undefined);
 * assert.equal(c.proto, 0x86dd);
 * ```
 */
export function checkSll2(dv: DataView, c: Cursor): DecodeError | undefined {
  const at = c.base;
  if (c.cap - at < SLL2_HEADER_LEN) {
    return fail(
      "link",
      "truncated",
      at,
      `LINUX_SLL2 header needs 20 bytes, ${c.cap - at} captured`,
    );
  }
  c.proto = dv.getUint16(at + 0);
  c.off = at + SLL2_HEADER_LEN;
  return undefined;
}
