import { deepStrictEqual, throws } from "node:assert/strict";
import { DoorActions } from "./actions.ts";
import { ServerLog } from "./log.ts";
import { SpawnRunner } from "./spawn_runner.ts";
import { Spawner } from "../../ffi/spawn.ts";

/** Waits until `cond` holds, checking every 10 ms, for at most `ms` (then throws). */
async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function withRunner(
  fn: (runner: SpawnRunner, dir: string) => Promise<void>,
  opts: { readonly cwd?: string; readonly stdio?: "inherit" | "null" } = {},
): () => Promise<void> {
  return async () => {
    const dir = Deno.makeTempDirSync({ prefix: "kt-spawn-" });
    const runner = SpawnRunner.open(opts);
    try {
      await fn(runner, dir);
      deepStrictEqual(runner.running, 0, "every child reaped");
    } finally {
      runner.close();
      Deno.removeSync(dir, { recursive: true });
    }
  };
}

Deno.test(
  "SpawnRunner: exit statuses, a signal death, and no zombie left",
  withRunner(async (runner) => {
    deepStrictEqual(await runner.run("exit 0"), { code: 0, signaled: false });
    deepStrictEqual(await runner.run("exit 7"), { code: 7, signaled: false });
    deepStrictEqual(await runner.run("exit 300"), { code: 44, signaled: false });
    deepStrictEqual(await runner.run("kill -9 $$"), { code: 0, signaled: true });
  }),
);

Deno.test(
  "SpawnRunner: a command with bytes that are not UTF-8 reaches the shell byte for byte",
  withRunner(async (runner, dir) => {
    // The raw byte 0xE9 is kept by the config parser as the lone surrogate U+DCE9.
    const r = await runner.run(`printf 'caf\udce9' > ${dir}/out`);
    deepStrictEqual(r, { code: 0, signaled: false });
    deepStrictEqual([...Deno.readFileSync(`${dir}/out`)], [0x63, 0x61, 0x66, 0xe9]);
  }),
);

Deno.test(
  "SpawnRunner: each command leads its own session, no signal blocked, none of 1-31 ignored",
  withRunner(async (runner, dir) => {
    // Field 6 of /proc/PID/stat is the session id; SigBlk and SigIgn are the masks.
    const r = await runner.run(
      `cut -d' ' -f6 /proc/$$/stat > ${dir}/sid; echo $$ >> ${dir}/sid; ` +
        `grep -E '^Sig(Blk|Ign)' /proc/$$/status >> ${dir}/sid`,
    );
    deepStrictEqual(r, { code: 0, signaled: false });
    const [sid, pid, ...masks] = Deno.readTextFileSync(`${dir}/sid`).trim().split("\n");
    deepStrictEqual(sid, pid, `session of ${pid}`);
    deepStrictEqual(masks[0], "SigBlk:\t0000000000000000", masks[0]);
    // Signals 1-31 (Deno itself ignores SIGPIPE). glibc's posix_spawn leaves its two internal
    // signals 32 and 33 ignored; every glibc program re-installs them when it starts.
    deepStrictEqual(parseInt(masks[1]?.slice(-8) ?? "x", 16) & 0x7fffffff, 0, masks[1]);
  }),
);

Deno.test(
  'SpawnRunner: stdio "null" and cwd "/" (-d): /dev/null on fds 0-2, working directory /',
  async () => {
    const dir = Deno.makeTempDirSync({ prefix: "kt-spawn-" });
    const runner = SpawnRunner.open({ cwd: "/", stdio: "null" });
    try {
      const r = await runner.run(
        `fds=$(readlink /proc/$$/fd/0 /proc/$$/fd/1 /proc/$$/fd/2); echo "$fds" > ${dir}/fds; ` +
          `echo to-stderr >&2; echo rc=$? >> ${dir}/fds; pwd >> ${dir}/fds`,
      );
      deepStrictEqual(r, { code: 0, signaled: false });
      deepStrictEqual(
        Deno.readTextFileSync(`${dir}/fds`),
        "/dev/null\n/dev/null\n/dev/null\nrc=0\n/\n",
      );
    } finally {
      runner.close();
      Deno.removeSync(dir, { recursive: true });
    }
  },
);

Deno.test(
  "SpawnRunner: a close-on-exec descriptor of the daemon does not reach the command",
  withRunner(async (runner, dir) => {
    // Deno opens its files close-on-exec; the command must see none of them.
    using file = Deno.openSync(`${dir}/held`, { write: true, create: true });
    void file;
    const r = await runner.run(
      `ls -l /proc/$$/fd | grep -c held > ${dir}/n; exit 0`,
    );
    deepStrictEqual(r, { code: 0, signaled: false });
    deepStrictEqual(Deno.readTextFileSync(`${dir}/n`), "0\n");
  }),
);

Deno.test(
  "SpawnRunner under DoorActions: the running cap holds and queued commands run in FIFO order",
  withRunner(async (runner, dir) => {
    const actions = new DoorActions({ runner, log: new ServerLog(), maxRunning: 2 });
    // Each command marks that it started, waits for its gate file, then appends to the order.
    const door = {
      name: "Q",
      cmdTimeout: 0,
      startCommand: `touch ${dir}/started-%IP%; ` +
        `while [ ! -e ${dir}/go-%IP% ]; do sleep 0.01; done; echo %IP% >> ${dir}/order`,
    };
    const started = () =>
      [...Deno.readDirSync(dir)].filter((e) => e.name.startsWith("started-")).map((e) =>
        e.name.slice(8)
      ).sort();
    const all = ["1", "2", "3", "4"].map((n) => actions.open(door, n, 4));
    await until(() => started().length === 2, "two commands to start");
    deepStrictEqual(started(), ["1", "2"]);
    deepStrictEqual(actions.queuedCommands, 2);
    Deno.writeTextFileSync(`${dir}/go-2`, "");
    await until(() => started().length === 3, "the first queued command to start");
    deepStrictEqual(started(), ["1", "2", "3"]);
    for (const n of ["1", "3", "4"]) Deno.writeTextFileSync(`${dir}/go-${n}`, "");
    await Promise.all(all);
    deepStrictEqual(started(), ["1", "2", "3", "4"]);
    deepStrictEqual(Deno.readTextFileSync(`${dir}/order`).split("\n").slice(0, 1), ["2"]);
    deepStrictEqual(actions.counters.queued, 2);
  }),
);

Deno.test("Spawner: a program that cannot be run is an error with libc's text", () => {
  const s = Spawner.open();
  try {
    throws(() => s.spawn("/nonexistent/kt-program", ["x"]), {
      message: 'Cannot start "/nonexistent/kt-program": no such file or directory',
    });
  } finally {
    s.close();
  }
});

Deno.test("SpawnRunner: 200 short commands in a row are all reaped", async () => {
  const runner = SpawnRunner.open();
  try {
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => runner.run(`exit ${i % 5}`)),
    );
    deepStrictEqual(results.map((r) => r.code), Array.from({ length: 200 }, (_, i) => i % 5));
    deepStrictEqual(runner.running, 0);
  } finally {
    runner.close();
  }
});
