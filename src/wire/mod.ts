/**
 * Packet decoding for knocktool: captured frames → {@link Packet}s, plus the frame builder and
 * pcap savefile helpers used by tests, benchmarks and the client.
 *
 * @example
 * ```ts
 * import { buildIp, buildLinuxSll, decodeFrame, DLT } from "./mod.ts";
 * const f = buildLinuxSll(buildIp({
 *   family: 6, src: "2001:db8::1", dst: "2001:db8::2", protocol: "udp", srcPort: 1, dstPort: 9000,
 * }), 6);
 * const r = decodeFrame(DLT.LINUX_SLL, f, f.length, 0, 0);
 * console.assert(r.ok && r.packet.src === "2001:db8::1");
 * ```
 *
 * @module
 */

export * from "./packet.ts";
export { decodeFrame, isSupportedLinkType } from "./decode.ts";
export * from "./build.ts";
export * from "./pcapfile.ts";
