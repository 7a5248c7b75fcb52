/**
 * The capture's share of the knock-to-command latency: from the moment a frame is handed to the
 * kernel (an AF_PACKET send on `lo`) to the moment `serve`'s capture loop hands it to JavaScript
 * (`captureLive` in immediate mode with `serve`'s snaplen and ring), and the kernel's own
 * timestamp in between. Two shapes: one frame after an idle pause (the last knock of a human
 * client: the loop is waiting in `poll()`), and the w5 shape of `bench/harness.ts`, three frames
 * back to back, timed to the third. Run as root:
 *
 * ```sh
 * deno run -A bench/latency_capture.ts [SAMPLES]
 * ```
 *
 * It creates the namespace `kt-latcap-<pid>`, re-runs itself inside it, and deletes it afterwards.
 *
 * @module
 */
import { PacketSocket } from "../testing/af_packet.ts";
import { buildEthernet, buildIp } from "../src/wire/build.ts";
import { captureLive } from "../src/server/capture_live.ts";
import type { Frame } from "../src/server/capture_events.ts";
import { RealtimeClock } from "./_clock.ts";
import { percentile } from "./_report.ts";
import { runInNetns } from "./_netns_self.ts";

const samples = Number(Deno.args.find((a) => /^\d+$/.test(a)) ?? 200);

if (!Deno.args.includes("--inner")) {
  // runInNetns deletes the namespace before it returns (Deno.exit skips pending finally blocks).
  Deno.exit(
    await runInNetns({
      name: `kt-latcap-${Deno.pid}`,
      script: import.meta.filename!,
      args: [String(samples)],
      loUp: true,
    }),
  );
}

const frame = (port: number) =>
  buildEthernet(
    buildIp({
      family: 4,
      src: "127.0.0.2",
      dst: "127.0.0.1",
      protocol: "udp",
      srcPort: 40000,
      dstPort: port,
    }),
    4,
  );
const clock = new RealtimeClock();
const sock = PacketSocket.open("lo");
const ac = new AbortController();
let waiting: { port: number; resolve: (v: [bigint, number, number]) => void } | undefined;
let opened!: () => void;
const open = new Promise<void>((r) => (opened = r));
const done = captureLive(
  {
    iface: "lo",
    immediate: true,
    snaplen: 202,
    bufferBytes: 2 << 20,
    filter: () => "udp dst portrange 7000-7002",
  },
  {
    onFrame(f: Frame) {
      const now = clock.nowNs();
      const port = (f.data[36]! << 8) | f.data[37]!;
      if (waiting !== undefined && port === waiting.port) {
        waiting.resolve([now, f.tsSec, f.tsUsec]);
        waiting = undefined;
      }
    },
    onStatus() {},
    onAddresses() {},
    onOpen: () => opened(),
  },
  ac.signal,
);
await open;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
await sleep(200);

async function sample(frames: number): Promise<{ js: number; kernel: number }> {
  const last = 7000 + frames - 1;
  const got = new Promise<[bigint, number, number]>((
    resolve,
  ) => (waiting = { port: last, resolve }));
  for (let p = 7000; p < last; p++) sock.send(frame(p));
  const t0 = clock.nowNs();
  sock.send(frame(last));
  const [t1, sec, usec] = await got;
  const kernelNs = BigInt(sec) * 1_000_000_000n + BigInt(usec) * 1000n;
  return { js: Number(t1 - t0) / 1e6, kernel: Number(kernelNs - t0) / 1e6 };
}

const out: Record<string, { js: number[]; kernel: number[] }> = {};
for (let i = 0; i < samples; i++) {
  for (
    const [name, n] of [["one frame after 20 ms idle", 1], ["w5 shape, third of three", 3]] as const
  ) {
    const r = await sample(n);
    const o = out[name] ??= { js: [], kernel: [] };
    o.js.push(r.js);
    o.kernel.push(r.kernel);
    await sleep(20);
  }
}
ac.abort();
await done;
sock.close();
clock.close();
const f = (xs: number[]) =>
  `${percentile(xs, 50)?.toFixed(3)} / ${percentile(xs, 99)?.toFixed(3)} ms`;
console.log(
  `ms from the send of the last frame (p50 / p99 of ${samples}); load ${
    Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ")
  }`,
);
for (const [name, o] of Object.entries(out)) {
  console.log(
    `${name.padEnd(28)} kernel timestamp ${f(o.kernel)} (µs resolution); in JavaScript ${f(o.js)}`,
  );
}
