/**
 * Helpers shared by the wire tests (not part of the module's API).
 *
 * @module
 */

import { buildIp, type SegmentSpec } from "../src/wire/build.ts";
import type { DecodeResult } from "../src/wire/packet.ts";

/** One line describing a result, compared as a whole in tests. */
export function summary(r: DecodeResult): string {
  if (r.ok) {
    const p = r.packet;
    return `${p.protocol} ${p.src}.${p.srcPort} > ${p.dst}.${p.dstPort} flags=0x${
      p.tcpFlags.toString(16)
    } len=${p.wireLen}`;
  }
  const e = r.error;
  return `${e.layer} ${e.kind} @${e.offset}: ${e.detail}`;
}

/** An IPv4 TCP SYN 192.0.2.1:40000 → 192.0.2.2:7000 (40 bytes), with overrides. */
export function v4(spec: Partial<SegmentSpec> = {}): Uint8Array {
  return buildIp({
    family: 4,
    src: "192.0.2.1",
    dst: "192.0.2.2",
    protocol: "tcp",
    srcPort: 40000,
    dstPort: 7000,
    ...spec,
  });
}

/** An IPv6 UDP 2001:db8::1:5000 → 2001:db8::2:9000 (48 bytes), with overrides. */
export function v6(spec: Partial<SegmentSpec> = {}): Uint8Array {
  return buildIp({
    family: 6,
    src: "2001:db8::1",
    dst: "2001:db8::2",
    protocol: "udp",
    srcPort: 5000,
    dstPort: 9000,
    ...spec,
  });
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Inserts IPv6 extension headers (each given whole, its next-header byte filled in here) between
 * the fixed header and the payload of `ip6`, fixing the chain and the payload length.
 */
export function withExtensions(ip6: Uint8Array, exts: { type: number; bytes: Uint8Array }[]) {
  const first = ip6[6]!;
  const fixed = ip6.slice(0, 40);
  const rest = ip6.subarray(40);
  const chain = exts.map((e, i) => {
    const b = e.bytes.slice();
    b[0] = i + 1 < exts.length ? exts[i + 1]!.type : first;
    return b;
  });
  if (exts.length > 0) fixed[6] = exts[0]!.type;
  const out = concat(fixed, ...chain, rest);
  new DataView(out.buffer).setUint16(4, out.length - 40);
  return out;
}
