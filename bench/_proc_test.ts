import { ok } from "node:assert/strict";
import { RealtimeClock } from "./_clock.ts";
import {
  clockTicksPerSecond,
  parseStat,
  readCpuTicks,
  readMemoryKiB,
  readVmRssKiB,
} from "./_proc.ts";

Deno.test("parseStat rejects a line without the CPU fields", () => {
  let message = "";
  try {
    parseStat("1 (x) S 1");
  } catch (e) {
    message = (e as Error).message;
  }
  ok(
    message === 'Cannot parse "/proc/PID/stat": expected utime and stime, got "1 (x) S 1"',
    `unexpected message: ${message}`,
  );
});

Deno.test("readCpuTicks and readVmRssKiB read this process", () => {
  const a = readCpuTicks(Deno.pid);
  const b = readCpuTicks(Deno.pid);
  ok(b.utime >= a.utime && b.stime >= a.stime, "CPU ticks went backwards");
  const rss = readVmRssKiB(Deno.pid);
  ok(rss !== undefined && rss > 1024, `implausible VmRSS ${rss}`);
  ok(readVmRssKiB(-1) === undefined, "a missing process must give undefined");
  ok(clockTicksPerSecond() > 0, "no clock ticks");
});

Deno.test("RealtimeClock agrees with Date.now and refuses reads once closed", () => {
  const clock = new RealtimeClock();
  try {
    const ms = Number(clock.nowNs() / 1_000_000n);
    ok(Math.abs(ms - Date.now()) < 1000, `clock off by ${ms - Date.now()} ms`);
  } finally {
    clock.close();
  }
  let threw = false;
  try {
    clock.nowNs();
  } catch {
    threw = true;
  }
  ok(threw, "a closed clock must throw");
});

Deno.test("readMemoryKiB reads this process: anonymous and file-backed pages add up to RSS", () => {
  const m = readMemoryKiB(Deno.pid);
  ok(m !== undefined, "no smaps_rollup");
  ok(m.rss > 0 && m.anon > 0 && m.file > 0, JSON.stringify(m));
  ok(m.anon + m.file === m.rss, JSON.stringify(m));
});
