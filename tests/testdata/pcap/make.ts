/**
 * Generates the replay fixtures of tests/serve_pcap_test.ts:
 * `deno run -A tests/testdata/pcap/make.ts` rewrites the .pcap files next to this script.
 *
 * Every frame is built with src/wire/build.ts (valid checksums) and written with
 * src/wire/pcapfile.ts as Ethernet (DLT_EN10MB). Local address 192.0.2.1 / 2001:db8::1;
 * knockers in 198.51.100.0/24 and 2001:db8::/32.
 *
 * @module
 */
import { buildEthernet, buildIp, type SegmentSpec, TCP_FLAGS } from "../../../src/wire/build.ts";
import { writePcap } from "../../../src/wire/pcapfile.ts";

/** Capture time of the first frame: 2026-11-21 10:00:00 UTC. */
export const T0 = 1795255200;

interface Step {
  /** Seconds after T0. */
  t: number;
  src: string;
  dst?: string;
  port: number;
  proto?: "tcp" | "udp";
  flags?: number;
}

function frames(steps: Step[]): { tsSec: number; tsUsec: number; data: Uint8Array }[] {
  return steps.map((s, i) => {
    const family = s.src.includes(":") ? 6 : 4;
    const spec: SegmentSpec = {
      family,
      src: s.src,
      dst: s.dst ?? (family === 6 ? "2001:db8::1" : "192.0.2.1"),
      protocol: s.proto ?? "tcp",
      srcPort: 40000 + i,
      dstPort: s.port,
      tcpFlags: s.flags ?? TCP_FLAGS.SYN,
      ...(s.proto === "udp" ? { payload: new Uint8Array(1) } : {}),
    };
    return {
      tsSec: T0 + Math.floor(s.t),
      tsUsec: Math.round((s.t % 1) * 1e6),
      data: buildEthernet(buildIp(spec), family),
    };
  });
}

/** An ARP request: not IP, counted as a decode error. */
function arp(t: number): { tsSec: number; tsUsec: number; data: Uint8Array } {
  const data = new Uint8Array(42);
  data.fill(0xff, 0, 6);
  data.set([0x02, 0, 0, 0, 0, 1], 6);
  data.set([0x08, 0x06], 12);
  return { tsSec: T0 + t, tsUsec: 0, data };
}

/** `knocks.pcap`: an IPv4 open with noise, a timeout, an IPv6 open, a wrong-flag knock. */
export function knocks(): Uint8Array {
  const a = "198.51.100.7";
  const b = "198.51.100.8";
  const c = "2001:db8::77";
  const recs = frames([
    { t: 0, src: a, port: 7000 },
    { t: 1, src: a, port: 1234 }, // no door's port: invisible (knockd's BPF)
    { t: 1.5, src: a, port: 8000, flags: TCP_FLAGS.ACK }, // not SYN: ignored
    { t: 2, src: a, port: 8000 },
    { t: 3, src: a, port: 9000 }, // OPEN SESAME
    { t: 10, src: b, port: 7000 }, // Stage 1
    { t: 40, src: b, port: 8000 }, // sweep first: sequence timeout (stage 1); 8000 starts nothing
    { t: 50, src: c, port: 7000 },
    { t: 51, src: c, port: 8000 },
    { t: 52, src: c, port: 9000 }, // OPEN SESAME over IPv6
    { t: 60, src: a, port: 5555, proto: "udp" }, // single-knock UDP door
  ]);
  recs.splice(3, 0, arp(2));
  return writePcap(1, recs);
}

/** `onetime.pcap`: uses the one-time sequences 1001,1002 then 2001,2002, then knocks again. */
export function onetime(): Uint8Array {
  const a = "198.51.100.9";
  return writePcap(
    1,
    frames([
      { t: 0, src: a, port: 1001 },
      { t: 1, src: a, port: 1002 }, // OPEN SESAME, next sequence 2001,2002
      { t: 5, src: a, port: 1001 }, // the old sequence no longer starts anything
      { t: 6, src: a, port: 2001 },
      { t: 7, src: a, port: 2002 }, // OPEN SESAME, file used up: door disabled
      { t: 10, src: a, port: 2001 }, // nothing: door disabled
      { t: 11, src: a, port: 2002 },
      { t: 12, src: a, port: 5555, proto: "udp" }, // the other door still works
    ]),
  );
}

if (import.meta.main) {
  const dir = new URL(".", import.meta.url);
  Deno.writeFileSync(new URL("knocks.pcap", dir), knocks());
  Deno.writeFileSync(new URL("onetime.pcap", dir), onetime());
}
