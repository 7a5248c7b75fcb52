import { strictEqual, throws } from "node:assert/strict";
import {
  buildEthernet,
  buildIp,
  buildLinuxSll,
  buildLinuxSll2,
  buildNull,
  buildTransport,
  internetChecksum,
  type SegmentSpec,
  TCP_FLAGS,
} from "./build.ts";
import { writePcap } from "./pcapfile.ts";

const specs: SegmentSpec[] = [
  { family: 4, src: "192.0.2.1", dst: "192.0.2.2", protocol: "tcp", srcPort: 40000, dstPort: 7000 },
  {
    family: 4,
    src: "198.51.100.9",
    dst: "127.0.0.1",
    protocol: "udp",
    srcPort: 5,
    dstPort: 8000,
    payload: new Uint8Array([1, 2, 3]),
  },
  {
    family: 6,
    src: "2001:db8::1",
    dst: "::1",
    protocol: "tcp",
    srcPort: 1,
    dstPort: 65535,
    tcpFlags: TCP_FLAGS.FIN | TCP_FLAGS.ACK,
    seq: 0xdeadbeef,
    payload: new Uint8Array([9]),
  },
  { family: 6, src: "::1", dst: "::1", protocol: "udp", srcPort: 9, dstPort: 9000 },
];

Deno.test("internetChecksum sums parts as one stream, odd lengths included", () => {
  const all = new Uint8Array([0x45, 0x00, 0x12, 0x34, 0xab, 0xcd, 0x01]);
  const whole = internetChecksum(all);
  strictEqual(internetChecksum(all.subarray(0, 3), all.subarray(3)), whole, "3+4");
  strictEqual(internetChecksum(all.subarray(0, 1), all.subarray(1, 2), all.subarray(2)), whole);
  // Hand-computed: 0x4500 + 0x1234 + 0xabcd + 0x0100 = 0x10401 → 0x0402 → ~ = 0xfbfd.
  strictEqual(whole, 0xfbfd, "value");
  strictEqual(internetChecksum(), 0xffff, "empty");
});

Deno.test("buildIp headers verify to a zero checksum", () => {
  for (const spec of specs) {
    const ip = buildIp(spec);
    if (spec.family === 4) {
      strictEqual(internetChecksum(ip.subarray(0, 20)), 0, "ipv4 header");
      const pseudo = new Uint8Array(12);
      pseudo.set(ip.subarray(12, 20));
      pseudo[9] = ip[9]!;
      pseudo[10] = (ip.length - 20) >> 8;
      pseudo[11] = (ip.length - 20) & 0xff;
      strictEqual(internetChecksum(pseudo, ip.subarray(20)), 0, "ipv4 transport");
    } else {
      const pseudo = new Uint8Array(40);
      pseudo.set(ip.subarray(8, 40));
      new DataView(pseudo.buffer).setUint32(32, ip.length - 40);
      pseudo[39] = ip[6]!;
      strictEqual(internetChecksum(pseudo, ip.subarray(40)), 0, "ipv6 transport");
    }
  }
});

Deno.test("buildTransport lays out ports, flags and lengths", () => {
  const tcp = buildTransport(specs[2]!);
  const dv = new DataView(tcp.buffer);
  strictEqual(dv.getUint16(0), 1);
  strictEqual(dv.getUint16(2), 65535);
  strictEqual(dv.getUint32(4), 0xdeadbeef);
  strictEqual(tcp[12], 0x50);
  strictEqual(tcp[13], 0x11);
  strictEqual(tcp.length, 21);
  const udp = buildTransport(specs[1]!);
  strictEqual(new DataView(udp.buffer).getUint16(4), 11, "udp length");
});

Deno.test("buildTransport and buildIp reject bad input with exact messages", () => {
  throws(
    () => buildTransport({ ...specs[0]!, dstPort: 70000 }),
    { message: 'Cannot build segment: dstPort "70000" must be an integer 0-65535' },
  );
  throws(
    () => buildIp({ ...specs[0]!, src: "::1" }),
    { message: 'Cannot build packet: address "::1" is not a valid IPv4 address' },
  );
  throws(
    () => buildIp({ ...specs[0]!, protocol: "udp", payload: new Uint8Array(65535) }),
    { message: 'Cannot build packet: IPv4 length "65563" must be at most 65535' },
  );
  throws(
    () => buildEthernet(new Uint8Array(20), 4, { vlan: [70000] }),
    { message: 'Cannot build frame: VLAN tag "70000" must be an integer 0-65535' },
  );
});

Deno.test("link builders place the EtherType/family where each link type wants it", () => {
  const ip = buildIp(specs[0]!);
  const e = buildEthernet(ip, 4, { vlan: [5, 6, 7] });
  const dv = new DataView(e.buffer);
  strictEqual(dv.getUint16(12), 0x88a8);
  strictEqual(dv.getUint16(14), 5);
  strictEqual(dv.getUint16(16), 0x88a8);
  strictEqual(dv.getUint16(20), 0x8100);
  strictEqual(dv.getUint16(22), 7);
  strictEqual(dv.getUint16(24), 0x0800);
  strictEqual(e.length, 26 + ip.length);
  strictEqual(new DataView(buildLinuxSll(ip, 6).buffer).getUint16(14), 0x86dd);
  strictEqual(new DataView(buildLinuxSll2(ip, 6).buffer).getUint16(0), 0x86dd);
  strictEqual(new DataView(buildNull(ip, 6).buffer).getUint32(0, true), 30);
  strictEqual(new DataView(buildNull(ip, 6, { af: 10, loop: true }).buffer).getUint32(0), 10);
  strictEqual(new DataView(buildNull(ip, 4, { bigEndian: true }).buffer).getUint32(0), 2);
});

// Independent check: tcpdump -vv verifies every checksum it can and prints "(correct)".
Deno.test({
  name: "tcpdump reads built frames and finds every checksum correct",
  ignore: Deno.env.get("CI") !== "true" && !hasTcpdump(),
  async fn() {
    const frames = specs.map((s) => buildEthernet(buildIp(s), s.family));
    const path = await Deno.makeTempFile({ suffix: ".pcap" });
    try {
      await Deno.writeFile(
        path,
        writePcap(1, frames.map((data, i) => ({ tsSec: 1000 + i, tsUsec: 0, data }))),
      );
      const out = await new Deno.Command("tcpdump", { args: ["-vv", "-nn", "-r", path] }).output();
      const text = new TextDecoder().decode(out.stdout);
      strictEqual(out.code, 0, "tcpdump exit code");
      strictEqual(text.includes("incorrect"), false, text);
      // tcpdump marks each TCP checksum "(correct)" and each UDP one "[udp sum ok]"; IPv4 header
      // checksums are only flagged when wrong.
      strictEqual(text.match(/cksum 0x[0-9a-f]+ \(correct\)/g)?.length, 2, text);
      strictEqual(text.match(/\[udp sum ok\]/g)?.length, 2, text);
      strictEqual(text.includes("192.0.2.1.40000 > 192.0.2.2.7000: Flags [S]"), true, text);
      strictEqual(text.includes("2001:db8::1.1 > ::1.65535: Flags [F.]"), true, text);
    } finally {
      await Deno.remove(path);
    }
  },
});

function hasTcpdump(): boolean {
  try {
    return new Deno.Command("tcpdump", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}
