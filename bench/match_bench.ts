/**
 * Throughput of `Matcher.handle()`: one packet per iteration, so the `iter/s` column is packets per
 * second. Run with `deno bench bench/match_bench.ts`.
 *
 * Scenarios: SYNs that pass the pre-filter (a door's 2nd port) from many sources with no attempt
 * open; a 20k-source flood of first-port hits (with and without eviction); packets to a port no
 * door uses (rejected by the pre-filter); and, with 10,000 `TCPFlags = syn` doors, ACKs to a
 * door's first port (every door's flag test fails) and SYNs to a door's 2nd port, where the work
 * per packet should depend on the doors using that port, not on the number of doors.
 */
import type { Door, Knock } from "../src/config/model.ts";
import { Matcher } from "../src/match/matcher.ts";
import type { Packet } from "../src/wire/packet.ts";
import { buildEthernet, buildIp } from "../src/wire/build.ts";
import { decodeFrame, peekAt, peekFrame } from "../src/wire/decode.ts";
import { FrameFields, type SourceKey, textKey } from "../src/wire/fields.ts";

function seq(text: string): Knock[] {
  return text.split(",").map((s) => {
    const [port, proto] = s.split(":");
    return { port: Number(port), protocol: proto === "udp" ? "udp" : "tcp" };
  });
}

const doors: Door[] = [
  ["ssh", "7000,8000,9000"],
  ["web", "7100,8100:udp,9100"],
  ["mc", "19132:udp"],
  ["alt", "7000,8000,9001"],
].map(([name, sequence], i) => ({
  name: name as string,
  line: 1 + 5 * i,
  sequence: seq(sequence as string),
  seqTimeout: 25,
  cmdTimeout: 10,
  tcpFlags: { syn: "set" },
}));

const LOCAL = ["192.0.2.1", "2001:db8::1"];
const SOURCES = 20_000;

/** 10,000 doors, door `i` knocking `10000 + i` then `30000 + i`, SYN required. */
const manyDoors: Door[] = Array.from({ length: 10_000 }, (_, i) => ({
  name: `d${i}`,
  line: 1 + 4 * i,
  sequence: [{ port: 10_000 + i, protocol: "tcp" }, { port: 30_000 + i, protocol: "tcp" }],
  seqTimeout: 25,
  cmdTimeout: 10,
  tcpFlags: { syn: "set" },
}));

function packets(port: number, tcpFlags = 0x02): Packet[] {
  const out: Packet[] = [];
  for (let i = 0; i < SOURCES; i++) {
    out.push({
      tsSec: 1_000_000,
      tsUsec: 0,
      family: 4,
      src: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      dst: "192.0.2.1",
      protocol: "tcp",
      srcPort: 40000 + (i % 20000),
      dstPort: port,
      tcpFlags,
      wireLen: 60,
    });
  }
  return out;
}

function bench(
  name: string,
  port: number,
  maxAttempts?: number,
  config: readonly Door[] = doors,
  tcpFlags = 0x02,
): void {
  const matcher = new Matcher(
    config,
    maxAttempts === undefined ? { localAddresses: LOCAL } : { localAddresses: LOCAL, maxAttempts },
  );
  const list = packets(port, tcpFlags);
  // The daemon hands the matcher the source's key along with the packet (fieldsSourceKey).
  const keys: SourceKey[] = list.map((p) => textKey(p.src));
  let i = 0;
  let sink = 0;
  Deno.bench(name, () => {
    const packet = list[i] as Packet;
    const key = keys[i] as SourceKey;
    i = (i + 1) % list.length;
    sink += matcher.handle(packet, key).length;
  });
  // Keep `sink` observable so the work cannot be optimised away.
  globalThis.addEventListener("unload", () => {
    if (sink < 0) console.log(sink);
  });
}

bench("in-filter SYN to a door's 2nd port, 20k sources, no attempt open", 8000);
bench("first-port flood from 20k sources (tracked, then invalidated on the next lap)", 7100);
bench("first-port flood from 20k sources with maxAttempts 4096 (evicting)", 7100, 4096);
bench("port no door uses (pre-filter reject)", 1234);
bench(
  "10k syn doors: ACK to a door's first port (every flag test fails)",
  15_000,
  undefined,
  manyDoors,
  0x10,
);
bench("10k syn doors: SYN to a door's 2nd port, no attempt open", 35_000, undefined, manyDoors);

/** The frames as views into one buffer, as the capture's batched drain hands them over. */
function packFrames(frames: readonly Uint8Array[]): Uint8Array[] {
  const packed = new Uint8Array(frames.reduce((n, f) => n + f.length + 16, 0));
  let at = 0;
  return frames.map((f) => {
    at += 16; // where a pcap record header would sit
    packed.set(f, at);
    at += f.length;
    return packed.subarray(at - f.length, at);
  });
}

// Whole frames, as Daemon.handleFrame sees them: the full decode and Matcher.handle for every
// frame, against the fast path (peekFrame, then Matcher.wants, which declines these frames).
{
  const matcher = new Matcher(doors, { localAddresses: LOCAL });
  const frames = Array.from({ length: 5000 }, (_, i) =>
    buildEthernet(
      buildIp({
        family: 4,
        src: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
        dst: "192.0.2.1",
        protocol: "tcp",
        srcPort: 40000 + (i % 20000),
        dstPort: 8000,
      }),
      4,
    ));
  const views = packFrames(frames);
  const fields = new FrameFields();
  let i = 0;
  let sink = 0;
  Deno.bench({
    name: "frame: decodeFrame + handle, in-filter SYN to a 2nd port, no attempt",
    group: "frame",
    baseline: true,
    fn() {
      const f = views[i] as Uint8Array;
      i = (i + 1) % views.length;
      const r = decodeFrame(1, f, f.length, 1_000_000, 0);
      if (r.ok) sink += matcher.handle(r.packet).length;
    },
  });
  Deno.bench({
    name: "frame: peekFrame + wants (fast path), same frames",
    group: "frame",
    fn() {
      const f = views[i] as Uint8Array;
      i = (i + 1) % views.length;
      if (peekFrame(1, f, f.length, 1_000_000, fields) && matcher.wants(fields)) sink++;
    },
  });
  globalThis.addEventListener("unload", () => {
    if (sink < 0) console.log(sink);
  });
}

// The fast path against the number of doors (door i knocks 10000+i then 30000+i, SYN): SYNs to
// the doors' second ports from sources with no attempt. Flat: the pre-filter's index by port and
// protocol finds the one door that uses the port.
for (const n of [10, 1000, 10_000]) {
  const matcher = new Matcher(manyDoors.slice(0, n), { localAddresses: LOCAL });
  const frames = Array.from({ length: 2000 }, (_, i) =>
    buildEthernet(
      buildIp({
        family: 4,
        src: `10.1.${(i >> 8) & 255}.${i & 255}`,
        dst: "192.0.2.1",
        protocol: "tcp",
        srcPort: 40000,
        dstPort: 30_000 + (i * 7919) % n,
      }),
      4,
    ));
  const views = packFrames(frames);
  const fields = new FrameFields();
  let i = 0;
  let sink = 0;
  Deno.bench({
    name: `doors ${n}: peekFrame + wants, SYN to a door's 2nd port`,
    group: "doors",
    fn() {
      const f = views[i] as Uint8Array;
      i = (i + 1) % views.length;
      if (peekFrame(1, f, f.length, 1_000_000, fields) && matcher.wants(fields)) sink++;
    },
  });
  globalThis.addEventListener("unload", () => {
    if (sink < 0) console.log(sink);
  });
}

// The capture's hand-over of a batch of 1024 frames to the fast path: a Frame object and a view
// per frame (as before), against one refilled Frame read at its offset in the batch buffer
// (ffi/pcap_batch.ts and Daemon.handleFrame now). Per iteration: 1024 frames.
{
  const matcher = new Matcher(doors, { localAddresses: LOCAL });
  const frames = Array.from({ length: 1024 }, (_, i) =>
    buildEthernet(
      buildIp({
        family: 4,
        src: `10.2.${(i >> 8) & 255}.${i & 255}`,
        dst: "192.0.2.1",
        protocol: "tcp",
        srcPort: 40000,
        dstPort: 8000,
      }),
      4,
    ));
  const views = packFrames(frames);
  const batch = views[0] as Uint8Array;
  const offsets = views.map((v) => v.byteOffset);
  const fields = new FrameFields();
  let sink = 0;
  Deno.bench({
    name: "hand-over: a Frame object and a view per frame, then the fast path (×1024)",
    group: "hand-over",
    baseline: true,
    fn() {
      for (let i = 0; i < 1024; i++) {
        const at = offsets[i] as number;
        const f = {
          linkType: 1,
          data: new Uint8Array(batch.buffer, at, 54),
          caplen: 54,
          wireLen: 54,
          tsSec: 1_000_000,
          tsUsec: 0,
        };
        if (peekFrame(f.linkType, f.data, f.wireLen, f.tsSec, fields) && matcher.wants(fields)) {
          sink++;
        }
      }
    },
  });
  Deno.bench({
    name: "hand-over: one refilled Frame, read at its offset (×1024)",
    group: "hand-over",
    fn() {
      for (let i = 0; i < 1024; i++) {
        if (
          peekAt(1, batch.buffer, offsets[i] as number, 54, 54, 1_000_000, fields) &&
          matcher.wants(fields)
        ) sink++;
      }
    },
  });
  globalThis.addEventListener("unload", () => {
    if (sink < 0) console.log(sink);
  });
}
