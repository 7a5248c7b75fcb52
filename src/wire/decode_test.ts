// Over 400 lines: mostly the table of captured frames and what each must decode to.
import { strictEqual } from "node:assert/strict";
import { decodeFrame, isSupportedLinkType } from "./decode.ts";
import { readPcap } from "./pcapfile.ts";
import { summary } from "../../testing/frames.ts";
import { DLT } from "../../ffi/dlt.ts";

/**
 * Real frames captured by tests/testdata/wire/capture.sh (tcpdump on `lo` in a private network
 * namespace; the kernel built them, except lo_injected.pcap, sent through AF_PACKET). Each
 * record lists the line `tcpdump -nn -r <file>` prints for it (timestamp cut), what decodeFrame
 * must return, and for packets the end of the transport header (link + IP + extension headers
 * + TCP/UDP header, computed by hand from the header sizes): every shorter capture must be a
 * `truncated` error, every longer one the same packet.
 */
interface Vector {
  file: string;
  linkType: number;
  records: { tcpdump: string; expect: string; headersEnd?: number }[];
}

const S = "flags=0x2";
const RA = "flags=0x14";

const vectors: Vector[] = [
  {
    file: "lo_ipv4_tcp_syn.pcap",
    linkType: DLT.EN10MB,
    records: [
      {
        tcpdump: "IP 127.0.0.1.49320 > 127.0.0.1.7000: Flags [S], seq 3949383479, win 64480, " +
          "options [mss 1240,sackOK,TS val 186223329 ecr 0,nop,wscale 10], length 0",
        expect: `tcp 127.0.0.1.49320 > 127.0.0.1.7000 ${S} len=74`,
        headersEnd: 14 + 20 + 40,
      },
      {
        tcpdump: "IP 127.0.0.1.7000 > 127.0.0.1.49320: Flags [R.], seq 0, ack 3949383480, win 0, " +
          "length 0",
        expect: `tcp 127.0.0.1.7000 > 127.0.0.1.49320 ${RA} len=54`,
        headersEnd: 14 + 20 + 20,
      },
    ],
  },
  {
    file: "lo_ipv6_tcp_syn.pcap",
    linkType: DLT.EN10MB,
    records: [
      {
        tcpdump:
          "IP6 ::1.46980 > ::1.7000: Flags [S], seq 3483303185, win 64660, options [mss 1220," +
          "sackOK,TS val 469372329 ecr 0,nop,wscale 10], length 0",
        expect: `tcp ::1.46980 > ::1.7000 ${S} len=94`,
        headersEnd: 14 + 40 + 40,
      },
      {
        tcpdump: "IP6 ::1.7000 > ::1.46980: Flags [R.], seq 0, ack 3483303186, win 0, length 0",
        expect: `tcp ::1.7000 > ::1.46980 ${RA} len=74`,
        headersEnd: 14 + 40 + 20,
      },
    ],
  },
  {
    file: "lo_udp.pcap",
    linkType: DLT.EN10MB,
    records: [
      {
        tcpdump: "IP 127.0.0.1.50574 > 127.0.0.1.8000: UDP, length 5",
        expect: "udp 127.0.0.1.50574 > 127.0.0.1.8000 flags=0x0 len=47",
        headersEnd: 14 + 20 + 8,
      },
      {
        tcpdump: "IP 127.0.0.1 > 127.0.0.1: ICMP 127.0.0.1 udp port 8000 unreachable, length 41",
        expect: "ipv4 unsupported @14: protocol 1 is not TCP or UDP",
      },
      {
        tcpdump: "IP6 ::1.35540 > ::1.9000: UDP, length 5",
        expect: "udp ::1.35540 > ::1.9000 flags=0x0 len=67",
        headersEnd: 14 + 40 + 8,
      },
      {
        tcpdump: "IP6 ::1 > ::1: ICMP6, destination unreachable, unreachable port, ::1 udp port " +
          "9000, length 61",
        expect: "ipv6 unsupported @14: next header 58 is not TCP or UDP",
      },
    ],
  },
  {
    file: "lo_ipv6_ext.pcap",
    linkType: DLT.EN10MB,
    records: [
      {
        tcpdump: "IP6 ::1 > ::1: HBH 59339 > 7100: UDP, length 3",
        expect: "udp ::1.59339 > ::1.7100 flags=0x0 len=73",
        headersEnd: 14 + 40 + 8 + 8,
      },
      {
        tcpdump: "IP6 ::1 > ::1: ICMP6, destination unreachable, unreachable port, ::1 udp port " +
          "7100, length 67",
        expect: "ipv6 unsupported @14: next header 58 is not TCP or UDP",
      },
      {
        tcpdump: "IP6 ::1 > ::1: HBH 45784 > 7200: Flags [S], seq 129516836, win 64660, options " +
          "[mss 1220,sackOK,TS val 283694692 ecr 0,nop,wscale 10], length 0",
        expect: `tcp ::1.45784 > ::1.7200 ${S} len=102`,
        headersEnd: 14 + 40 + 8 + 40,
      },
      {
        tcpdump: "IP6 ::1.7200 > ::1.45784: Flags [R.], seq 0, ack 129516837, win 0, length 0",
        expect: `tcp ::1.7200 > ::1.45784 ${RA} len=74`,
        headersEnd: 14 + 40 + 20,
      },
      {
        tcpdump: "IP6 ::1 > ::1: DSTOPT 40075 > 7101: UDP, length 3",
        expect: "udp ::1.40075 > ::1.7101 flags=0x0 len=81",
        headersEnd: 14 + 40 + 16 + 8,
      },
      {
        tcpdump: "IP6 ::1 > ::1: DSTOPT 49892 > 7201: Flags [S], seq 3039405223, win 64660, " +
          "options [mss 1220,sackOK,TS val 918465466 ecr 0,nop,wscale 10], length 0",
        expect: `tcp ::1.49892 > ::1.7201 ${S} len=110`,
        headersEnd: 14 + 40 + 16 + 40,
      },
      {
        tcpdump: "IP6 ::1 > ::1: RT6 (len=2, type=4, segleft=0, last-entry=0, tag=0, [0]::1) " +
          "35210 > 7102: UDP, length 2",
        expect: "udp ::1.35210 > ::1.7102 flags=0x0 len=88",
        headersEnd: 14 + 40 + 24 + 8,
      },
      {
        tcpdump: "IP6 ::1 > ::1: RT6 (len=2, type=4, segleft=0, last-entry=0, tag=0, [0]::1) " +
          "39320 > 7202: Flags [S], seq 2062887458, win 64660, options [mss 1220,sackOK,TS val " +
          "179624149 ecr 0,nop,wscale 10], length 0",
        expect: `tcp ::1.39320 > ::1.7202 ${S} len=118`,
        headersEnd: 14 + 40 + 24 + 40,
      },
    ],
  },
  {
    file: "lo_fragments.pcap",
    linkType: DLT.EN10MB,
    records: [
      {
        tcpdump: "IP6 ::1 > ::1: frag (0|1232) 55296 > 7300: UDP, length 3000",
        expect: "udp ::1.55296 > ::1.7300 flags=0x0 len=1294",
        headersEnd: 14 + 40 + 8 + 8,
      },
      {
        tcpdump: "IP6 ::1 > ::1: frag (1232|1232)",
        expect: "ipv6-ext unsupported @54: fragment at offset 1232 carries no ports",
      },
      {
        tcpdump: "IP6 ::1 > ::1: frag (2464|544)",
        expect: "ipv6-ext unsupported @54: fragment at offset 2464 carries no ports",
      },
      {
        tcpdump: "IP6 ::1 > ::1: ICMP6, destination unreachable, unreachable port, ::1 udp port " +
          "7300, length 1240",
        expect: "ipv6 unsupported @14: next header 58 is not TCP or UDP",
      },
      {
        tcpdump: "IP 127.0.0.1.36432 > 127.0.0.1.7301: UDP, length 3000",
        expect: "udp 127.0.0.1.36432 > 127.0.0.1.7301 flags=0x0 len=1290",
        headersEnd: 14 + 20 + 8,
      },
      {
        tcpdump: "IP 127.0.0.1 > 127.0.0.1: ip-proto-17",
        expect: "ipv4 unsupported @14: fragment at offset 1256 carries no ports",
      },
      {
        tcpdump: "IP 127.0.0.1 > 127.0.0.1: ip-proto-17",
        expect: "ipv4 unsupported @14: fragment at offset 2512 carries no ports",
      },
      {
        tcpdump: "IP 127.0.0.1 > 127.0.0.1: ICMP 127.0.0.1 udp port 7301 unreachable, length 556",
        expect: "ipv4 unsupported @14: protocol 1 is not TCP or UDP",
      },
    ],
  },
  {
    // tcpdump -e -nn -r shows the tags: vlan 100; 0x88a8 vlan 10 + 0x8100 vlan 20; 0x9100
    // vlan 30 + 0x8100 vlan 40; none (AH); vlan 200 (hop-by-hop + destination options).
    file: "lo_injected.pcap",
    linkType: DLT.EN10MB,
    records: [
      {
        tcpdump: "IP 192.0.2.7.41000 > 127.0.0.1.7000: Flags [S], seq 1, win 1024, length 0",
        expect: `tcp 192.0.2.7.41000 > 127.0.0.1.7000 ${S} len=58`,
        headersEnd: 14 + 4 + 20 + 20,
      },
      {
        tcpdump: "IP 192.0.2.7.41000 > 127.0.0.1.7000: Flags [S], seq 1, win 1024, length 0",
        expect: `tcp 192.0.2.7.41000 > 127.0.0.1.7000 ${S} len=62`,
        headersEnd: 14 + 8 + 20 + 20,
      },
      {
        tcpdump: "IP 192.0.2.7.41000 > 127.0.0.1.7000: Flags [S], seq 1, win 1024, length 0",
        expect: `tcp 192.0.2.7.41000 > 127.0.0.1.7000 ${S} len=62`,
        headersEnd: 14 + 8 + 20 + 20,
      },
      {
        tcpdump:
          "IP6 2001:db8::7 > ::1: AH(spi=0x00000100,seq=0x1,icv=0x000000000000000000000000):" +
          " 42000 > 9000: UDP, length 2",
        expect: "udp 2001:db8::7.42000 > ::1.9000 flags=0x0 len=88",
        headersEnd: 14 + 40 + 24 + 8,
      },
      {
        tcpdump: "IP6 2001:db8::7 > ::1: HBH DSTOPT 42000 > 9000: UDP, length 2",
        expect: "udp 2001:db8::7.42000 > ::1.9000 flags=0x0 len=84",
        headersEnd: 14 + 4 + 40 + 8 + 8 + 8,
      },
    ],
  },
  {
    // knock -d 50 127.0.0.1 7000 8000:udp 9000 && knock -6 -d 50 ::1 7000 8000:udp 9000
    file: "lo_knock.pcap",
    linkType: DLT.EN10MB,
    records: [
      {
        tcpdump: "IP 127.0.0.1.51028 > 127.0.0.1.7000: Flags [S], seq 556931690, win 65495, " +
          "options [mss 65495,sackOK,TS val 1447529145 ecr 0,nop,wscale 10], length 0",
        expect: `tcp 127.0.0.1.51028 > 127.0.0.1.7000 ${S} len=74`,
        headersEnd: 14 + 20 + 40,
      },
      {
        tcpdump: "IP 127.0.0.1.7000 > 127.0.0.1.51028: Flags [R.], seq 0, ack 556931691, win 0, " +
          "length 0",
        expect: `tcp 127.0.0.1.7000 > 127.0.0.1.51028 ${RA} len=54`,
        headersEnd: 14 + 20 + 20,
      },
      {
        tcpdump: "IP 127.0.0.1.45505 > 127.0.0.1.8000: UDP, length 1",
        expect: "udp 127.0.0.1.45505 > 127.0.0.1.8000 flags=0x0 len=43",
        headersEnd: 14 + 20 + 8,
      },
      {
        tcpdump: "IP 127.0.0.1 > 127.0.0.1: ICMP 127.0.0.1 udp port 8000 unreachable, length 37",
        expect: "ipv4 unsupported @14: protocol 1 is not TCP or UDP",
      },
      {
        tcpdump: "IP 127.0.0.1.48736 > 127.0.0.1.9000: Flags [S], seq 2319295138, win 65495, " +
          "options [mss 65495,sackOK,TS val 3493127811 ecr 0,nop,wscale 10], length 0",
        expect: `tcp 127.0.0.1.48736 > 127.0.0.1.9000 ${S} len=74`,
        headersEnd: 14 + 20 + 40,
      },
      {
        tcpdump: "IP 127.0.0.1.9000 > 127.0.0.1.48736: Flags [R.], seq 0, ack 2319295139, win 0, " +
          "length 0",
        expect: `tcp 127.0.0.1.9000 > 127.0.0.1.48736 ${RA} len=54`,
        headersEnd: 14 + 20 + 20,
      },
      {
        tcpdump: "IP6 ::1.40092 > ::1.7000: Flags [S], seq 2603154591, win 65476, options [mss " +
          "65476,sackOK,TS val 2027132626 ecr 0,nop,wscale 10], length 0",
        expect: `tcp ::1.40092 > ::1.7000 ${S} len=94`,
        headersEnd: 14 + 40 + 40,
      },
      {
        tcpdump: "IP6 ::1.7000 > ::1.40092: Flags [R.], seq 0, ack 2603154592, win 0, length 0",
        expect: `tcp ::1.7000 > ::1.40092 ${RA} len=74`,
        headersEnd: 14 + 40 + 20,
      },
      {
        tcpdump: "IP6 ::1.37373 > ::1.8000: UDP, length 1",
        expect: "udp ::1.37373 > ::1.8000 flags=0x0 len=63",
        headersEnd: 14 + 40 + 8,
      },
      {
        tcpdump: "IP6 ::1 > ::1: ICMP6, destination unreachable, unreachable port, ::1 udp port " +
          "8000, length 57",
        expect: "ipv6 unsupported @14: next header 58 is not TCP or UDP",
      },
      {
        tcpdump: "IP6 ::1.50710 > ::1.9000: Flags [S], seq 1297994802, win 65476, options [mss " +
          "65476,sackOK,TS val 2191931991 ecr 0,nop,wscale 10], length 0",
        expect: `tcp ::1.50710 > ::1.9000 ${S} len=94`,
        headersEnd: 14 + 40 + 40,
      },
      {
        tcpdump: "IP6 ::1.9000 > ::1.50710: Flags [R.], seq 0, ack 1297994803, win 0, length 0",
        expect: `tcp ::1.9000 > ::1.50710 ${RA} len=74`,
        headersEnd: 14 + 40 + 20,
      },
    ],
  },
  ...(["any_sll.pcap", "any_sll2.pcap"] as const).map((file): Vector => {
    const h = file === "any_sll.pcap" ? 16 : 20; // tcpdump -i any -y LINUX_SLL / LINUX_SLL2
    return {
      file,
      linkType: file === "any_sll.pcap" ? DLT.LINUX_SLL : DLT.LINUX_SLL2,
      records: [
        {
          tcpdump:
            "IP 127.0.0.1.<port> > 127.0.0.1.7000: Flags [S], ... options [mss 1240,sackOK,TS " +
            "val … ecr 0,nop,wscale 10], length 0",
          expect:
            `tcp 127.0.0.1.${file === "any_sll.pcap" ? 58654 : 58658} > 127.0.0.1.7000 ${S} ` +
            `len=${h + 60}`,
          headersEnd: h + 20 + 40,
        },
        {
          tcpdump: "IP 127.0.0.1.7000 > 127.0.0.1.<port>: Flags [R.], seq 0, ..., length 0",
          expect: `tcp 127.0.0.1.7000 > 127.0.0.1.${file === "any_sll.pcap" ? 58654 : 58658} ` +
            `${RA} len=${h + 40}`,
          headersEnd: h + 20 + 20,
        },
        {
          tcpdump: "IP6 ::1.<port> > ::1.7000: Flags [S], ... options [mss 1220,...], length 0",
          expect: `tcp ::1.${file === "any_sll.pcap" ? 50894 : 50902} > ::1.7000 ${S} len=${
            h + 80
          }`,
          headersEnd: h + 40 + 40,
        },
        {
          tcpdump: "IP6 ::1.7000 > ::1.<port>: Flags [R.], seq 0, ..., length 0",
          expect: `tcp ::1.7000 > ::1.${file === "any_sll.pcap" ? 50894 : 50902} ${RA} len=${
            h + 60
          }`,
          headersEnd: h + 40 + 20,
        },
        {
          tcpdump: "IP 127.0.0.1.<port> > 127.0.0.1.8000: UDP, length 5",
          expect: `udp 127.0.0.1.${file === "any_sll.pcap" ? 52129 : 53482} > 127.0.0.1.8000 ` +
            `flags=0x0 len=${h + 33}`,
          headersEnd: h + 20 + 8,
        },
        {
          tcpdump: "IP 127.0.0.1 > 127.0.0.1: ICMP 127.0.0.1 udp port 8000 unreachable, length 41",
          expect: `ipv4 unsupported @${h}: protocol 1 is not TCP or UDP`,
        },
        {
          tcpdump: "IP6 ::1.<port> > ::1.9000: UDP, length 5",
          expect: `udp ::1.${file === "any_sll.pcap" ? 37828 : 41516} > ::1.9000 flags=0x0 len=${
            h + 53
          }`,
          headersEnd: h + 40 + 8,
        },
        {
          tcpdump:
            "IP6 ::1 > ::1: ICMP6, destination unreachable, unreachable port, ::1 udp port " +
            "9000, length 61",
          expect: `ipv6 unsupported @${h}: next header 58 is not TCP or UDP`,
        },
      ],
    };
  }),
];

function load(v: Vector) {
  const f = readPcap(
    Deno.readFileSync(new URL(`../../tests/testdata/wire/${v.file}`, import.meta.url)),
  );
  strictEqual(f.linkType, v.linkType, `${v.file} link type`);
  strictEqual(f.records.length, v.records.length, `${v.file} record count`);
  return f.records;
}

for (const v of vectors) {
  Deno.test(`decodeFrame decodes captured ${v.file} as tcpdump does`, () => {
    load(v).forEach((r, i) => {
      const got = decodeFrame(v.linkType, r.data, r.wireLen, r.tsSec, r.tsUsec);
      strictEqual(summary(got), v.records[i]!.expect, `${v.file} #${i + 1}`);
      if (got.ok) {
        strictEqual(got.packet.tsSec, r.tsSec, "tsSec");
        strictEqual(got.packet.tsUsec, r.tsUsec, "tsUsec");
        strictEqual(got.packet.family, got.packet.src.includes(":") ? 6 : 4, "family");
      }
    });
  });

  Deno.test(`every truncation of ${v.file} is a truncated error or the same packet`, () => {
    load(v).forEach((r, i) => {
      const rec = v.records[i]!;
      const full = summary(decodeFrame(v.linkType, r.data, r.wireLen, 0, 0));
      for (let k = 0; k < r.data.length; k++) {
        // caplen k of a frame that had wireLen bytes: a short capture.
        const cut = decodeFrame(v.linkType, r.data.subarray(0, k), r.wireLen, 0, 0);
        const what = `${v.file} #${i + 1} caplen ${k}`;
        if (rec.headersEnd !== undefined) {
          if (k < rec.headersEnd) {
            strictEqual(cut.ok ? "ok" : cut.error.kind, "truncated", what);
          } else {
            strictEqual(summary(cut), full, what);
          }
        } else if (!cut.ok && cut.error.kind !== "truncated") {
          strictEqual(summary(cut), full, what);
        } else {
          strictEqual(cut.ok, false, what);
        }
        // A frame that really was k bytes long on the wire: its IP length fields now lie.
        const short = decodeFrame(v.linkType, r.data.subarray(0, k), k, 0, 0);
        if (short.ok) strictEqual(summary(short), full.replace(/len=\d+$/, `len=${k}`), what);
      }
    });
  });
}

Deno.test("decodeFrame reads a frame that is a view into a larger buffer", () => {
  const v = vectors[0]!;
  const r = load(v)[0]!;
  const big = new Uint8Array(r.data.length + 100).fill(0xee);
  big.set(r.data, 37);
  const got = decodeFrame(v.linkType, big.subarray(37, 37 + r.data.length), r.wireLen, 1, 2);
  strictEqual(summary(got), v.records[0]!.expect);
});

Deno.test("decodeFrame reports unknown link types", () => {
  strictEqual(
    summary(decodeFrame(147, new Uint8Array(60), 60, 0, 0)),
    "link unsupported @0: link type 147 is not supported",
  );
  for (const lt of [0, 1, 12, 101, 108, 113, 228, 229, 276]) {
    strictEqual(isSupportedLinkType(lt), true, `${lt}`);
  }
  strictEqual(isSupportedLinkType(147), false);
  strictEqual(isSupportedLinkType(239), false);
});

Deno.test("decodeFrame reports error offsets relative to the frame, not its buffer", () => {
  const v = vectors[2]!; // lo_udp.pcap: record 2 is ICMP, unsupported at the IPv4 header
  const r = load(v)[1]!;
  const big = new Uint8Array(r.data.length + 50);
  big.set(r.data, 21);
  const frame = big.subarray(21, 21 + r.data.length);
  strictEqual(summary(decodeFrame(v.linkType, frame, r.wireLen, 0, 0)), v.records[1]!.expect);
  // Frames from the same buffer one after another, and truncated ones, keep their own offsets.
  big.set(r.data.subarray(0, 10), 0);
  strictEqual(
    summary(decodeFrame(v.linkType, big.subarray(0, 10), r.wireLen, 0, 0)),
    "link truncated @0: Ethernet header needs 14 bytes, 10 captured",
  );
  strictEqual(summary(decodeFrame(v.linkType, frame, r.wireLen, 0, 0)), v.records[1]!.expect);
});

Deno.test("decodeFrame does not throw on a view of a detached buffer", () => {
  const b = new ArrayBuffer(100);
  const frame = new Uint8Array(b, 10, 60);
  b.transfer(); // detaches b: frame now has length 0
  strictEqual(
    summary(decodeFrame(DLT.EN10MB, frame, 60, 0, 0)),
    "link truncated @0: Ethernet header needs 14 bytes, 0 captured",
  );
});
