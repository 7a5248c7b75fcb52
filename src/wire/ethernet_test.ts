import { strictEqual } from "node:assert/strict";
import { buildEthernet } from "./build.ts";
import { decodeFrame } from "./decode.ts";
import { DLT } from "../../ffi/dlt.ts";
import { summary, v4, v6 } from "../../testing/frames.ts";

const SYN_V4 = "tcp 192.0.2.1.40000 > 192.0.2.2.7000 flags=0x2";
const UDP_V6 = "udp 2001:db8::1.5000 > 2001:db8::2.9000 flags=0x0";

function decode(f: Uint8Array): string {
  return summary(decodeFrame(DLT.EN10MB, f, f.length, 0, 0));
}

Deno.test("Ethernet carries IPv4 and IPv6 by EtherType", () => {
  strictEqual(decode(buildEthernet(v4(), 4)), `${SYN_V4} len=54`);
  strictEqual(decode(buildEthernet(v6(), 6)), `${UDP_V6} len=62`);
});

Deno.test("Ethernet padding after the IP datagram is ignored", () => {
  const f = new Uint8Array(60); // minimum Ethernet frame: 6 bytes of padding after 54
  f.set(buildEthernet(v4(), 4));
  f.fill(0xaa, 54);
  strictEqual(decode(f), `${SYN_V4} len=60`);
});

Deno.test("Ethernet rejects short headers and other EtherTypes", () => {
  strictEqual(
    decode(new Uint8Array(13)),
    "link truncated @0: Ethernet header needs 14 bytes, 13 captured",
  );
  const arp = buildEthernet(v4(), 4);
  arp[12] = 0x08;
  arp[13] = 0x06;
  strictEqual(decode(arp), "link unsupported @14: EtherType 0x0806 is not IPv4 or IPv6");
  const llc = buildEthernet(v4(), 4);
  llc[12] = 0x00;
  llc[13] = 0x28; // an 802.3 length, not an EtherType
  strictEqual(decode(llc), "link unsupported @14: EtherType 0x0028 is not IPv4 or IPv6");
});

Deno.test("an EtherType that contradicts the IP version nibble is invalid", () => {
  strictEqual(decode(buildEthernet(v6(), 4)), "ipv4 invalid @14: version 6 is not 4");
  strictEqual(decode(buildEthernet(v4(), 6)), "ipv6 invalid @14: version 4 is not 6");
});

Deno.test("VLAN tags: 802.1Q, 802.1ad QinQ, 0x9100 and deep stacks are looked through", () => {
  strictEqual(decode(buildEthernet(v4(), 4, { vlan: [100] })), `${SYN_V4} len=58`);
  strictEqual(decode(buildEthernet(v6(), 6, { vlan: [10, 0xe014] })), `${UDP_V6} len=70`);
  const legacy = buildEthernet(v4(), 4, { vlan: [30, 40] });
  legacy[12] = 0x91;
  legacy[13] = 0x00;
  strictEqual(decode(legacy), `${SYN_V4} len=62`);
  const eight = [1, 2, 3, 4, 5, 6, 7, 8];
  strictEqual(decode(buildEthernet(v4(), 4, { vlan: eight })), `${SYN_V4} len=${54 + 32}`);
  strictEqual(
    decode(buildEthernet(v4(), 4, { vlan: [...eight, 9] })),
    "vlan unsupported @46: more than 8 VLAN tags",
  );
});

Deno.test("a VLAN tag cut short is truncated; a tagged non-IP frame is unsupported", () => {
  const f = buildEthernet(v4(), 4, { vlan: [100, 200] });
  strictEqual(decode(f.subarray(0, 20)), "vlan truncated @18: VLAN tag needs 4 bytes, 2 captured");
  f[20] = 0x08;
  f[21] = 0x06;
  strictEqual(decode(f), "link unsupported @22: EtherType 0x0806 is not IPv4 or IPv6");
});
