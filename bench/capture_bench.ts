/**
 * Capture-loop cost.
 *
 * `deno bench -A bench/capture_bench.ts`: drains a 100k-frame pcap file through libpcap with the
 * loop's batched reader (`pcap_dispatch` → `pcap_dump` → `fmemopen`, TypeScript walks the records)
 * and, for comparison, with one `pcap_next_ex` per packet plus a copy. No root needed.
 *
 * `deno run -A bench/capture_bench.ts --live [N]` (root): a live flood of N (default 200000) UDP
 * frames on `lo` in a private namespace, captured by {@link captureLive}; prints frames received,
 * process CPU per frame, idle CPU, and timer ticks during the flood.
 *
 * @module
 */
import { captureFile } from "../src/server/capture_file.ts";
import { CaptureControl, captureLive } from "../src/server/capture_live.ts";
import { acquirePcap, PCAP_ERRBUF_SIZE, releasePcap } from "../ffi/libpcap.ts";
import { cString } from "../ffi/libc.ts";
import { writePcap } from "../src/wire/pcapfile.ts";
import { buildFrame, injectInNetns } from "../testing/inject.ts";
import { Netns, sleep, waitUntil } from "../testing/netns.ts";
import process from "node:process";

const FRAMES = 100_000;
const dir = Deno.makeTempDirSync({ prefix: "kt-capbench-" });
const path = `${dir}/flood.pcap`;
{
  const frame = buildFrame({ src: "192.0.2.9", dst: "192.0.2.1", proto: "tcp", port: 7000 }, 0);
  const records = Array.from({ length: FRAMES }, (_, i) => ({ tsSec: i, tsUsec: 0, data: frame }));
  Deno.writeFileSync(path, writePcap(1, records, 256));
}
const noop = { onStatus: () => {}, onAddresses: () => {} };

Deno.bench({
  name: `captureFile batched drain, ${FRAMES} frames`,
  group: "drain",
  baseline: true,
  async fn() {
    let bytes = 0;
    const { frames } = await captureFile(path, "", {
      ...noop,
      onFrame: (f) => (bytes += f.data[f.caplen - 1] ?? 0),
    });
    if (frames !== FRAMES) throw new Error(`got ${frames}`);
  },
});

Deno.bench({
  name: `pcap_next_ex per packet + copy, ${FRAMES} frames`,
  group: "drain",
  fn() {
    const p = acquirePcap();
    try {
      const errbuf = new Uint8Array(PCAP_ERRBUF_SIZE);
      const h = p.sym.pcap_open_offline(cString(path), errbuf);
      if (h === null) throw new Error("open failed");
      const hdrPtr = new BigUint64Array(1);
      const dataPtr = new BigUint64Array(1);
      let n = 0;
      while (p.sym.pcap_next_ex(h, hdrPtr, dataPtr) === 1) {
        const hv = new Deno.UnsafePointerView(Deno.UnsafePointer.create(hdrPtr[0] ?? 0n)!);
        const caplen = hv.getUint32(16);
        const data = new Uint8Array(caplen);
        new Deno.UnsafePointerView(Deno.UnsafePointer.create(dataPtr[0] ?? 0n)!).copyInto(data);
        n++;
      }
      p.sym.pcap_close(h);
      if (n !== FRAMES) throw new Error(`got ${n}`);
    } finally {
      releasePcap();
    }
  },
});

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

async function live(count: number): Promise<void> {
  const ns = await Netns.create("capbench");
  const libc = Deno.dlopen("libc.so.6", {
    open: { parameters: ["buffer", "i32"], result: "i32" },
    setns: { parameters: ["i32", "i32"], result: "i32" },
    close: { parameters: ["i32"], result: "i32" },
    gettimeofday: { parameters: ["buffer", "pointer"], result: "i32" },
  });
  const tv = new BigInt64Array(2);
  const nowUs = () => {
    libc.symbols.gettimeofday(tv, null);
    return Number(tv[0] ?? 0n) * 1e6 + Number(tv[1] ?? 0n);
  };
  const orig = libc.symbols.open(cString("/proc/self/ns/net"), 0x80000);
  const target = libc.symbols.open(cString(`/run/netns/${ns.name}`), 0x80000);
  const ac = new AbortController();
  let done: Promise<void> | undefined;
  try {
    if (libc.symbols.setns(target, 0x40000000) !== 0) throw new Error("Cannot enter namespace");
    const control = new CaptureControl();
    let frames = 0;
    let first = 0;
    let last = 0;
    done = captureLive({ iface: "lo", filter: () => "udp dst port 7010", control }, {
      ...noop,
      onFrame: () => {
        last = performance.now();
        if (frames++ === 0) first = last;
      },
    }, ac.signal);
    await waitUntil(() => control.stats().opens === 1, { what: "capture open" });
    const idle0 = cpuMicros();
    const t0 = performance.now();
    await sleep(2000);
    const idlePct = ((cpuMicros() - idle0) / 1000) / (performance.now() - t0) * 100;

    let ticks = 0;
    const iv = setInterval(() => ticks++, 10);
    const c0 = cpuMicros();
    const frame = { src: "127.0.0.74", dst: "127.0.0.1", proto: "udp" as const, port: 7010 };
    const sent = await injectInNetns(ns.name, { iface: "lo", frames: [frame], repeat: count });
    await waitUntil(() => performance.now() - last > 300, { what: "flood drained" });
    const cpu = cpuMicros() - c0;
    clearInterval(iv);
    const span = last - first;
    const stats = control.stats();
    console.log(`live flood on lo: sent ${sent}, captured ${frames} over ${span.toFixed(0)} ms`);
    console.log(
      `  process CPU ${(cpu / 1000).toFixed(0)} ms = ${
        (cpu / Math.max(frames, 1)).toFixed(2)
      } µs/frame` +
        ` (includes the waits and the injector's process spawn by this process)`,
    );
    console.log(`  timer ticks (10 ms interval) during the flood: ${ticks}`);
    console.log(`  idle CPU over 2 s: ${idlePct.toFixed(2)} %`);
    console.log(`  pcap_stats: ${JSON.stringify(stats.pcap)}`);
    ac.abort();
    await done;
    done = undefined;
    for (const immediate of [false, true]) {
      console.log(
        `  latency kernel timestamp → onFrame, ${
          immediate ? "immediate" : "buffered"
        } mode: ${await latency(ns, immediate, nowUs)}`,
      );
    }
  } finally {
    ac.abort();
    await done?.catch(() => {});
    libc.symbols.setns(orig, 0x40000000);
    libc.symbols.close(orig);
    libc.symbols.close(target);
    libc.close();
    await ns.destroy();
  }
}

/** Median and max delay from the kernel's capture timestamp to onFrame, over 20 spaced frames. */
async function latency(ns: Netns, immediate: boolean, nowUs: () => number): Promise<string> {
  const ac = new AbortController();
  const control = new CaptureControl();
  const delays: number[] = [];
  const done = captureLive({ iface: "lo", immediate, filter: () => "udp dst port 7011", control }, {
    onAddresses: () => {},
    onStatus: (m, level) => level !== "info" && console.error(m),
    onFrame: (f) => delays.push(nowUs() - (f.tsSec * 1e6 + f.tsUsec)),
  }, ac.signal);
  try {
    await waitUntil(() => control.stats().opens === 1, { what: "capture open" });
    const frame = { src: "127.0.0.74", dst: "127.0.0.1", proto: "udp" as const, port: 7011 };
    const spaced = Array.from({ length: 20 }, () => ({ ...frame, delayMs: 20 }));
    await injectInNetns(ns.name, { iface: "lo", frames: spaced });
    await waitUntil(() => delays.length >= 20, { what: "20 frames" });
  } finally {
    ac.abort();
    await done;
  }
  delays.sort((a, b) => a - b);
  const ms = (us: number) => `${(us / 1000).toFixed(1)} ms`;
  return `median ${ms(delays[10] ?? 0)}, max ${ms(delays.at(-1) ?? 0)}`;
}

if (Deno.args[0] === "--live") {
  try {
    await live(Number(Deno.args[1] ?? 200_000));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
} else {
  globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
}
