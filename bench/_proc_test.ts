import { RealtimeClock } from "./_clock.ts";
import { clockTicksPerSecond, parseStat, readCpuTicks, readVmRssKiB } from "./_proc.ts";

function assert(cond: boolean, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

Deno.test("parseStat rejects a line without the CPU fields", () => {
  let message = "";
  try {
    parseStat("1 (x) S 1");
  } catch (e) {
    message = (e as Error).message;
  }
  assert(
    message === 'Cannot parse "/proc/PID/stat": expected utime and stime, got "1 (x) S 1"',
    `unexpected message: ${message}`,
  );
});

Deno.test("readCpuTicks and readVmRssKiB read this process", () => {
  const a = readCpuTicks(Deno.pid);
  const b = readCpuTicks(Deno.pid);
  assert(b.utime >= a.utime && b.stime >= a.stime, "CPU ticks went backwards");
  const rss = readVmRssKiB(Deno.pid);
  assert(rss !== undefined && rss > 1024, `implausible VmRSS ${rss}`);
  assert(readVmRssKiB(-1) === undefined, "a missing process must give undefined");
  assert(clockTicksPerSecond() > 0, "no clock ticks");
});

Deno.test("RealtimeClock agrees with Date.now and refuses reads once closed", () => {
  const clock = new RealtimeClock();
  try {
    const ms = Number(clock.nowNs() / 1_000_000n);
    assert(Math.abs(ms - Date.now()) < 1000, `clock off by ${ms - Date.now()} ms`);
  } finally {
    clock.close();
  }
  let threw = false;
  try {
    clock.nowNs();
  } catch {
    threw = true;
  }
  assert(threw, "a closed clock must throw");
});
