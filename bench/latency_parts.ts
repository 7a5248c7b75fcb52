/**
 * Where the knock-to-command latency goes once the daemon decides to run a command: the same
 * command as the harness's w5 (`echo "... $(date +%s%N)" >> FILE`), started by `ShellRunner`
 * (`Deno.Command`) and by `SpawnRunner` (`posix_spawn`), in a process holding a daemon-sized heap
 * (~60 MiB of small objects). For each: the time the start call blocks the event loop (`fork` in
 * Deno's main thread; `posix_spawn` until the child has exec'd the shell) and the time until
 * `date` inside the command reads the clock (the shell's start, its fork for `$(...)`, the exec of
 * `date`). Interleaved, 30 samples each, p50 and p99. Run with `deno run -A bench/latency_parts.ts`.
 *
 * Two more rows with `SpawnRunner` show what the command's own shape costs: `date "+x %s%N" >>
 * FILE` (dash starts `date` with a `vfork`, no command substitution) and `exec date …` (dash
 * becomes `date`: two execs in all, no fork). On a shared machine, run it under `chrt -f 20` as
 * well: real-time priority takes the other jobs' time slices out of the figures.
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
const spawnRunner = SpawnRunner.open();
const W5 = (file: string) => `echo "x $(date +%s%N)" >> ${file}`;
const variants = {
  "ShellRunner, w5 command": { runner: new ShellRunner(), command: W5 },
  "SpawnRunner, w5 command": { runner: spawnRunner, command: W5 },
  "SpawnRunner, date >> FILE": {
    runner: spawnRunner,
    command: (file: string) => `date "+x %s%N" >> ${file}`,
  },
  "SpawnRunner, exec date >> FILE": {
    runner: spawnRunner,
    command: (file: string) => `exec date "+x %s%N" >> ${file}`,
  },
};
const out: Record<string, { call: number[]; date: number[] }> = {};
try {
  for (let i = 0; i < SAMPLES; i++) {
    for (const [name, { runner, command }] of Object.entries(variants)) {
      const file = `${dir}/${name.replace(/\W+/g, "-")}-${i}`;
      const t0 = clock.nowNs();
      const done = runner.run(command(file));
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
      `${name.padEnd(30)} start call blocks ${f(o.call)}; date inside the command ${f(o.date)}`,
    );
  }
} finally {
  spawnRunner.close();
  clock.close();
  Deno.removeSync(dir, { recursive: true });
}
