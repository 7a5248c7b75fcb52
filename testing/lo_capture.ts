/**
 * Captures what a client puts on `lo` inside a test namespace: tcpdump writes a pcap file while a
 * callback runs, and the file is read back into plain records.
 *
 * The frames are parsed here by hand, not with `src/wire`'s decoder, so that the client tests do
 * not depend on the code under test elsewhere (a decoder bug cannot hide a client bug).
 *
 * @module
 */

import { strictEqual } from "node:assert/strict";
import { formatAddress } from "../src/wire/address.ts";
import { readPcap } from "../src/wire/pcapfile.ts";
import { type Netns, waitUntil } from "./netns.ts";

/** One TCP or UDP packet seen on `lo`. */
export interface CapturedPacket {
  family: 4 | 6;
  proto: "tcp" | "udp";
  /** Source address, as glibc's inet_ntop prints it. */
  src: string;
  /** Destination address, as glibc's inet_ntop prints it. */
  dst: string;
  srcPort: number;
  dstPort: number;
  /** TCP flags byte (0 for UDP). */
  flags: number;
  /** UDP payload length (0 for TCP). */
  payloadLen: number;
  /** Capture time in milliseconds since the epoch. */
  timeMs: number;
}

/**
 * Decodes the Ethernet/IPv4/IPv6/TCP/UDP packets of a tcpdump file of `lo` (no extension headers
 * there); anything else is skipped.
 *
 * @param bytes The pcap file.
 * @returns The TCP and UDP packets in capture order.
 * @throws {AssertionError} When the file is not an Ethernet capture.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeLoCapture } from "./lo_capture.ts";
 * import { writePcap } from "../src/wire/pcapfile.ts";
 * assert.equal(decodeLoCapture(writePcap(1, [])).length, 0, "an empty file has no packets");
 * ```
 */
export function decodeLoCapture(bytes: Uint8Array): CapturedPacket[] {
  const file = readPcap(bytes);
  strictEqual(file.linkType, 1, "lo captures as Ethernet");
  const out: CapturedPacket[] = [];
  for (const r of file.records) {
    const d = r.data;
    const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
    if (d.length < 14) continue;
    const type = dv.getUint16(12);
    let family: 4 | 6;
    let proto: number;
    let l4: number;
    let src: Uint8Array;
    let dst: Uint8Array;
    if (type === 0x0800 && d.length >= 34) {
      family = 4;
      proto = d[23] ?? 0;
      l4 = 14 + ((d[14] ?? 0) & 0x0f) * 4;
      src = d.slice(26, 30);
      dst = d.slice(30, 34);
    } else if (type === 0x86dd && d.length >= 54) {
      family = 6;
      proto = d[20] ?? 0;
      l4 = 54;
      src = d.slice(22, 38);
      dst = d.slice(38, 54);
    } else continue;
    if ((proto !== 6 && proto !== 17) || d.length < l4 + 8) continue;
    out.push({
      family,
      proto: proto === 6 ? "tcp" : "udp",
      src: formatAddress(src),
      dst: formatAddress(dst),
      srcPort: dv.getUint16(l4),
      dstPort: dv.getUint16(l4 + 2),
      flags: proto === 6 ? (d[l4 + 13] ?? 0) : 0,
      payloadLen: proto === 17 ? dv.getUint16(l4 + 4) - 8 : 0,
      timeMs: r.tsSec * 1000 + r.tsUsec / 1000,
    });
  }
  return out;
}

let captures = 0;

/** The end marker: a UDP datagram to the discard port whose payload is this many bytes. */
const MARKER_PORT = 9;
const MARKER_LEN = 29;

/** Sends the end marker inside `ns` (python3: `ip netns exec` cannot run Deno's own sockets). */
async function sendMarker(ns: Netns): Promise<void> {
  await ns.exec([
    "python3",
    "-c",
    "import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n" +
    `s.sendto(b"x" * ${MARKER_LEN}, ("127.0.0.1", ${MARKER_PORT}))`,
  ]);
}

function isMarker(p: CapturedPacket): boolean {
  return p.proto === "udp" && p.dstPort === MARKER_PORT && p.payloadLen === MARKER_LEN &&
    p.dst === "127.0.0.1";
}

/** The packets in the file so far, or null while its last record is still being written. */
function readSoFar(file: string): CapturedPacket[] | null {
  try {
    return decodeLoCapture(Deno.readFileSync(file));
  } catch {
    return null;
  }
}

/**
 * Runs `fn` while tcpdump captures `lo` in `ns`, and returns every TCP/UDP packet. Waits until
 * tcpdump listens; after `fn`, sends a marker datagram and waits until tcpdump has written it, so
 * every packet `fn` caused is in the file however slow the machine is (`-U` writes per packet;
 * `--immediate-mode` because this machine's packet sockets otherwise keep a buffered tail). The
 * marker (UDP to 127.0.0.1 port 9) is not returned.
 *
 * @param ns The test namespace.
 * @param fn What to capture.
 * @returns The packets seen.
 */
export async function captureLo(ns: Netns, fn: () => Promise<void>): Promise<CapturedPacket[]> {
  const n = ++captures;
  const file = `${ns.dir}/cap-${n}.pcap`;
  const p = ns.spawn(`tcpdump-${n}`, [
    "tcpdump",
    "-i",
    "lo",
    "-nn",
    "-U",
    "--immediate-mode",
    "-w",
    file,
    "tcp or udp",
  ]);
  try {
    await waitUntil(() => p.stderr().includes("listening on"), {
      what: "tcpdump to listen",
      context: () => p.describe(),
    });
    await fn();
    await sendMarker(ns);
    await waitUntil(() => readSoFar(file)?.some(isMarker) ?? false, {
      timeoutMs: 20_000,
      what: "tcpdump to write the end marker",
      context: () => p.describe(),
    });
  } finally {
    await p.stop("SIGINT");
  }
  const packets = decodeLoCapture(Deno.readFileSync(file));
  return packets.slice(0, packets.findIndex(isMarker));
}
