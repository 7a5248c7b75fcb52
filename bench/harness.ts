/**
 * Comparative benchmark: `knocktool serve`, Debian's knockd 0.8 and `tcpdump -w /dev/null` (the
 * libpcap floor) on the same `lo` of a private network namespace, at the same time, fed the same
 * injected frames. Run as root:
 *
 * ```sh
 * deno run -A bench/harness.ts [--quick] [--runs N] [--no-scale] [--json FILE] [--keep]
 * ```
 *
 * The top-level process creates the namespace `kt-bench-<pid>`, re-runs itself inside it
 * (`--inner`), and always deletes it afterwards (also on Ctrl-C or a hang: the inner run is
 * killed after 4 minutes). The inner run starts the three processes, injects bounded floods of
 * frames built once with `src/wire/build.ts` through an AF_PACKET socket (`testing/af_packet.ts`), reads
 * each process's CPU time from `/proc/PID/stat` before and after each workload, and prints a
 * table. With `--runs N` the outer process runs the inner one N times (one namespace each) and
 * prints the median of every figure last. See `bench/README.md` for the workloads and how to read
 * the figures.
 *
 * Over 400 lines because the workloads share one set of running processes and closures over them
 * (send, settle, CPU readings); the doors half of the scale section lives in `_scale.ts`.
 *
 * @module
 */

import { PacketSocket } from "../testing/af_packet.ts";
import { loadConfig } from "../src/config/load.ts";
import { knockdFilter } from "../src/config/filter.ts";
import { buildEthernet, buildIp, TCP_FLAGS } from "../src/wire/build.ts";
import { RealtimeClock } from "./_clock.ts";
import { InspectorSession, type SelfTime, selfTimes } from "./_profile.ts";
import {
  clockTicksPerSecond,
  type CpuTicks,
  readCpuTicks,
  readMemoryKiB,
  readThreadsNs,
  readVmRssKiB,
} from "./_proc.ts";
import {
  type BenchResults,
  type Contender,
  type FloodResult,
  formatTable,
  medianResults,
  percentile,
  type PerContender,
  type ScaleAttemptsRow,
} from "./_report.ts";
import { measureDoors } from "./_scale.ts";
import { measureGrantLatency } from "./_grant_latency.ts";
import { runInNetns } from "./_netns_self.ts";

const KNOCKD = "/usr/sbin/knockd";
const MAIN_TS = new URL("../main.ts", import.meta.url).pathname;
const DENO_JSON = new URL("../deno.json", import.meta.url).pathname;
/** Hard bound on the inner run (the brief: a whole run under 3 minutes). */
const INNER_LIMIT_MS = 240_000;
/** The V8 flags the compiled binary has baked in (`V8_FLAGS` of tools/compile.ts). */
const SERVE_V8_FLAGS = "--v8-flags=--max-semi-space-size=1";
/** Inspector port of knocktool under `--profile` (inside the private namespace). */
const INSPECT_PORT = 9229;

/** Command-line options. */
interface Options {
  readonly quick: boolean;
  readonly json: string | undefined;
  readonly keep: boolean;
  readonly profile: string | undefined;
  readonly inner: boolean;
  readonly serveArgs: readonly string[];
  /** Inner runs; the median of each figure is printed last. */
  readonly runs: number;
  /** Run the scale section (live attempts, doors). */
  readonly scale: boolean;
}

function parseArgs(args: readonly string[]): Options {
  let quick = false;
  let keep = false;
  let inner = false;
  let json: string | undefined;
  let profile: string | undefined;
  const serveArgs: string[] = [];
  let runs = 1;
  let scale = true;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--quick") quick = true;
    else if (a === "--no-scale") scale = false;
    else if (a === "--runs" || a?.startsWith("--runs=")) {
      const v = a === "--runs" ? args[++i] : a.slice(7);
      runs = Number(v);
      if (!Number.isInteger(runs) || runs < 1) {
        throw new Error(`Cannot parse "--runs": "${v}" is not a positive integer`);
      }
    } else if (a === "--keep") keep = true;
    else if (a === "--inner") inner = true;
    else if (a === "--json") {
      json = args[++i];
      if (json === undefined) throw new Error('Cannot parse "--json": a file name is missing');
    } else if (a?.startsWith("--json=")) json = a.slice(7);
    else if (a === "--profile") {
      profile = args[++i];
      if (profile === undefined) {
        throw new Error('Cannot parse "--profile": a file name is missing');
      }
    } else if (a?.startsWith("--profile=")) profile = a.slice(10);
    else if (a === "--serve-arg") {
      const v = args[++i];
      if (v === undefined) throw new Error('Cannot parse "--serve-arg": a value is missing');
      serveArgs.push(v);
    } else if (a?.startsWith("--serve-arg=")) serveArgs.push(a.slice(12));
    else throw new Error(`Cannot parse arguments: unknown option "${a}"`);
  }
  return { quick, json, keep, inner, profile, serveArgs, runs, scale };
}

/** Workload sizes. */
interface Sizes {
  readonly warmup: number;
  readonly w1: number;
  readonly w3: number;
  readonly w2Flood: number;
  readonly w2Knockers: number;
  readonly w4Seconds: number;
  readonly w5Knocks: number;
  /** w5g: knocks measured, after warm-up knocks. */
  readonly w5gKnocks: number;
  readonly w5gWarmup: number;
  readonly pool: number;
  readonly w6: number;
  readonly w6Knocks: number;
  readonly scalePackets: number;
  readonly scaleAttempts: readonly number[];
  readonly scaleDoors: readonly number[];
}

const FULL: Sizes = {
  warmup: 10_000,
  w1: 200_000,
  w3: 300_000,
  w2Flood: 20_000,
  w2Knockers: 20,
  w4Seconds: 10,
  w5Knocks: 30,
  w5gKnocks: 200,
  w5gWarmup: 20,
  pool: 20_000,
  w6: 100_000,
  w6Knocks: 100,
  scalePackets: 20_000,
  scaleAttempts: [1_000, 10_000, 65_000],
  scaleDoors: [10, 1_000, 10_000],
};
const QUICK: Sizes = {
  warmup: 2_000,
  w1: 20_000,
  w3: 30_000,
  w2Flood: 2_000,
  w2Knockers: 20,
  w4Seconds: 3,
  w5Knocks: 10,
  w5gKnocks: 30,
  w5gWarmup: 5,
  pool: 5_000,
  w6: 20_000,
  w6Knocks: 20,
  scalePackets: 5_000,
  scaleAttempts: [1_000, 5_000],
  scaleDoors: [10, 1_000],
};

/** Door A's sequence timeout: short, so the w2 flood expires while real knockers are knocking. */
const SEQ_TIMEOUT_A = 2;
/** Door C (the scale section's live attempts): long, so that no attempt expires meanwhile. */
const SEQ_TIMEOUT_C = 600;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  const o = await new Deno.Command(cmd, { args, stdin: "null", stdout: "piped", stderr: "piped" })
    .output();
  const d = new TextDecoder();
  return { code: o.code, out: d.decode(o.stdout) + d.decode(o.stderr) };
}

// ---------------------------------------------------------------------------------------------
// Outer process: namespace life cycle.

async function outer(opts: Options): Promise<number> {
  if (Deno.uid() !== 0) {
    console.error("Cannot run the benchmark: run it as root (it creates a network namespace)");
    return 1;
  }
  const bins = [
    KNOCKD,
    "/usr/bin/tcpdump",
    "/usr/sbin/ip",
    "/usr/sbin/nft",
    "/bin/sh",
    "/usr/bin/date",
  ];
  for (const bin of bins) {
    try {
      Deno.statSync(bin);
    } catch {
      console.error(`Cannot run the benchmark: "${bin}" is missing`);
      return 1;
    }
  }
  const results: BenchResults[] = [];
  for (let i = 0; i < opts.runs; i++) {
    if (opts.runs > 1) console.error(`bench: run ${i + 1} of ${opts.runs}`);
    const json = opts.runs > 1
      ? Deno.makeTempFileSync({ prefix: "kt-bench-", suffix: ".json" })
      : opts.json;
    try {
      const code = await outerOnce(json === undefined ? opts : { ...opts, json }, i);
      if (code !== 0) return code;
      if (opts.runs > 1 && json !== undefined) {
        results.push(JSON.parse(Deno.readTextFileSync(json)) as BenchResults);
      }
    } finally {
      if (opts.runs > 1 && json !== undefined) Deno.removeSync(json);
    }
  }
  if (opts.runs > 1) {
    const median = medianResults(results);
    console.log("\n" + formatTable(median));
    if (opts.json !== undefined) {
      Deno.writeTextFileSync(
        absolute(opts.json),
        JSON.stringify({ median, runs: results }, null, 2) + "\n",
      );
      console.error(`bench: wrote ${opts.json}`);
    }
  }
  return 0;
}

async function outerOnce(opts: Options, index: number): Promise<number> {
  try {
    return await runInNetns({
      name: `kt-bench-${Deno.pid}-${index}`,
      script: new URL(import.meta.url).pathname,
      denoArgs: ["--config", DENO_JSON],
      limitMs: INNER_LIMIT_MS,
      args: [
        ...(opts.quick ? ["--quick"] : []),
        ...(opts.scale ? [] : ["--no-scale"]),
        ...(opts.keep ? ["--keep"] : []),
        ...(opts.json === undefined ? [] : ["--json", absolute(opts.json)]),
        ...(opts.profile === undefined ? [] : ["--profile", absolute(opts.profile)]),
        ...opts.serveArgs.map((a) => `--serve-arg=${a}`),
      ],
    });
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    return 1;
  }
}

function absolute(path: string): string {
  return path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
}

// ---------------------------------------------------------------------------------------------
// Inner process: runs inside the namespace.

/** One measured process. */
class Contestant {
  readonly name: Contender;
  readonly child: Deno.ChildProcess;
  readonly pid: number;
  readonly marker: string | null;
  readonly log: string | null;
  #stderr = "";
  readonly #drained: Promise<void>;

  constructor(
    name: Contender,
    cmd: string,
    args: string[],
    marker: string | null,
    log: string | null,
  ) {
    this.name = name;
    this.marker = marker;
    this.log = log;
    const child = new Deno.Command(cmd, {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    this.child = child;
    this.pid = child.pid;
    this.#drained = (async () => {
      const d = new TextDecoder();
      for await (const chunk of child.stderr) {
        this.#stderr += d.decode(chunk, { stream: true });
        if (this.#stderr.length > 65536) this.#stderr = this.#stderr.slice(-32768);
      }
    })().catch(() => {});
  }

  get stderr(): string {
    return this.#stderr;
  }

  cpu(): CpuTicks | null {
    try {
      return readCpuTicks(this.pid);
    } catch {
      return null;
    }
  }

  async stop(): Promise<void> {
    try {
      this.child.kill("SIGTERM");
    } catch { /* gone */ }
    const done = await Promise.race([
      this.child.status.then(() => true),
      sleep(3000).then(() => false),
    ]);
    if (!done) {
      try {
        this.child.kill("SIGKILL");
      } catch { /* gone */ }
      await this.child.status;
    }
    await Promise.race([this.#drained, sleep(1000)]);
  }
}

function per<T>(f: (c: Contender) => T | null): PerContender<T> {
  return { knocktool: f("knocktool"), knockd: f("knockd"), tcpdump: f("tcpdump") };
}

function configText(dir: string, who: string): string {
  const marker = `${dir}/${who}.marker`;
  return [
    "[options]",
    `  LogFile = ${dir}/${who}.log`,
    "",
    "[A]",
    "  Sequence    = 7000,8000,9000",
    `  Seq_Timeout = ${SEQ_TIMEOUT_A}`,
    "  TCPFlags    = syn",
    `  Start_Command = echo "%IP% A $(date +%s%N)" >> ${marker}`,
    "",
    "[B]",
    "  Sequence    = 2222:udp,3333",
    "  Seq_Timeout = 5",
    "  TCPFlags    = syn",
    `  Start_Command = echo "%IP% B $(date +%s%N)" >> ${marker}`,
    "",
    "[C]",
    "  Sequence    = 7500,7600,7700",
    `  Seq_Timeout = ${SEQ_TIMEOUT_C}`,
    "  TCPFlags    = syn",
    "  Start_Command = true",
    "",
  ].join("\n");
}

function frame(src: string, proto: "tcp" | "udp", dstPort: number, srcPort: number): Uint8Array {
  const ip = buildIp({
    family: 4,
    src,
    dst: "127.0.0.1",
    protocol: proto,
    srcPort,
    dstPort,
    tcpFlags: TCP_FLAGS.SYN,
  });
  return buildEthernet(ip, 4);
}

/** `127.<second>.x.y` for index i (i < 65536). */
function spoofed(second: number, i: number): string {
  return `127.${second}.${(i >> 8) & 255}.${i & 255}`;
}

function readText(path: string | null): string {
  if (path === null) return "";
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

async function inner(opts: Options): Promise<number> {
  const sizes = opts.quick ? QUICK : FULL;
  const started = Date.now();
  const ac = new AbortController();
  const onSignal = () => ac.abort();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  const check = () => {
    if (ac.signal.aborted) throw new Error("Cannot finish the benchmark: interrupted");
    if (Date.now() - started > INNER_LIMIT_MS - 20_000) {
      throw new Error("Cannot finish the benchmark: it ran out of time");
    }
  };
  const dir = Deno.makeTempDirSync({ prefix: "kt-bench-" });
  const contestants: Contestant[] = [];
  const notes: string[] = [];
  let sock: PacketSocket | undefined;
  let bare: Deno.ChildProcess | undefined;
  const clock = new RealtimeClock();
  try {
    const up = await run("ip", ["link", "set", "lo", "up"]);
    if (up.code !== 0) throw new Error(`Cannot bring "lo" up: ${up.out.trim()}`);
    const ticks = clockTicksPerSecond();
    const loadAverage = Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");

    for (const who of ["knocktool", "knockd"]) {
      Deno.writeTextFileSync(`${dir}/${who}.conf`, configText(dir, who));
    }
    const parsed = loadConfig(`${dir}/knockd.conf`);
    if (!parsed.ok) throw new Error(`Cannot parse the bench config: ${parsed.error.message}`);
    const filter = knockdFilter(parsed.config.doors, { v4: ["127.0.0.1"], v6: ["::1"] }, false);

    // Frames, built once.
    console.error("bench: building frames...");
    const pool = Math.min(sizes.pool, 65536);
    const w1Pool = Array.from(
      { length: pool },
      (_, i) => frame(spoofed(10, i), "tcp", 8000, 1024 + (i % 60000)),
    );
    const w3Pool = Array.from(
      { length: pool },
      (_, i) =>
        i % 3 === 2
          ? frame(spoofed(11, i), "udp", 11000 + (i % 1000), 1024 + (i % 60000))
          : frame(spoofed(11, i), "tcp", 10000 + (i % 1000), 1024 + (i % 60000)),
    );
    const w2Pool = Array.from(
      { length: Math.min(sizes.w2Flood, 65536) },
      (_, i) => frame(spoofed(12, i), "tcp", 7000, 1024 + (i % 60000)),
    );
    const knockA = (src: string) => [7000, 8000, 9000].map((p) => frame(src, "tcp", p, 45000));
    check();

    sock = PacketSocket.open("lo");
    const s = sock;
    const sendAll = (frames: readonly Uint8Array[], count: number): number => {
      const t = performance.now();
      for (let i = 0; i < count; i++) s.send(frames[i % frames.length]!);
      return (performance.now() - t) / 1000;
    };

    // Start the three processes.
    contestants.push(
      new Contestant(
        "tcpdump",
        "tcpdump",
        ["-i", "lo", "-n", "-s", "65535", "-w", "/dev/null", filter],
        null,
        null,
      ),
      new Contestant(
        "knockd",
        KNOCKD,
        ["-i", "lo", "-c", `${dir}/knockd.conf`],
        `${dir}/knockd.marker`,
        `${dir}/knockd.log`,
      ),
      new Contestant(
        "knocktool",
        Deno.execPath(),
        [
          "run",
          "-A",
          "--config",
          DENO_JSON,
          SERVE_V8_FLAGS,
          ...(opts.profile === undefined ? [] : [`--inspect=127.0.0.1:${INSPECT_PORT}`]),
          MAIN_TS,
          "serve",
          "-i",
          "lo",
          "-c",
          `${dir}/knocktool.conf`,
          ...opts.serveArgs,
        ],
        `${dir}/knocktool.marker`,
        `${dir}/knocktool.log`,
      ),
    );
    // The runtime's floor: an idle script under the same deno, measured like the others.
    Deno.writeTextFileSync(`${dir}/idle.ts`, "setInterval(() => {}, 1 << 30);\n");
    bare = new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-config", `${dir}/idle.ts`],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const byName = (n: Contender) => contestants.find((c) => c.name === n)!;
    const daemons = contestants.filter((c) => c.marker !== null);

    // Ready: tcpdump says it listens, and both daemons ran door B's command for a probe knock.
    console.error("bench: waiting for the three processes...");
    let probe = 0;
    for (;;) {
      check();
      for (const c of contestants) {
        const st = await Promise.race([c.child.status, sleep(0).then(() => null)]);
        if (st !== null) {
          throw new Error(`Cannot start ${c.name}: exit status ${st.code}: ${c.stderr.trim()}`);
        }
      }
      const src = `127.250.${probe >> 8}.${(probe & 255) + 1}`;
      probe++;
      s.send(frame(src, "udp", 2222, 45000));
      s.send(frame(src, "tcp", 3333, 45000));
      await sleep(300);
      const ok = /listening on lo/.test(byName("tcpdump").stderr) &&
        daemons.every((d) => readText(d.marker).includes(" B "));
      if (ok) break;
      if (Date.now() - started > 60_000) {
        throw new Error("Cannot start the daemons: not ready after 60 s");
      }
    }

    const cpuAll = () => per((n) => byName(n).cpu());
    const seconds = (a: PerContender<CpuTicks>, b: PerContender<CpuTicks>) =>
      per((n) => {
        const x = a[n];
        const y = b[n];
        return x === null || y === null ? null : (y.utime + y.stime - x.utime - x.stime) / ticks;
      });
    /** Waits until no process gains CPU for 300 ms (they drained their rings), at most maxMs. */
    // The inspector's sampler keeps knocktool busy while profiling: shorter bound, no note.
    const settleMs = opts.profile === undefined ? 15_000 : 3_000;
    const settle = async (maxMs: number) => {
      const end = Date.now() + maxMs;
      let last = JSON.stringify(cpuAll());
      let stable = 0;
      while (Date.now() < end && stable < 3) {
        await sleep(100);
        const now = JSON.stringify(cpuAll());
        stable = now === last ? stable + 1 : 0;
        last = now;
      }
      if (stable < 3 && opts.profile === undefined) {
        notes.push(`a process was still busy ${maxMs} ms after a workload`);
      }
    };
    const tcpdumpStats = async (): Promise<
      { recv: number; drop: number; captured: number } | null
    > => {
      const td = byName("tcpdump");
      const before = td.stderr.length;
      try {
        Deno.kill(td.pid, "SIGUSR1");
      } catch {
        return null;
      }
      for (let i = 0; i < 20 && td.stderr.length === before; i++) await sleep(25);
      const all = [...td.stderr.matchAll(
        /(\d+) packets? captured[,\s]+(\d+) packets? received by filter[,\s]+(\d+) packets? dropped by kernel/g,
      )];
      const m = all.at(-1);
      return m ? { captured: Number(m[1]), recv: Number(m[2]), drop: Number(m[3]) } : null;
    };

    const nsAll = () => per((n) => readThreadsNs(byName(n).pid) ?? null);
    const flood = async (frames: readonly Uint8Array[], count: number): Promise<FloodResult> => {
      const s0 = await tcpdumpStats();
      const t0 = cpuAll();
      const n0 = nsAll();
      const sendSeconds = sendAll(frames, count);
      await settle(settleMs);
      const t1 = cpuAll();
      const n1 = nsAll();
      const s1 = await tcpdumpStats();
      const cpu = seconds(t0, t1);
      return {
        packets: count,
        distinct: Math.min(count, frames.length),
        sendSeconds,
        cpuSeconds: cpu,
        usPerPacket: per((n) => cpu[n] === null ? null : (cpu[n]! / count) * 1e6),
        usPerPacketThreads: per((n) => {
          const a = n0[n];
          const b = n1[n];
          return a === null || b === null ? null : (b - a) / 1000 / count;
        }),
        tcpdumpDrops: s0 && s1 ? s1.drop - s0.drop : null,
      };
    };

    // Warm-up (JIT), not measured.
    console.error("bench: warm-up...");
    sendAll(w1Pool, sizes.warmup);
    await settle(10_000);
    check();

    console.error(`bench: w4 idle ${sizes.w4Seconds} s...`);
    const i0 = cpuAll();
    await sleep(sizes.w4Seconds * 1000);
    const idleCpu = seconds(i0, cpuAll());
    const w4 = {
      seconds: sizes.w4Seconds,
      cpuSeconds: idleCpu,
      cpuPercent: per((n) => idleCpu[n] === null ? null : (idleCpu[n]! / sizes.w4Seconds) * 100),
    };
    check();

    const rssReadyKiB = per((n) => readVmRssKiB(byName(n).pid) ?? null);
    const memReady = per((n) => readMemoryKiB(byName(n).pid) ?? null);
    const bareMem = readMemoryKiB(bare.pid) ?? null;
    let inspector: InspectorSession | undefined;
    const profiles: Record<string, SelfTime[]> = {};
    const profiled = async <T>(label: string, work: () => Promise<T>): Promise<T> => {
      if (opts.profile === undefined) return await work();
      inspector ??= await InspectorSession.connect(`127.0.0.1:${INSPECT_PORT}`);
      await inspector.startProfile(250);
      const r = await work();
      const profile = await inspector.stopProfile();
      const file = label === "w1"
        ? opts.profile
        : `${opts.profile.replace(/\.cpuprofile$/, "")}-${label}.cpuprofile`;
      Deno.writeTextFileSync(file, JSON.stringify(profile));
      profiles[label] = selfTimes(profile, 15);
      return r;
    };

    console.error(`bench: w1 ${sizes.w1} in-filter SYNs...`);
    const w1 = await profiled("w1", () => flood(w1Pool, sizes.w1));
    const rssAfterW1KiB = per((n) => readVmRssKiB(byName(n).pid) ?? null);
    check();
    console.error(`bench: w3 ${sizes.w3} off-door packets...`);
    const w3 = await flood(w3Pool, sizes.w3);
    check();

    // w2: the flood of first knocks, then real knockers spread so that the flood's attempts
    // expire (whole seconds, Seq_Timeout 2) while some of them are half-way.
    console.error(
      `bench: w2 ${sizes.w2Flood} spoofed first knocks + ${sizes.w2Knockers} knockers...`,
    );
    const k = sizes.w2Knockers;
    const knockerSrc = (i: number) => `127.200.0.${i + 1}`;
    const knockerFrames = Array.from({ length: k }, (_, i) => knockA(knockerSrc(i)));
    const events: { at: number; f: Uint8Array }[] = [];
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < 3; j++) {
        events.push({ at: 500 + i * 150 + j * 300, f: knockerFrames[i]![j]! });
      }
    }
    events.sort((a, b) => a.at - b.at);
    const { s20, c20, c21, s21, rssAfterFloodKiB, memAfterFlood } = await profiled(
      "w2",
      async () => {
        const s20 = await tcpdumpStats();
        const c20 = cpuAll();
        sendAll(w2Pool, sizes.w2Flood);
        const floodEnd = performance.now();
        await sleep(100);
        const rssAfterFloodKiB = per((n) => readVmRssKiB(byName(n).pid) ?? null);
        const memAfterFlood = per((n) => readMemoryKiB(byName(n).pid) ?? null);
        for (const e of events) {
          check();
          const wait = floodEnd + e.at - performance.now();
          if (wait > 0) await sleep(wait);
          s.send(e.f);
        }
        // Let knocktool's timer expire the flood's attempts, and the commands finish.
        const expireBy = floodEnd + (SEQ_TIMEOUT_A + 1.5) * 1000;
        const lastKnock = floodEnd + (events.at(-1)?.at ?? 0) + 1000;
        await sleep(Math.max(0, expireBy - performance.now(), lastKnock - performance.now()));
        await settle(settleMs);
        const c21 = cpuAll();
        const s21 = await tcpdumpStats();
        return { s20, c20, c21, s21, rssAfterFloodKiB, memAfterFlood };
      },
    );
    const rssKiB = per((n) => readVmRssKiB(byName(n).pid) ?? null);
    const countIn = (text: string, re: RegExp) => text.split("\n").filter((l) => re.test(l)).length;
    const w2 = {
      floodPackets: sizes.w2Flood,
      knockers: k,
      cpuSeconds: seconds(c20, c21),
      opensLogged: per((n) =>
        n === "tcpdump"
          ? null
          : countIn(readText(byName(n).log), /127\.200\.0\.\d+: A: OPEN SESAME/)
      ),
      commandsRan: per((n) =>
        n === "tcpdump" ? null : countIn(readText(byName(n).marker), /^127\.200\.0\.\d+ A /)
      ),
      rssReadyKiB,
      rssAfterW1KiB,
      rssAfterFloodKiB,
      rssKiB,
      tcpdumpDrops: s20 && s21 ? s21.drop - s20.drop : null,
    };
    check();

    // w5: latency of the command after the last knock, one knocker at a time.
    console.error(`bench: w5 latency over ${sizes.w5Knocks} knocks...`);
    const lat: Record<string, number[]> = { knocktool: [], knockd: [] };
    for (let i = 0; i < sizes.w5Knocks; i++) {
      check();
      const src = `127.201.0.${i + 1}`;
      const [f1, f2, f3] = knockA(src);
      s.send(f1!);
      s.send(f2!);
      const sentNs = clock.nowNs();
      s.send(f3!);
      const re = new RegExp(`^${src.replaceAll(".", "\\.")} A (\\d+)$`, "m");
      const pending = new Set(daemons);
      const deadline = performance.now() + 2000;
      while (pending.size > 0 && performance.now() < deadline) {
        await sleep(1);
        for (const d of [...pending]) {
          const m = re.exec(readText(d.marker));
          if (m) {
            lat[d.name]!.push(Number(BigInt(m[1]!) - sentNs) / 1e6);
            pending.delete(d);
          }
        }
      }
      await sleep(20);
    }
    const w5 = {
      knocks: sizes.w5Knocks,
      seen: per((n) => lat[n]?.length ?? null),
      p50Ms: per((n) => lat[n] ? percentile(lat[n], 50) : null),
      p99Ms: per((n) => lat[n] ? percentile(lat[n], 99) : null),
      maxMs: per((n) => lat[n] ? percentile(lat[n], 100) : null),
    };

    // w6: door B knocks mixed into an in-filter flood; a knock lost is a packet dropped.
    check();
    console.error(`bench: w6 ${sizes.w6} in-filter SYNs with ${sizes.w6Knocks} knocks mixed in...`);
    const every = Math.floor(sizes.w6 / sizes.w6Knocks);
    const knocksB = Array.from({ length: sizes.w6Knocks }, (_, j) => {
      const src = `127.202.${j >> 8}.${(j & 255) + 1}`;
      return [frame(src, "udp", 2222, 45000), frame(src, "tcp", 3333, 45000)];
    });
    for (let i = 0; i < sizes.w6; i++) {
      s.send(w1Pool[i % w1Pool.length]!);
      const kb = i % every === every >> 1 ? knocksB[Math.floor(i / every)] : undefined;
      if (kb !== undefined) {
        s.send(kb[0]!);
        s.send(kb[1]!);
      }
    }
    await settle(settleMs);
    // Commands beyond the running cap wait in a queue: wait until no marker line has been added
    // for a second (at most 10 s) before counting.
    const w6Ran = () =>
      per((n) => n === "tcpdump" ? null : countIn(readText(byName(n).marker), /^127\.202\.\S+ B /));
    for (let last = "", stableSince = Date.now(), end = Date.now() + 10_000; Date.now() < end;) {
      const now = JSON.stringify(w6Ran());
      if (now !== last) [last, stableSince] = [now, Date.now()];
      else if (Date.now() - stableSince >= 1000) break;
      await sleep(100);
    }
    const w6 = {
      packets: sizes.w6,
      knocks: sizes.w6Knocks,
      opened: per((n) =>
        n === "tcpdump" ? null : countIn(readText(byName(n).log), /127\.202\.\S+: B: OPEN SESAME/)
      ),
      served: w6Ran(),
    };

    // Scale: live attempts (door C's first knock from distinct sources, which never expire
    // during the run), then in-filter packets from sources without an attempt.
    const scaleAttempts: ScaleAttemptsRow[] = [];
    if (opts.scale) {
      let made = 0;
      for (const level of sizes.scaleAttempts) {
        check();
        console.error(`bench: scale: ${level} live attempts...`);
        for (; made < level; made++) {
          s.send(
            frame(`127.13.${(made >> 8) & 255}.${made & 255}`, "tcp", 7500, 1024 + made % 60000),
          );
        }
        await settle(settleMs);
        const memory = per((n) => readMemoryKiB(byName(n).pid) ?? null);
        const f = await flood(w1Pool, sizes.scalePackets);
        scaleAttempts.push({ attempts: level, usPerPacket: f.usPerPacketThreads, memory });
      }
    }

    // Stop everything; tcpdump prints its totals on SIGTERM.
    for (const c of contestants) await c.stop();
    const serveCommand = (conf: string, ...extra: string[]) => ({
      cmd: Deno.execPath(),
      args: ["run", "-A", "--config", DENO_JSON, SERVE_V8_FLAGS, MAIN_TS, "serve", "-i", "lo"]
        .concat(["-c", conf, ...extra]),
    });
    // w5g: knock -> grant in an nftables set, knocktool alone (knockd 0.8 has no grants). A
    // latency figure, not a scale one: it runs with --no-scale too.
    check();
    console.error(`bench: w5g knock -> nftables set element over ${sizes.w5gKnocks} knocks...`);
    const w5g = await measureGrantLatency({
      dir,
      serveCommand,
      sock: s,
      knockFrames: knockA,
      knocks: sizes.w5gKnocks,
      warmup: sizes.w5gWarmup,
      check,
    });
    const scaleDoors = opts.scale
      ? await measureDoors({
        dir,
        serveCommand,
        sock: s,
        packets: sizes.scalePackets,
        check,
      }, sizes.scaleDoors)
      : [];
    const fin =
      /(\d+) packets? captured\s+(\d+) packets? received by filter\s+(\d+) packets? dropped by kernel/
        .exec(byName("tcpdump").stderr);
    for (const d of daemons) {
      const errs = d.stderr.trim();
      if (errs !== "") notes.push(`${d.name} stderr: ${errs.split("\n").slice(0, 3).join(" | ")}`);
    }
    const rev = await run("git", [
      "-C",
      new URL("..", import.meta.url).pathname,
      "rev-parse",
      "--short",
      "HEAD",
    ]);
    const commit = rev.code === 0 ? rev.out.trim() : "unknown";
    const results: BenchResults = {
      date: new Date().toISOString(),
      quick: opts.quick,
      mode: "concurrent",
      commit,
      serveArgs: opts.serveArgs,
      clockTicks: ticks,
      loadAverage,
      w1,
      w2,
      w3,
      w4,
      w5,
      w5g,
      memory: { ready: memReady, afterFlood: memAfterFlood, bareDeno: bareMem },
      w6,
      ...(opts.scale
        ? { scale: { packets: sizes.scalePackets, attempts: scaleAttempts, doors: scaleDoors } }
        : {}),
      tcpdumpFinal: fin
        ? `${fin[1]} captured, ${fin[2]} received by filter, ${fin[3]} dropped by kernel`
        : null,
      profiles,
      notes,
    };
    console.log(formatTable(results));
    await inspector?.close();
    if (opts.json !== undefined) {
      Deno.writeTextFileSync(opts.json, JSON.stringify(results, null, 2) + "\n");
      console.error(`bench: wrote ${opts.json}`);
    }
    if (opts.keep) console.error(`bench: kept ${dir}`);
    return 0;
  } catch (e) {
    console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
    for (const c of contestants) {
      const t = c.stderr.trim();
      if (t !== "") console.error(`bench: ${c.name} stderr: ${t.slice(0, 2000)}`);
    }
    return 1;
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
    for (const c of contestants) await c.stop();
    try {
      bare?.kill("SIGKILL");
    } catch { /* gone */ }
    await bare?.status;
    sock?.close();
    clock.close();
    if (!opts.keep) Deno.removeSync(dir, { recursive: true });
  }
}

if (import.meta.main) {
  let opts: Options;
  try {
    opts = parseArgs(Deno.args);
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    Deno.exit(2);
  }
  Deno.exit(opts.inner ? await inner(opts) : await outer(opts));
}
