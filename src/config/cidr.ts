/**
 * CIDR blocks for `From` (docs/GRANTS.md): parsing `ADDR[/LEN]` and testing an address against
 * a list of blocks.
 *
 * @module
 */
import type { Cidr } from "./model.ts";
import { parseIpv4, parseIpv6 } from "../wire/address.ts";

/**
 * Parses `ADDR` or `ADDR/LEN` (IPv4 or IPv6). Host bits are cleared.
 *
 * @param text The block as written.
 * @returns The block, or null when it is not one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCidr } from "./cidr.ts";
 * assert.equal(parseCidr("192.0.2.7/24")?.prefix, 24);
 * assert.equal(parseCidr("2001:db8::/129"), null);
 * ```
 */
export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf("/");
  const addr = slash < 0 ? text : text.slice(0, slash);
  const b4 = parseIpv4(addr);
  const bytes = b4 ?? parseIpv6(addr);
  if (bytes === null) return null;
  const family = b4 !== null ? 4 : 6;
  const max = family === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const len = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(len) || Number(len) > max) return null;
    prefix = Number(len);
  }
  const net = new Uint8Array(bytes);
  for (let bit = prefix; bit < max; bit++) net[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return { family, bytes: net, prefix, text };
}

/**
 * Whether an address lies in one of the blocks.
 *
 * @param blocks The blocks.
 * @param address An address as text (IPv4 or IPv6).
 * @returns True when a block contains it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cidrsContain, parseCidr } from "./cidr.ts";
 * const blocks = [parseCidr("198.51.100.0/24")!, parseCidr("2001:db8::/32")!];
 * assert(cidrsContain(blocks, "198.51.100.9"));
 * assert(cidrsContain(blocks, "2001:db8::5"));
 * assert(!cidrsContain(blocks, "192.0.2.1"));
 * ```
 */
export function cidrsContain(blocks: readonly Cidr[], address: string): boolean {
  const b4 = parseIpv4(address);
  const bytes = b4 ?? parseIpv6(address);
  if (bytes === null) return false;
  const family = b4 !== null ? 4 : 6;
  for (const c of blocks) {
    if (c.family !== family) continue;
    let ok = true;
    for (let bit = 0; bit < c.prefix && ok; bit += 8) {
      const n = Math.min(8, c.prefix - bit);
      const mask = (0xff << (8 - n)) & 0xff;
      if (((bytes[bit >> 3]! ^ c.bytes[bit >> 3]!) & mask) !== 0) ok = false;
    }
    if (ok) return true;
  }
  return false;
}
