/**
 * Door command start-up: `ShellRunner` (`Deno.Command`, which forks the daemon) against
 * `SpawnRunner` (`posix_spawn` through libc), in a process holding about as much JavaScript heap
 * as a serving daemon (~60 MiB of small objects), since a fork's cost grows with it. Each
 * iteration runs `/bin/sh -c ": > /dev/null"` and waits for it to be reaped. Run with
 * `deno bench -A bench/spawn_bench.ts`.
 *
 * @module
 */
import { ShellRunner } from "../src/server/actions.ts";
import { SpawnRunner } from "../src/server/spawn_runner.ts";

// Ballast: ~1M small objects, kept alive for the whole run.
const ballast = Array.from({ length: 1_000_000 }, (_, i) => ({ i, s: `x${i}` }));
const shell = new ShellRunner({ stdio: "null" });
const spawn = SpawnRunner.open({ stdio: "null" });
const COMMAND = ": > /dev/null";

Deno.bench(
  { name: "ShellRunner (Deno.Command, fork)", group: "spawn", baseline: true },
  async () => {
    await shell.run(COMMAND);
  },
);

Deno.bench({ name: "SpawnRunner (posix_spawn)", group: "spawn" }, async () => {
  await spawn.run(COMMAND);
});

globalThis.addEventListener("unload", () => {
  spawn.close();
  if (ballast.length === 0) console.log("");
});
