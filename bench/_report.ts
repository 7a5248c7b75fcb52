/**
 * The result record of `bench/harness.ts`, its plain-text side-by-side table, and the median of
 * several runs ({@link medianResults}).
 *
 * Over 400 lines: the result record, its table and the median are one format, written and read
 * only here.
 *
 * @module
 */
import type { MemoryKiB } from "./_proc.ts";
import type { GrantLatencyResult } from "./_grant_latency.ts";

/** The three processes measured. */
export const CONTENDERS = ["knocktool", "knockd", "tcpdump"] as const;

/** One of {@link CONTENDERS}. */
export type Contender = typeof CONTENDERS[number];

/** A value per contender (null: not measured or not applicable). */
export type PerContender<T> = Record<Contender, T | null>;

/** A flood workload (w1, w3). */
export interface FloodResult {
  /** Frames sent. */
  readonly packets: number;
  /** Distinct frames (sources) cycled through. */
  readonly distinct: number;
  /** Seconds the sender took. */
  readonly sendSeconds: number;
  /** CPU seconds of each process over the workload (utime + stime). */
  readonly cpuSeconds: PerContender<number>;
  /** Microseconds of CPU per packet sent. */
  readonly usPerPacket: PerContender<number>;
  /**
   * Microseconds per packet from the summed `schedstat` run time of the live threads: finer than
   * the 10 ms ticks (matters for tcpdump), blind to threads that exited during the workload.
   */
  readonly usPerPacketThreads: PerContender<number>;
  /** tcpdump's own count of kernel drops over the workload (`ps_drop`; over-counts on `lo`). */
  readonly tcpdumpDrops: number | null;
}

/** The flood-then-knockers workload (w2). */
export interface KnockersResult {
  /** Spoofed sources that knocked door A's first port. */
  readonly floodPackets: number;
  /** Real knockers that completed door A. */
  readonly knockers: number;
  /** CPU seconds of each process over the workload. */
  readonly cpuSeconds: PerContender<number>;
  /** `OPEN SESAME` lines logged for the real knockers. */
  readonly opensLogged: PerContender<number>;
  /** Commands that ran for the real knockers (lines in the marker file). */
  readonly commandsRan: PerContender<number>;
  /** VmRSS in KiB once the processes were ready (before any workload). */
  readonly rssReadyKiB: PerContender<number>;
  /** VmRSS in KiB after w1 (which runs before w2). */
  readonly rssAfterW1KiB: PerContender<number>;
  /** VmRSS in KiB right after the flood. */
  readonly rssAfterFloodKiB: PerContender<number>;
  /** VmRSS in KiB at the end of the workload. */
  readonly rssKiB: PerContender<number>;
  /** tcpdump's own count of kernel drops over the workload. */
  readonly tcpdumpDrops: number | null;
}

/** The idle workload (w4). */
export interface IdleResult {
  /** Seconds idle. */
  readonly seconds: number;
  /** CPU seconds over the period. */
  readonly cpuSeconds: PerContender<number>;
  /** CPU use in percent of one core. */
  readonly cpuPercent: PerContender<number>;
}

/** The knock-to-command latency workload (w5). */
export interface LatencyResult {
  /** Knock sequences sent. */
  readonly knocks: number;
  /** Commands seen per daemon. */
  readonly seen: PerContender<number>;
  /** Median latency, milliseconds. */
  readonly p50Ms: PerContender<number>;
  /** 99th percentile (nearest rank), milliseconds. */
  readonly p99Ms: PerContender<number>;
  /** Largest latency, milliseconds. */
  readonly maxMs: PerContender<number>;
}

/** Memory split of each process (`/proc/PID/smaps_rollup`), and of a bare `deno run`. */
export interface MemoryResult {
  /** When ready, before any workload. */
  readonly ready: PerContender<MemoryKiB>;
  /** Right after w2's flood of spoofed first knocks. */
  readonly afterFlood: PerContender<MemoryKiB>;
  /** An idle `deno run` script started alongside (the runtime's own floor). */
  readonly bareDeno: MemoryKiB | null;
}

/** w6: door knocks mixed into an in-filter flood; a lost knock means a dropped packet. */
export interface DropsResult {
  /** Flood frames sent. */
  readonly packets: number;
  /** Door B knocks (2 frames each) mixed in. */
  readonly knocks: number;
  /** Knocks detected (`OPEN SESAME` logged): a lost one is a dropped packet. */
  readonly opened?: PerContender<number>;
  /** Knocks whose command ran. */
  readonly served: PerContender<number>;
}

/** One level of live attempts. */
export interface ScaleAttemptsRow {
  /** Live attempts (door C, first knock from distinct sources). */
  readonly attempts: number;
  /** CPU per in-filter packet (no attempt of its own) with that many attempts live. */
  readonly usPerPacket: PerContender<number>;
  /** Memory with that many attempts live. */
  readonly memory: PerContender<MemoryKiB>;
}

/** One door count (knocktool alone). */
export interface ScaleDoorsRow {
  /** Doors in the config. */
  readonly doors: number;
  /** CPU per in-filter packet. */
  readonly usPerPacket: number | null;
  /** Memory when ready. */
  readonly ready: MemoryKiB | null;
  /** Memory after the flood. */
  readonly after: MemoryKiB | null;
}

/** How CPU per packet and memory grow with live attempts and with doors. */
export interface ScaleResult {
  /** In-filter packets sent per level. */
  readonly packets: number;
  /** Per level of live attempts (all three processes). */
  readonly attempts: readonly ScaleAttemptsRow[];
  /** Per door count (knocktool alone, one process per count). */
  readonly doors: readonly ScaleDoorsRow[];
}

/** Everything one harness run measured. */
export interface BenchResults {
  /** ISO time of the run. */
  readonly date: string;
  /** Whether `--quick` was given. */
  readonly quick: boolean;
  /** How the contenders shared the traffic. */
  readonly mode: "concurrent";
  /** `git rev-parse --short HEAD` of the tree that ran. */
  readonly commit: string;
  /** Extra arguments given to `knocktool serve` (`--serve-arg`). */
  readonly serveArgs: readonly string[];
  /** Clock ticks per second used to convert `/proc/PID/stat`. */
  readonly clockTicks: number;
  /** Load average when the run started (the machine is shared). */
  readonly loadAverage: string;
  /** In-filter TCP SYNs to door A's second port, no attempt open. */
  readonly w1: FloodResult;
  /** Spoofed flood of door A's first port, then real knockers. */
  readonly w2: KnockersResult;
  /** Packets to ports no door uses. */
  readonly w3: FloodResult;
  /** Idle. */
  readonly w4: IdleResult;
  /** Knock-to-command latency. */
  readonly w5: LatencyResult;
  /** Knock-to-grant latency (nftables set), knocktool alone. */
  readonly w5g?: GrantLatencyResult;
  /** Memory split. */
  readonly memory?: MemoryResult;
  /** Knocks mixed into a flood. */
  readonly w6?: DropsResult;
  /** Scale: live attempts and doors. */
  readonly scale?: ScaleResult;
  /** Number of runs this record is the median of (absent: one run). */
  readonly runs?: number;
  /** tcpdump's closing statistics line. */
  readonly tcpdumpFinal: string | null;
  /** With `--profile`: knocktool's heaviest functions (self time) per profiled workload. */
  readonly profiles: Readonly<
    Record<string, readonly { where: string; share: number; hits: number }[]>
  >;
  /** Anything odd the harness noticed. */
  readonly notes: readonly string[];
}

/**
 * Formats a number with a fixed count of decimals, or `-` for null.
 *
 * @param v The value.
 * @param decimals Digits after the point.
 * @returns The text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fmt } from "./_report.ts";
 * assert.equal(fmt(1.234, 2), "1.23");
 * assert.equal(fmt(null, 2), "-");
 * ```
 */
export function fmt(v: number | null | undefined, decimals: number): string {
  return v === null || v === undefined || !Number.isFinite(v) ? "-" : v.toFixed(decimals);
}

/**
 * knocktool / knockd, or null when either is missing or knockd's value is 0.
 *
 * @param v Values per contender.
 * @returns The ratio.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ratio } from "./_report.ts";
 * assert.equal(ratio({ knocktool: 1, knockd: 4, tcpdump: null }), 0.25);
 * ```
 */
export function ratio(v: PerContender<number>): number | null {
  return v.knocktool === null || v.knockd === null || v.knockd === 0
    ? null
    : v.knocktool / v.knockd;
}

/**
 * Nearest-rank percentile of a list of numbers.
 *
 * @param values The samples (any order).
 * @param p Percentile, 0 < p <= 100.
 * @returns The sample at that rank, or null for an empty list.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { percentile } from "./_report.ts";
 * const xs = [5, 1, 4, 2, 3];
 * assert.equal(percentile(xs, 50), 3);
 * assert.equal(percentile(xs, 99), 5);
 * ```
 */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? null;
}

function row(
  label: string,
  v: PerContender<number>,
  decimals: number,
  withRatio = true,
): string {
  const cells = [v.knocktool, v.knockd, v.tcpdump].map((x) => fmt(x, decimals).padStart(11));
  const r = withRatio ? fmt(ratio(v), 2).padStart(11) : "".padStart(11);
  return `  ${label.padEnd(36)}${cells.join("")}${r}`.trimEnd();
}

/**
 * The side-by-side table (knocktool | knockd | tcpdump | knocktool/knockd).
 *
 * @param r The results.
 * @returns Plain text, one line per figure.
 */
export function formatTable(r: BenchResults): string {
  const kib = (v: PerContender<number>): PerContender<number> => ({
    knocktool: v.knocktool === null ? null : v.knocktool / 1024,
    knockd: v.knockd === null ? null : v.knockd / 1024,
    tcpdump: v.tcpdump === null ? null : v.tcpdump / 1024,
  });
  const lines = [
    `knocktool bench ${r.date}${r.quick ? " (--quick)" : ""}` +
    (r.runs !== undefined ? `; MEDIAN OF ${r.runs} RUNS` : "") +
    `; all three on the same lo at once;` +
    ` load average at start ${r.loadAverage}; commit ${r.commit}` +
    (r.serveArgs.length > 0 ? `; serve ${r.serveArgs.join(" ")}` : ""),
    `  ${"".padEnd(36)}${
      ["knocktool", "knockd", "tcpdump", "kt/knockd"].map((h) => h.padStart(11)).join("")
    }`,
    `w1 ${r.w1.packets} in-filter SYNs to 8000, no attempt (${r.w1.distinct} sources,` +
    ` sent in ${fmt(r.w1.sendSeconds, 2)} s)`,
    row("CPU s", r.w1.cpuSeconds, 3),
    row("CPU us/packet", r.w1.usPerPacket, 3),
    row("CPU us/packet (thread schedstat)", r.w1.usPerPacketThreads, 3),
    `  tcpdump kernel drops: ${r.w1.tcpdumpDrops ?? "-"}`,
    `w3 ${r.w3.packets} packets to ports no door uses (sent in ${fmt(r.w3.sendSeconds, 2)} s)`,
    row("CPU s", r.w3.cpuSeconds, 3),
    row("CPU us/packet", r.w3.usPerPacket, 3),
    row("CPU us/packet (thread schedstat)", r.w3.usPerPacketThreads, 3),
    `  tcpdump kernel drops: ${r.w3.tcpdumpDrops ?? "-"}`,
    `w2 ${r.w2.floodPackets} spoofed sources on 7000, then ${r.w2.knockers} real knockers complete A`,
    row("CPU s", r.w2.cpuSeconds, 3),
    row(`OPEN SESAME logged (of ${r.w2.knockers})`, r.w2.opensLogged, 0),
    row(`commands run (of ${r.w2.knockers})`, r.w2.commandsRan, 0),
    row("VmRSS MiB when ready (before w4)", kib(r.w2.rssReadyKiB), 1),
    row("VmRSS MiB after w1", kib(r.w2.rssAfterW1KiB), 1),
    row("VmRSS MiB right after the w2 flood", kib(r.w2.rssAfterFloodKiB), 1),
    row("VmRSS MiB after w2", kib(r.w2.rssKiB), 1),
    `  tcpdump kernel drops: ${r.w2.tcpdumpDrops ?? "-"}`,
    `w4 idle ${r.w4.seconds} s`,
    row("CPU %", r.w4.cpuPercent, 2),
    `w5 knock-to-command latency over ${r.w5.knocks} knocks (last frame sent -> date +%s%N in the command)`,
    row("commands seen", r.w5.seen, 0, false),
    row("p50 ms", r.w5.p50Ms, 1),
    row("p99 ms", r.w5.p99Ms, 1),
    row("max ms", r.w5.maxMs, 1),
  ];
  if (r.w5g !== undefined) {
    const g = r.w5g;
    const only = (v: number | null): PerContender<number> => ({
      knocktool: v,
      knockd: null,
      tcpdump: null,
    });
    lines.push(
      `w5g knock-to-grant latency over ${g.knocks} knocks, knocktool alone (knockd 0.8 has no` +
        ` grants): last frame sent -> the kernel's notification of the new element in the Nft_Set` +
        ` set, received by the harness`,
      row("elements seen", only(g.seen), 0, false),
      row("p50 ms", only(g.p50Ms), 2, false),
      row("p99 ms", only(g.p99Ms), 2, false),
      row("max ms", only(g.maxMs), 2, false),
    );
  }
  const mib = (f: (m: MemoryKiB) => number) => (v: PerContender<MemoryKiB>) =>
    kib(per3((n) => (v[n] === null ? null : f(v[n]!))));
  const rssOf = mib((m) => m.rss);
  const anonOf = mib((m) => m.anon);
  const fileOf = mib((m) => m.file);
  if (r.memory !== undefined) {
    const m = r.memory;
    lines.push(
      "memory (/proc/PID/smaps_rollup), MiB",
      row("RSS when ready", rssOf(m.ready), 1),
      row("  anonymous", anonOf(m.ready), 1),
      row("  file-backed and shared", fileOf(m.ready), 1),
      row(`RSS after the w2 flood`, rssOf(m.afterFlood), 1),
      row("  anonymous", anonOf(m.afterFlood), 1),
      row("  file-backed and shared", fileOf(m.afterFlood), 1),
      `  a bare \`deno run\` (idle script): RSS ${fmt((m.bareDeno?.rss ?? NaN) / 1024, 1)},` +
        ` anonymous ${fmt((m.bareDeno?.anon ?? NaN) / 1024, 1)}`,
    );
  }
  if (r.w6 !== undefined) {
    lines.push(
      `w6 ${r.w6.packets} in-filter SYNs with ${r.w6.knocks} door-B knocks mixed in (ring drops)`,
      ...(r.w6.opened !== undefined
        ? [row(`OPEN SESAME logged (of ${r.w6.knocks})`, r.w6.opened, 0)]
        : []),
      row(`commands run (of ${r.w6.knocks})`, r.w6.served, 0),
    );
  }
  if (r.scale !== undefined) {
    lines.push(
      `scale: live attempts (door C, Seq_Timeout 600), then ${r.scale.packets} in-filter SYNs`,
    );
    for (const a of r.scale.attempts) {
      lines.push(
        row(`${a.attempts} attempts: CPU us/packet`, a.usPerPacket, 3),
        row(`${a.attempts} attempts: RSS MiB`, rssOf(a.memory), 1),
        row(`${a.attempts} attempts: anonymous MiB`, anonOf(a.memory), 1),
      );
    }
    lines.push(`scale: doors (knocktool alone), ${r.scale.packets} in-filter SYNs`);
    for (const d of r.scale.doors) {
      lines.push(
        `  ${`${d.doors} doors`.padEnd(12)} CPU us/packet ${fmt(d.usPerPacket, 3)};` +
          ` RSS ready ${fmt((d.ready?.rss ?? NaN) / 1024, 1)} MiB` +
          ` (anonymous ${fmt((d.ready?.anon ?? NaN) / 1024, 1)}),` +
          ` after ${fmt((d.after?.rss ?? NaN) / 1024, 1)} MiB`,
      );
    }
  }
  for (const [label, top] of Object.entries(r.profiles)) {
    lines.push(`knocktool CPU profile during ${label} (self time, inspector attached):`);
    for (const t of top) lines.push(`  ${(t.share * 100).toFixed(1).padStart(5)}%  ${t.where}`);
  }
  if (r.tcpdumpFinal !== null) lines.push(`tcpdump at exit: ${r.tcpdumpFinal}`);
  for (const n of r.notes) lines.push(`note: ${n}`);
  return lines.join("\n");
}

function per3<T>(f: (c: Contender) => T | null): PerContender<T> {
  return { knocktool: f("knocktool"), knockd: f("knockd"), tcpdump: f("tcpdump") };
}

function median(xs: readonly unknown[]): unknown {
  const first = xs[0];
  if (xs.every((x) => typeof x === "number" || x === null || x === undefined)) {
    const nums = xs.filter((x): x is number => typeof x === "number" && Number.isFinite(x));
    return nums.length === 0 ? first : percentile(nums, 50);
  }
  if (xs.every((x) => Array.isArray(x))) {
    const arrays = xs as unknown[][];
    if (arrays.every((a) => typeof a[0] === "string" || a.length === 0)) {
      return [...new Set(arrays.flat())];
    }
    const n = Math.min(...arrays.map((a) => a.length));
    return Array.from({ length: n }, (_, i) => median(arrays.map((a) => a[i])));
  }
  if (xs.every((x) => typeof x === "object" && x !== null && !Array.isArray(x))) {
    const objs = xs as Record<string, unknown>[];
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(objs[0]!)) out[k] = median(objs.map((o) => o[k]));
    return out;
  }
  return first;
}

/**
 * The median of several runs, figure by figure (nearest rank; null figures ignored); text fields
 * come from the first run, notes from all.
 *
 * @param runs The runs (at least one).
 * @returns A record of the same shape, with `runs` set.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type BenchResults, medianResults } from "./_report.ts";
 * const r = (p50: number) => ({ w5: { p50Ms: { knocktool: p50 } }, notes: [] });
 * const m = medianResults([r(3), r(1), r(2)] as unknown as BenchResults[]);
 * assert.equal(m.w5.p50Ms.knocktool, 2);
 * assert.equal(m.runs, 3);
 * ```
 */
export function medianResults(runs: readonly BenchResults[]): BenchResults {
  return { ...(median(runs) as BenchResults), runs: runs.length };
}
