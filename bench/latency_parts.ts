/**
 * Where the knock-to-command latency goes once the daemon decides to run a command: the same
 * command as the harness's w5 (`echo "... $(date +%s%N)" >> FILE`), started by `ShellRunner`
 * (`Deno.Command`) and by `SpawnRunner` (`posix_spawn`), in a process holding a daemon-sized heap
 * (~60 MiB of small objects). For each: the time the start call blocks the event loop (`fork` in
 * Deno's main thread; `posix_spawn` until the child has exec'd the shell) and the time until
 * `date` inside the command reads the clock (the shell's start, its fork for `$(...)`, the exec of
 * `date`). Interleaved, 30 samples each, p50 and p99. Run with `deno run -A bench/latency_parts.ts`.
 *
 * @module
 */
import { ShellRunner } from "../src/server/actions.ts";
import { SpawnRunner } from "../src/server/spawn_runner.ts";
import { RealtimeClock } from "./_clock.ts";
import { percentile } from "./_report.ts";

const SAMPLES = 30;
const ballast = Array.from({ length: 1_000_000 }, (_, i) => ({ i, s: `x${i}` }));
const dir = Deno.makeTempDirSync({ prefix: "kt-lat-" });
const clock = new RealtimeClock();
const runners = { ShellRunner: new ShellRunner(), SpawnRunner: SpawnRunner.open() };
const out: Record<string, { call: number[]; date: number[] }> = {};
try {
  for (let i = 0; i < SAMPLES; i++) {
    for (const [name, runner] of Object.entries(runners)) {
      const file = `${dir}/${name}-${i}`;
      const t0 = clock.nowNs();
      const done = runner.run(`echo "x $(date +%s%N)" >> ${file}`);
      const t1 = clock.nowNs();
      await done;
      const m = /x (\d+)/.exec(Deno.readTextFileSync(file));
      const o = out[name] ??= { call: [], date: [] };
      o.call.push(Number(t1 - t0) / 1e6);
      if (m) o.date.push(Number(BigInt(m[1]!) - t0) / 1e6);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const f = (xs: number[]) =>
    `${percentile(xs, 50)?.toFixed(2)} / ${percentile(xs, 99)?.toFixed(2)} ms`;
  console.log(
    `ms from the start call (p50 / p99 of ${SAMPLES}); load ${
      Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ")
    }; heap ballast ${ballast.length} objects`,
  );
  for (const [name, o] of Object.entries(out)) {
    console.log(
      `${name.padEnd(12)} start call blocks ${f(o.call)}; date inside the command ${f(o.date)}`,
    );
  }
} finally {
  runners.SpawnRunner.close();
  clock.close();
  Deno.removeSync(dir, { recursive: true });
}
