/**
 * Per-process readings from `/proc` for the comparative benchmark (`bench/harness.ts`): CPU time
 * from `/proc/PID/stat` (utime + stime of the process itself, all its threads, not its children)
 * and resident memory from `/proc/PID/status`. Linux only.
 *
 * @module
 */

/** CPU time of one process, as `/proc/PID/stat` has it. */
export interface CpuTicks {
  /** utime, in clock ticks. */
  readonly utime: number;
  /** stime, in clock ticks. */
  readonly stime: number;
}

/**
 * Parses the utime and stime fields (14 and 15) of a `/proc/PID/stat` line. The command name
 * (field 2) is in parentheses and may itself hold spaces and parentheses, so fields are counted
 * from the last `)`.
 *
 * @param text The file's content.
 * @returns The two fields, in clock ticks.
 * @throws {Error} When the text is not a stat line.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseStat } from "./_proc.ts";
 * const line = "42 (a b) c) S 1 42 42 0 -1 4194560 10 0 0 0 17 5 0 0 20 0 1 0 9 1000 50";
 * const t = parseStat(line);
 * assert.equal(t.utime, 17);
 * assert.equal(t.stime, 5);
 * ```
 */
export function parseStat(text: string): CpuTicks {
  const close = text.lastIndexOf(")");
  const rest = close < 0 ? [] : text.slice(close + 2).trim().split(/\s+/);
  // rest[0] is field 3 (state); utime is field 14, stime field 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isInteger(utime) || !Number.isInteger(stime)) {
    throw new Error(`Cannot parse "/proc/PID/stat": expected utime and stime, got "${text}"`);
  }
  return { utime, stime };
}

/**
 * Reads a process's own CPU time (utime + stime, all threads, children excluded).
 *
 * @param pid Process id.
 * @returns The ticks.
 * @throws {Error} When the process is gone or the file cannot be parsed.
 */
export function readCpuTicks(pid: number): CpuTicks {
  return parseStat(Deno.readTextFileSync(`/proc/${pid}/stat`));
}

/**
 * Reads the sum of `sum_exec_runtime` (first field of `/proc/PID/task/TID/schedstat`, in
 * nanoseconds) over the live threads of a process: a finer clock than the 10 ms ticks of
 * `/proc/PID/stat`, but blind to threads that have exited.
 *
 * @param pid Process id.
 * @returns Nanoseconds, or undefined when the kernel has no schedstat.
 */
export function readThreadsNs(pid: number): number | undefined {
  let sum = 0;
  try {
    for (const e of Deno.readDirSync(`/proc/${pid}/task`)) {
      try {
        const first = Deno.readTextFileSync(`/proc/${pid}/task/${e.name}/schedstat`).split(" ")[0];
        const ns = Number(first);
        if (Number.isFinite(ns)) sum += ns;
      } catch { /* thread exited meanwhile */ }
    }
  } catch {
    return undefined;
  }
  return sum;
}

/**
 * Parses `VmRSS` out of a `/proc/PID/status` text.
 *
 * @param text The file's content.
 * @returns Resident memory in KiB, or undefined when the line is missing (a zombie).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseVmRss } from "./_proc.ts";
 * assert.equal(parseVmRss("Name:\tx\nVmRSS:\t   1234 kB\n"), 1234, "bad parse");
 * ```
 */
export function parseVmRss(text: string): number | undefined {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/**
 * Reads a process's resident memory.
 *
 * @param pid Process id.
 * @returns KiB, or undefined when unknown.
 */
export function readVmRssKiB(pid: number): number | undefined {
  try {
    return parseVmRss(Deno.readTextFileSync(`/proc/${pid}/status`));
  } catch {
    return undefined;
  }
}

/**
 * Clock ticks per second (`getconf CLK_TCK`); 100 when getconf cannot be run.
 *
 * @returns Ticks per second.
 */
export function clockTicksPerSecond(): number {
  try {
    const out = new Deno.Command("getconf", { args: ["CLK_TCK"], stderr: "null" }).outputSync();
    const n = Number(new TextDecoder().decode(out.stdout).trim());
    return Number.isInteger(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

/** Resident memory split as `/proc/PID/smaps_rollup` has it. */
export interface MemoryKiB {
  /** Resident set, KiB. */
  readonly rss: number;
  /** Anonymous resident pages (heaps, V8's spaces, stacks), KiB. */
  readonly anon: number;
  /** Everything else resident: mapped files (the executable, libraries) and shared mappings. */
  readonly file: number;
}

/**
 * Parses `/proc/PID/smaps_rollup`.
 *
 * @param text The file's content.
 * @returns The split, or undefined when the Rss or Anonymous line is missing.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSmapsRollup } from "./_proc.ts";
 * const m = parseSmapsRollup("Rss:   1000 kB\nPss:  900 kB\nAnonymous:  300 kB\n");
 * assert.deepEqual(m, { rss: 1000, anon: 300, file: 700 });
 * ```
 */
export function parseSmapsRollup(text: string): MemoryKiB | undefined {
  const rss = /^Rss:\s+(\d+) kB$/m.exec(text);
  const anon = /^Anonymous:\s+(\d+) kB$/m.exec(text);
  if (!rss || !anon) return undefined;
  return { rss: Number(rss[1]), anon: Number(anon[1]), file: Number(rss[1]) - Number(anon[1]) };
}

/**
 * Reads a process's memory split (`/proc/PID/smaps_rollup`, Linux 4.14+).
 *
 * @param pid Process id.
 * @returns The split, or undefined when unknown.
 */
export function readMemoryKiB(pid: number): MemoryKiB | undefined {
  try {
    return parseSmapsRollup(Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`));
  } catch {
    return undefined;
  }
}
