/**
 * decodeFrame on typical knock frames. Run with `deno bench bench/decode_bench.ts`; Deno
 * prints time per iteration and iterations per second, and each iteration decodes one frame,
 * so iter/s is packets per second (figures are machine- and load-dependent).
 *
 * @module
 */

import {
  buildEthernet,
  buildIp,
  buildLinuxSll,
  buildLinuxSll2,
  type SegmentSpec,
} from "../src/wire/build.ts";
import { decodeFrame } from "../src/wire/decode.ts";
import { DLT } from "../ffi/dlt.ts";

const v4Syn: SegmentSpec = {
  family: 4,
  src: "198.51.100.7",
  dst: "192.0.2.1",
  protocol: "tcp",
  srcPort: 40123,
  dstPort: 7000,
};
const v6Udp: SegmentSpec = {
  family: 6,
  src: "2001:db8::7",
  dst: "2001:db8::1",
  protocol: "udp",
  srcPort: 40123,
  dstPort: 9000,
};

const cases: [string, number, Uint8Array][] = [
  ["Ethernet IPv4 TCP SYN", DLT.EN10MB, buildEthernet(buildIp(v4Syn), 4)],
  ["Ethernet IPv6 UDP", DLT.EN10MB, buildEthernet(buildIp(v6Udp), 6)],
  ["Ethernet 802.1Q IPv4 TCP SYN", DLT.EN10MB, buildEthernet(buildIp(v4Syn), 4, { vlan: [100] })],
  ["Ethernet QinQ IPv6 UDP", DLT.EN10MB, buildEthernet(buildIp(v6Udp), 6, { vlan: [10, 20] })],
  ["LINUX_SLL IPv4 TCP SYN", DLT.LINUX_SLL, buildLinuxSll(buildIp(v4Syn), 4)],
  ["LINUX_SLL2 IPv6 UDP", DLT.LINUX_SLL2, buildLinuxSll2(buildIp(v6Udp), 6)],
];

// A frame the pre-filter would normally spare us, as the worst cheap case: ARP (unsupported).
const arp = buildEthernet(buildIp(v4Syn), 4);
arp[12] = 0x08;
arp[13] = 0x06;
cases.push(["Ethernet ARP (rejected)", DLT.EN10MB, arp]);

let sink = 0;
for (const [name, linkType, frame] of cases) {
  if (!decodeFrame(linkType, frame, frame.length, 0, 0).ok && !name.includes("rejected")) {
    throw new Error(`Cannot benchmark "${name}": frame does not decode`);
  }
  Deno.bench({
    name: `decodeFrame: ${name}`,
    group: "decodeFrame",
    baseline: name === "Ethernet IPv4 TCP SYN",
    fn() {
      const r = decodeFrame(linkType, frame, frame.length, 1_700_000_000, 0);
      sink += r.ok ? r.packet.dstPort : 1;
    },
  });
}

// One batch of 1,000 SYNs with distinct sources, as a capture drain hands them over; iter/s ×
// 1000 = packets per second including address-string building for varied addresses.
const batch = Array.from({ length: 1000 }, (_, i) =>
  buildEthernet(
    buildIp({ ...v4Syn, src: `198.51.${(i >> 8) & 0xff}.${i & 0xff}`, srcPort: 1024 + i }),
    4,
  ));
Deno.bench({
  name: "decodeFrame: batch of 1000 Ethernet IPv4 SYNs (×1000 packets)",
  fn() {
    for (const f of batch) {
      const r = decodeFrame(DLT.EN10MB, f, f.length, 1_700_000_000, 0);
      if (r.ok) sink += r.packet.srcPort;
    }
  },
});

// The same 1000 frames as views into one buffer, as the capture loop's batched drain hands
// them over: one DataView serves the whole batch.
const packed = new Uint8Array(batch.reduce((n, f) => n + f.length + 16, 0));
const views: Uint8Array[] = [];
{
  let at = 0;
  for (const f of batch) {
    at += 16; // where a pcap record header would sit
    packed.set(f, at);
    views.push(packed.subarray(at, at + f.length));
    at += f.length;
  }
}
Deno.bench({
  name: "decodeFrame: batch of 1000 SYNs in one buffer (×1000 packets)",
  fn() {
    for (const f of views) {
      const r = decodeFrame(DLT.EN10MB, f, f.length, 1_700_000_000, 0);
      if (r.ok) sink += r.packet.srcPort;
    }
  },
});

globalThis.addEventListener("unload", () => {
  if (sink === -1) console.log(sink); // keeps `sink` observable so work is not optimised away
});
