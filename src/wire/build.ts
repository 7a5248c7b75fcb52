/**
 * Builds valid frames for tests, benchmarks and the knock client: TCP/UDP segments with correct
 * checksums inside IPv4/IPv6 packets inside Ethernet (optionally VLAN-tagged), Linux cooked
 * (SLL/SLL2) or BSD loopback headers. Not on the capture path: it allocates freely and throws on
 * bad input.
 *
 * @module
 */

import { parseIpv4, parseIpv6 } from "./address.ts";

export { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from "./address.ts";

export { TCP_FLAGS } from "./tcp_flags.ts";
import { TCP_FLAGS } from "./tcp_flags.ts";

/** What to put in a TCP or UDP segment and the IP packet around it. */
export interface SegmentSpec {
  /** IP version. */
  family: 4 | 6;
  /** Source address text (must match `family`). */
  src: string;
  /** Destination address text (must match `family`). */
  dst: string;
  /** Transport protocol. */
  protocol: "tcp" | "udp";
  /** Source port, 0–65535. */
  srcPort: number;
  /** Destination port, 0–65535. */
  dstPort: number;
  /** TCP flags byte; default SYN. Ignored for UDP. */
  tcpFlags?: number;
  /** Bytes after the transport header; default none. */
  payload?: Uint8Array;
  /** IPv4 TTL or IPv6 hop limit; default 64. */
  ttl?: number;
  /** TCP sequence number; default 0. */
  seq?: number;
  /** TCP window; default 64240. */
  window?: number;
}

/**
 * Computes the Internet checksum (RFC 1071) over the concatenation of `parts`: the ones'
 * complement of the ones'-complement sum of 16-bit big-endian words, an odd final byte padded
 * with zero. Parts of odd length are joined byte-exactly, as if concatenated.
 *
 * @param parts The byte ranges to sum, in order.
 * @returns The 16-bit checksum to store in the header; a range that already holds a correct
 * checksum sums to 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { internetChecksum } from "./build.ts";
 * // RFC 1071 section 3 example: sum 0xddf2, checksum 0x220d.
 * const data = new Uint8Array([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
 * assert.equal(internetChecksum(data), 0x220d);
 * ```
 */
export function internetChecksum(...parts: Uint8Array[]): number {
  let sum = 0;
  let odd = false; // whether the next byte is the low byte of a word
  for (const p of parts) {
    for (let i = 0; i < p.length; i++) {
      sum += odd ? p[i]! : p[i]! << 8;
      odd = !odd;
    }
    // Fold often enough that the sum stays a small integer.
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function checkPort(name: string, port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`Cannot build segment: ${name} "${port}" must be an integer 0-65535`);
  }
}

function addressBytes(family: 4 | 6, text: string): Uint8Array {
  const b = family === 4 ? parseIpv4(text) : parseIpv6(text);
  if (b === null) {
    throw new TypeError(
      `Cannot build packet: address "${text}" is not a valid IPv${family} address`,
    );
  }
  return b;
}

function pseudoHeader(spec: SegmentSpec, length: number): Uint8Array {
  const src = addressBytes(spec.family, spec.src);
  const dst = addressBytes(spec.family, spec.dst);
  const proto = spec.protocol === "tcp" ? 6 : 17;
  if (spec.family === 4) {
    const p = new Uint8Array(12);
    p.set(src, 0);
    p.set(dst, 4);
    p[9] = proto;
    p[10] = length >> 8;
    p[11] = length & 0xff;
    return p;
  }
  const p = new Uint8Array(40);
  p.set(src, 0);
  p.set(dst, 16);
  new DataView(p.buffer).setUint32(32, length);
  p[39] = proto;
  return p;
}

/**
 * Builds a TCP header (20 bytes, no options) or UDP header (8 bytes) followed by the payload,
 * with the checksum computed over the pseudo-header from `src` and `dst`.
 *
 * @param spec What to build.
 * @returns The segment.
 * @throws {TypeError} When an address does not parse for `family`.
 * @throws {RangeError} When a port is out of range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildTransport } from "./build.ts";
 * const seg = buildTransport({
 *   family: 4, src: "192.0.2.1", dst: "192.0.2.2", protocol: "udp", srcPort: 1, dstPort: 7000,
 * });
 * assert.equal(seg.length, 8);
 * assert.equal(seg[3], 0x58);
 * ```
 */
export function buildTransport(spec: SegmentSpec): Uint8Array {
  checkPort("srcPort", spec.srcPort);
  checkPort("dstPort", spec.dstPort);
  const payload = spec.payload ?? new Uint8Array(0);
  const hlen = spec.protocol === "tcp" ? 20 : 8;
  const seg = new Uint8Array(hlen + payload.length);
  const dv = new DataView(seg.buffer);
  dv.setUint16(0, spec.srcPort);
  dv.setUint16(2, spec.dstPort);
  if (spec.protocol === "tcp") {
    dv.setUint32(4, (spec.seq ?? 0) >>> 0);
    seg[12] = 5 << 4;
    seg[13] = (spec.tcpFlags ?? TCP_FLAGS.SYN) & 0xff;
    dv.setUint16(14, spec.window ?? 64240);
  } else {
    dv.setUint16(4, seg.length);
  }
  seg.set(payload, hlen);
  let sum = internetChecksum(pseudoHeader(spec, seg.length), seg);
  // RFC 768: a computed UDP checksum of 0 is sent as all ones (0 means "no checksum").
  if (spec.protocol === "udp" && sum === 0) sum = 0xffff;
  dv.setUint16(spec.protocol === "tcp" ? 16 : 6, sum);
  return seg;
}

/**
 * Builds an IPv4 packet (20-byte header, DF set, header checksum) or an IPv6 packet (40-byte
 * header, no extension headers) around {@link buildTransport}'s segment.
 *
 * @param spec What to build.
 * @returns The IP packet.
 * @throws {TypeError} When an address does not parse for `family`.
 * @throws {RangeError} When a port is out of range or the packet is too long for its length field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildIp } from "./build.ts";
 * const ip = buildIp({
 *   family: 6, src: "::1", dst: "::1", protocol: "tcp", srcPort: 40000, dstPort: 7000,
 * });
 * assert.equal(ip.length, 60);
 * assert.equal(ip[0], 0x60);
 * assert.equal(ip[6], 6);
 * ```
 */
export function buildIp(spec: SegmentSpec): Uint8Array {
  const seg = buildTransport(spec);
  const src = addressBytes(spec.family, spec.src);
  const dst = addressBytes(spec.family, spec.dst);
  const proto = spec.protocol === "tcp" ? 6 : 17;
  const ttl = spec.ttl ?? 64;
  if (spec.family === 4) {
    const total = 20 + seg.length;
    if (total > 65535) {
      throw new RangeError(`Cannot build packet: IPv4 length "${total}" must be at most 65535`);
    }
    const p = new Uint8Array(total);
    const dv = new DataView(p.buffer);
    p[0] = 0x45;
    dv.setUint16(2, total);
    dv.setUint16(6, 0x4000); // DF, offset 0
    p[8] = ttl;
    p[9] = proto;
    p.set(src, 12);
    p.set(dst, 16);
    dv.setUint16(10, internetChecksum(p.subarray(0, 20)));
    p.set(seg, 20);
    return p;
  }
  if (seg.length > 65535) {
    throw new RangeError(
      `Cannot build packet: IPv6 payload length "${seg.length}" must be at most 65535`,
    );
  }
  const p = new Uint8Array(40 + seg.length);
  const dv = new DataView(p.buffer);
  dv.setUint32(0, 0x60000000);
  dv.setUint16(4, seg.length);
  p[6] = proto;
  p[7] = ttl;
  p.set(src, 8);
  p.set(dst, 24);
  p.set(seg, 40);
  return p;
}

const DEFAULT_DST_MAC = new Uint8Array([0x02, 0, 0, 0, 0, 0x02]);
const DEFAULT_SRC_MAC = new Uint8Array([0x02, 0, 0, 0, 0, 0x01]);

/** EtherType of an IP version. */
function etherType(family: 4 | 6): number {
  return family === 4 ? 0x0800 : 0x86dd;
}

/**
 * Wraps an IP packet in an Ethernet II header, optionally with VLAN tags. `vlan` lists tag
 * control values outermost first; every tag but the innermost uses TPID 0x88a8 (802.1ad
 * S-tag), the innermost 0x8100 (802.1Q C-tag). Each value is the 16-bit TCI: the VLAN id in
 * the low 12 bits, priority and DEI above it.
 *
 * @param ipPacket The IP packet.
 * @param family Its IP version, which selects the EtherType.
 * @param opts Tags and MAC addresses (defaults 02:00:00:00:00:01 → 02:00:00:00:00:02).
 * @returns The frame (no FCS, no padding).
 * @throws {RangeError} When a tag value is not 0–65535 or a MAC is not 6 bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildEthernet } from "./build.ts";
 * const f = buildEthernet(new Uint8Array(20), 4, { vlan: [100, 200] });
 * assert.equal(f.length, 42);
 * assert.equal(f[12], 0x88);
 * assert.equal(f[16], 0x81);
 * assert.equal(f[20], 0x08);
 * ```
 */
export function buildEthernet(
  ipPacket: Uint8Array,
  family: 4 | 6,
  opts?: { vlan?: number[]; src?: Uint8Array; dst?: Uint8Array },
): Uint8Array {
  const tags = opts?.vlan ?? [];
  const dst = opts?.dst ?? DEFAULT_DST_MAC;
  const src = opts?.src ?? DEFAULT_SRC_MAC;
  if (dst.length !== 6 || src.length !== 6) {
    throw new RangeError(
      `Cannot build frame: MAC address length "${
        dst.length !== 6 ? dst.length : src.length
      }" must be 6`,
    );
  }
  const f = new Uint8Array(14 + 4 * tags.length + ipPacket.length);
  const dv = new DataView(f.buffer);
  f.set(dst, 0);
  f.set(src, 6);
  let at = 12;
  tags.forEach((tci, i) => {
    if (!Number.isInteger(tci) || tci < 0 || tci > 0xffff) {
      throw new RangeError(`Cannot build frame: VLAN tag "${tci}" must be an integer 0-65535`);
    }
    dv.setUint16(at, i === tags.length - 1 ? 0x8100 : 0x88a8);
    dv.setUint16(at + 2, tci);
    at += 4;
  });
  dv.setUint16(at, etherType(family));
  f.set(ipPacket, at + 2);
  return f;
}

/**
 * Wraps an IP packet in a Linux cooked-mode header v1 (LINKTYPE_LINUX_SLL, 16 bytes), as
 * libpcap produces on the `any` device: packet type "sent to us" (0), ARPHRD_ETHER, a 6-byte
 * source address.
 *
 * @param ipPacket The IP packet.
 * @param family Its IP version, which selects the protocol field.
 * @returns The frame.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildLinuxSll } from "./build.ts";
 * const f = buildLinuxSll(new Uint8Array(40), 6);
 * assert.equal(f.length, 56);
 * assert.equal(f[14], 0x86);
 * assert.equal(f[15], 0xdd);
 * ```
 */
export function buildLinuxSll(ipPacket: Uint8Array, family: 4 | 6): Uint8Array {
  const f = new Uint8Array(16 + ipPacket.length);
  const dv = new DataView(f.buffer);
  dv.setUint16(0, 0); // PACKET_HOST
  dv.setUint16(2, 1); // ARPHRD_ETHER
  dv.setUint16(4, 6);
  f.set(DEFAULT_SRC_MAC, 6);
  dv.setUint16(14, etherType(family));
  f.set(ipPacket, 16);
  return f;
}

/**
 * Wraps an IP packet in a Linux cooked-mode header v2 (LINKTYPE_LINUX_SLL2, 20 bytes).
 *
 * @param ipPacket The IP packet.
 * @param family Its IP version, which selects the protocol field.
 * @param ifIndex Interface index to record (default 1).
 * @returns The frame.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildLinuxSll2 } from "./build.ts";
 * const f = buildLinuxSll2(new Uint8Array(20), 4);
 * assert.equal(f.length, 40);
 * assert.equal(f[0], 0x08);
 * assert.equal(f[1], 0x00);
 * ```
 */
export function buildLinuxSll2(ipPacket: Uint8Array, family: 4 | 6, ifIndex = 1): Uint8Array {
  const f = new Uint8Array(20 + ipPacket.length);
  const dv = new DataView(f.buffer);
  dv.setUint16(0, etherType(family));
  dv.setUint32(4, ifIndex);
  dv.setUint16(8, 1); // ARPHRD_ETHER
  f[10] = 0; // PACKET_HOST
  f[11] = 6;
  f.set(DEFAULT_SRC_MAC, 12);
  f.set(ipPacket, 20);
  return f;
}

/**
 * Wraps an IP packet in a BSD loopback header: DLT_NULL (address family in the capturing
 * host's byte order, here little-endian) or, with `loop`, DLT_LOOP (network byte order).
 *
 * @param ipPacket The IP packet.
 * @param family Its IP version.
 * @param opts `loop` for DLT_LOOP; `af` to override the family value (default 2 for IPv4, 30
 * for IPv6 as on macOS); `bigEndian` to write a DLT_NULL header as a big-endian host would.
 * @returns The frame.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildNull } from "./build.ts";
 * assert.equal(buildNull(new Uint8Array(20), 4)[0], 2);
 * assert.equal(buildNull(new Uint8Array(20), 4, { loop: true })[3], 2);
 * ```
 */
export function buildNull(
  ipPacket: Uint8Array,
  family: 4 | 6,
  opts?: { loop?: boolean; af?: number; bigEndian?: boolean },
): Uint8Array {
  const f = new Uint8Array(4 + ipPacket.length);
  const af = opts?.af ?? (family === 4 ? 2 : 30);
  new DataView(f.buffer).setUint32(0, af, !(opts?.loop || opts?.bigEndian));
  f.set(ipPacket, 4);
  return f;
}
