// Over 400 lines: one case per rule of docs/COMPATIBILITY.md §6 and per cap of DoorActions.
import { deepStrictEqual } from "node:assert/strict";
import type { captureIo } from "../util/io.ts";
import {
  chooseCommands,
  type CommandResult,
  type CommandRunner,
  DoorActions,
  longTimers,
  MAX_TIMER_MS,
  RecordingRunner,
  ShellRunner,
  type Timers,
} from "./actions.ts";
import { ServerLog } from "./log.ts";
import { captureServerLog } from "../../testing/server_log.ts";

/** Installs a KnockdSink on a captured Io (verbose, so "LV" lines show) for one test. */
function withLog(): { io: ReturnType<typeof captureIo>; done: () => void } {
  return captureServerLog();
}

class FakeTimers implements Timers {
  next = 1;
  readonly timers = new Map<number, { fn: () => void; ms: number }>();
  set(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.timers.set(id, { fn, ms });
    return id;
  }
  clear(id: unknown): void {
    this.timers.delete(id as number);
  }
  fireAll(): void {
    for (const [id, t] of [...this.timers]) {
      this.timers.delete(id);
      t.fn();
    }
  }
}

const door = {
  name: "D",
  cmdTimeout: 5,
  startCommand: "echo %IP% %IP% %ip%",
  stopCommand: "stop %IP%",
};

Deno.test("chooseCommands follows knockd's *_6 fallbacks", () => {
  deepStrictEqual(chooseCommands({ startCommand: "a", stopCommand: "b" }, 6), {
    start: "a",
    stop: "b",
  });
  deepStrictEqual(chooseCommands({ startCommand: "a", startCommand6: "a6" }, 6), { start: "a6" });
  deepStrictEqual(chooseCommands({ startCommand: "a", startCommand6: "" }, 6), {});
  deepStrictEqual(chooseCommands({ startCommand: "a", startCommand6: "" }, 4), { start: "a" });
  deepStrictEqual(
    chooseCommands({ startCommand: "a", stopCommand: "b", stopCommand6: "" }, 6),
    { start: "a", stop: "" },
  );
  deepStrictEqual(chooseCommands({ stopCommand: "b" }, 4), {});
  deepStrictEqual(chooseCommands({ startCommand: "", stopCommand: "b" }, 4), {});
});

Deno.test("open runs the start command, logs, then the stop command after cmd_timeout", async () => {
  const { io, done } = withLog();
  try {
    const timers = new FakeTimers();
    const runner = new RecordingRunner();
    const actions = new DoorActions({ runner, log: new ServerLog(), timers });
    const p = actions.open(door, "192.0.2.7", 4, "host.example");
    await new Promise((r) => setTimeout(r, 0));
    deepStrictEqual(runner.commands, ["echo 192.0.2.7 192.0.2.7 %ip%"]);
    deepStrictEqual([...timers.timers.values()].map((t) => t.ms), [5000]);
    deepStrictEqual(actions.pendingStops, 1);
    timers.fireAll();
    await p;
    deepStrictEqual(runner.commands, ["echo 192.0.2.7 192.0.2.7 %ip%", "stop 192.0.2.7"]);
    deepStrictEqual(
      io.out,
      "D: running command: echo 192.0.2.7 192.0.2.7 %ip%\n" +
        "192.0.2.7 (host.example): D: command timeout\n" +
        "D: running command: stop 192.0.2.7\n",
    );
    deepStrictEqual(io.err, "");
  } finally {
    done();
  }
});

Deno.test("a negative cmd_timeout never runs the stop command and warns", async () => {
  const { io, done } = withLog();
  try {
    const timers = new FakeTimers();
    const runner = new RecordingRunner();
    const actions = new DoorActions({ runner, log: new ServerLog(), timers });
    await actions.open({ ...door, cmdTimeout: -1 }, "192.0.2.7", 4);
    deepStrictEqual(runner.commands, ["echo 192.0.2.7 192.0.2.7 %ip%"]);
    deepStrictEqual(timers.timers.size, 0);
    deepStrictEqual(
      io.err,
      'Skip the stop command of door "D" for 192.0.2.7: cmd_timeout "-1" is negative\n',
    );
  } finally {
    done();
  }
});

Deno.test("an empty present stop_command_6 'runs' and logs as knockd's system(\"\")", async () => {
  const { io, done } = withLog();
  try {
    const runner = new RecordingRunner();
    const actions = new DoorActions({ runner, log: new ServerLog(), timers: new FakeTimers() });
    const p = actions.open({ ...door, stopCommand6: "" }, "2001:db8::1", 6);
    await actions.shutdown();
    await p;
    deepStrictEqual(runner.commands, ["echo 2001:db8::1 2001:db8::1 %ip%", ""]);
    deepStrictEqual(
      io.out.endsWith("2001:db8::1: D: command timeout\nD: running command: \n"),
      true,
    );
  } finally {
    done();
  }
});

Deno.test("start_command_6 present but empty: nothing runs for IPv6", async () => {
  const runner = new RecordingRunner();
  const actions = new DoorActions({ runner, log: new ServerLog(), timers: new FakeTimers() });
  await actions.open({ ...door, startCommand6: "" }, "2001:db8::1", 6);
  deepStrictEqual(runner.commands, []);
  deepStrictEqual(actions.pendingStops, 0);
});

Deno.test("commands of 4096 characters or more are refused with knockd's errors", async () => {
  const { io, done } = withLog();
  try {
    const runner = new RecordingRunner();
    const actions = new DoorActions({ runner, log: new ServerLog(), timers: new FakeTimers() });
    // 4087 + len("192.0.2.1")=9 → 4096
    await actions.open({ ...door, startCommand: "x".repeat(4087) + "%IP%" }, "192.0.2.1", 4);
    await actions.open({ ...door, stopCommand: "y".repeat(4087) + "%IP%" }, "192.0.2.1", 4);
    deepStrictEqual(runner.commands, []);
    deepStrictEqual(
      io.err,
      "error: parsed start command has been truncated! --> won't execute it\n" +
        "error: parsed stop command has been truncated! --> won't execute start command\n",
    );
    // 4095 characters still run.
    const p = actions.open({ ...door, startCommand: "x".repeat(4086) + "%IP%" }, "192.0.2.1", 4);
    await actions.shutdown();
    await p;
    deepStrictEqual(runner.commands.length, 2);
  } finally {
    done();
  }
});

Deno.test("shutdown runs every pending stop command at once and awaits it", async () => {
  const timers = new FakeTimers();
  const runner = new RecordingRunner();
  const actions = new DoorActions({ runner, log: new ServerLog(), timers });
  const a = actions.open(door, "192.0.2.1", 4);
  const b = actions.open({ ...door, cmdTimeout: 3600 }, "192.0.2.2", 4);
  await new Promise((r) => setTimeout(r, 0));
  deepStrictEqual(actions.pendingStops, 2);
  await actions.shutdown();
  deepStrictEqual(timers.timers.size, 0);
  deepStrictEqual(actions.pendingStops, 0);
  deepStrictEqual(actions.inFlight, 0);
  deepStrictEqual(runner.commands.filter((c) => c.startsWith("stop")).sort(), [
    "stop 192.0.2.1",
    "stop 192.0.2.2",
  ]);
  await a;
  await b;
});

Deno.test("ShellRunner: real /bin/sh, %IP% expansion, non-zero and signal statuses", async () => {
  const { io, done } = withLog();
  const dir = Deno.makeTempDirSync({ prefix: "kt-actions-" });
  try {
    const actions = new DoorActions({ runner: new ShellRunner(), log: new ServerLog() });
    await actions.open(
      {
        name: "S",
        cmdTimeout: 0,
        startCommand: `echo %IP% > ${dir}/a; exit 7`,
        stopCommand: `echo stop-%IP% >> ${dir}/a; kill -9 $$`,
      },
      "198.51.100.4",
      4,
    );
    deepStrictEqual(Deno.readTextFileSync(`${dir}/a`), "198.51.100.4\nstop-198.51.100.4\n");
    deepStrictEqual(
      io.err,
      "S: command returned non-zero status code (7)\nS: command returned non-zero status code (0)\n",
    );
  } finally {
    done();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a runner that cannot start the shell logs knockd's fork error", async () => {
  const { io, done } = withLog();
  try {
    const runner = {
      run(): Promise<CommandResult> {
        return Promise.reject(new Error("no shell"));
      },
    };
    const actions = new DoorActions({ runner, log: new ServerLog(), timers: new FakeTimers() });
    await actions.open({ name: "D", cmdTimeout: 5, startCommand: "x" }, "192.0.2.1", 4);
    deepStrictEqual(
      io.err,
      'error: command fork failed!\nCannot start the command of door "D" for 192.0.2.1: no shell\n',
    );
  } finally {
    done();
  }
});

Deno.test("ShellRunner: a command with bytes that are not UTF-8 reaches the shell byte for byte", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "kt-actions-" });
  try {
    // "printf 'caf\xE9' > DIR/out" as a config file holds it: the raw byte 0xE9 is kept by the
    // parser as the lone surrogate U+DCE9 (src/util/bytes.ts).
    const r = await new ShellRunner().run(`printf 'caf\udce9' > ${dir}/out`);
    deepStrictEqual(r.code, 0);
    deepStrictEqual([...Deno.readFileSync(`${dir}/out`)], [0x63, 0x61, 0x66, 0xe9]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a cmd_timeout beyond setTimeout's range waits: the stop command does not run early", async () => {
  const runner = new RecordingRunner();
  const actions = new DoorActions({ runner, log: new ServerLog() }); // real timers
  const p = actions.open({ ...door, cmdTimeout: 2500000 }, "192.0.2.1", 4);
  // Deno fires a setTimeout of more than 2^31-1 ms after 1 ms.
  await new Promise((r) => setTimeout(r, 60));
  deepStrictEqual(runner.commands, ["echo 192.0.2.1 192.0.2.1 %ip%"]);
  deepStrictEqual(actions.pendingStops, 1);
  await actions.shutdown();
  await p;
  deepStrictEqual(runner.commands, ["echo 192.0.2.1 192.0.2.1 %ip%", "stop 192.0.2.1"]);
});

Deno.test("longTimers waits in steps of at most 2^31-1 ms and can be cleared mid-way", () => {
  const timers = new FakeTimers();
  const long = longTimers(timers);
  let fired = 0;
  long.set(() => fired++, 2500000 * 1000);
  const steps: number[] = [];
  while (timers.timers.size > 0) {
    steps.push(...[...timers.timers.values()].map((t) => t.ms));
    timers.fireAll();
  }
  deepStrictEqual(steps, [MAX_TIMER_MS, 2500000 * 1000 - MAX_TIMER_MS]);
  deepStrictEqual(fired, 1);
  const h = long.set(() => fired++, 3 * MAX_TIMER_MS);
  timers.fireAll(); // first step done, second armed
  long.clear(h);
  deepStrictEqual(timers.timers.size, 0);
  deepStrictEqual(fired, 1);
});

Deno.test("commands of 4096 bytes or more are refused even when shorter in UTF-16 units", async () => {
  const { io, done } = withLog();
  try {
    const runner = new RecordingRunner();
    const actions = new DoorActions({ runner, log: new ServerLog(), timers: new FakeTimers() });
    // "é" is 2 bytes: 2044 * 2 + 9 = 4097 bytes, 2053 UTF-16 units.
    await actions.open({ ...door, startCommand: "é".repeat(2044) + "%IP%" }, "192.0.2.1", 4);
    await actions.open({ ...door, stopCommand: "é".repeat(2044) + "%IP%" }, "192.0.2.1", 4);
    deepStrictEqual(runner.commands, []);
    deepStrictEqual(
      io.err,
      "error: parsed start command has been truncated! --> won't execute it\n" +
        "error: parsed stop command has been truncated! --> won't execute start command\n",
    );
    // 4095 bytes (raw byte 0xE9 kept as U+DCE9 counts one byte) still run.
    const p = actions.open(
      { ...door, startCommand: "é".repeat(2042) + "\udce9\udce9%IP%" },
      "192.0.2.1",
      4,
    );
    await actions.shutdown();
    await p;
    deepStrictEqual(runner.commands.length, 2);
  } finally {
    done();
  }
});

Deno.test("ShellRunner: each command runs in its own session (setsid, as knockd)", async () => {
  // Field 6 of /proc/PID/stat is the session id; the shell leads its own session.
  const r = await new ShellRunner().run(`test "$(cut -d' ' -f6 /proc/$$/stat)" = "$$"`);
  deepStrictEqual(r, { code: 0, signaled: false });
});

Deno.test('ShellRunner: stdio "null" (-d) gives the commands /dev/null on fds 0-2', async () => {
  const dir = Deno.makeTempDirSync({ prefix: "kt-actions-" });
  try {
    const r = await new ShellRunner({ stdio: "null" }).run(
      `fds=$(readlink /proc/$$/fd/0 /proc/$$/fd/1 /proc/$$/fd/2); echo "$fds" > ${dir}/fds; echo to-stderr >&2; echo rc=$? >> ${dir}/fds`,
    );
    deepStrictEqual(r, { code: 0, signaled: false });
    deepStrictEqual(Deno.readTextFileSync(`${dir}/fds`), "/dev/null\n/dev/null\n/dev/null\nrc=0\n");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

/** A runner whose commands finish when the test says so. */
class GatedRunner implements CommandRunner {
  readonly started: string[] = [];
  readonly #gates = new Map<string, () => void>();
  run(command: string): Promise<CommandResult> {
    this.started.push(command);
    return new Promise((resolve) =>
      this.#gates.set(command, () => resolve({ code: 0, signaled: false }))
    );
  }
  finish(command: string): void {
    const g = this.#gates.get(command);
    if (g === undefined) throw new Error(`not running: ${command}`);
    this.#gates.delete(command);
    g();
  }
}

const tick = () => new Promise((r) => setTimeout(r, 0));

Deno.test("at most maxRunning commands run at once; the rest wait in FIFO order and all run", async () => {
  const { io, done } = withLog();
  try {
    const runner = new GatedRunner();
    const actions = new DoorActions({
      runner,
      log: new ServerLog(),
      timers: new FakeTimers(),
      maxRunning: 2,
    });
    const doorA = { name: "A", cmdTimeout: 5, startCommand: "open %IP%" };
    const all = [1, 2, 3, 4, 5].map((i) => actions.open(doorA, `192.0.2.${i}`, 4));
    await tick();
    deepStrictEqual(runner.started, ["open 192.0.2.1", "open 192.0.2.2"]);
    deepStrictEqual(actions.queuedCommands, 3);
    runner.finish("open 192.0.2.2");
    await tick();
    deepStrictEqual(runner.started.slice(2), ["open 192.0.2.3"]);
    runner.finish("open 192.0.2.1");
    runner.finish("open 192.0.2.3");
    await tick();
    deepStrictEqual(runner.started.slice(3), ["open 192.0.2.4", "open 192.0.2.5"]);
    runner.finish("open 192.0.2.4");
    runner.finish("open 192.0.2.5");
    await Promise.all(all);
    deepStrictEqual(actions.counters, {
      queued: 3,
      maxQueued: 3,
      earlyStops: 0,
      skippedStarts: 0,
      abandoned: 0,
    });
    // One warning for the whole burst (at most one a minute).
    deepStrictEqual(
      io.err,
      'Queue the command of door "A" for 192.0.2.3: 2 commands are running (the limit)\n',
    );
  } finally {
    done();
  }
});

Deno.test("a start command that finds the queue full is skipped, with one warning; stop commands are not", async () => {
  const { io, done } = withLog();
  try {
    const timers = new FakeTimers();
    const runner = new GatedRunner();
    const actions = new DoorActions({
      runner,
      log: new ServerLog(),
      timers,
      maxRunning: 1,
      maxQueuedStarts: 2,
    });
    const doorA = { name: "A", cmdTimeout: 0, startCommand: "open %IP%", stopCommand: "stop %IP%" };
    const all = [1, 2, 3, 4, 5].map((i) => actions.open(doorA, `192.0.2.${i}`, 4));
    await tick();
    deepStrictEqual(runner.started, ["open 192.0.2.1"]);
    deepStrictEqual(actions.queuedCommands, 2);
    deepStrictEqual(actions.counters.skippedStarts, 2);
    const finished = new Set<string>();
    for (let i = 0; i < 50 && actions.inFlight > 0; i++) {
      for (const c of runner.started) {
        if (!finished.has(c)) {
          finished.add(c);
          runner.finish(c);
        }
      }
      await tick();
      timers.fireAll();
      await tick();
    }
    await Promise.all(all);
    deepStrictEqual(runner.started.toSorted(), [
      "open 192.0.2.1",
      "open 192.0.2.2",
      "open 192.0.2.3",
      "stop 192.0.2.1",
      "stop 192.0.2.2",
      "stop 192.0.2.3",
    ]);
    deepStrictEqual(
      io.err.split("\n").filter((l) => l.startsWith("Skip")),
      ['Skip the command of door "A" for 192.0.2.4: 2 commands are queued (the limit)'],
    );
  } finally {
    done();
  }
});

Deno.test("at the pending-stop cap the oldest stop command runs early, with a warning", async () => {
  const { io, done } = withLog();
  try {
    const timers = new FakeTimers();
    const runner = new RecordingRunner();
    const actions = new DoorActions({ runner, log: new ServerLog(), timers, maxPendingStops: 2 });
    const all = [1, 2, 3].map((i) => actions.open(door, `192.0.2.${i}`, 4));
    await tick();
    await tick();
    deepStrictEqual(actions.pendingStops, 2);
    deepStrictEqual(runner.commands.filter((c) => c.startsWith("stop")), ["stop 192.0.2.1"]);
    deepStrictEqual(actions.counters.earlyStops, 1);
    deepStrictEqual(
      io.err,
      'Run the stop command of door "D" for 192.0.2.1 early: 2 stop commands are pending (the limit)\n',
    );
    await actions.shutdown();
    await Promise.all(all);
    deepStrictEqual(runner.commands.filter((c) => c.startsWith("stop")).length, 3);
  } finally {
    done();
  }
});

Deno.test("shutdown waits a bounded time for a hung command, then logs and abandons it", async () => {
  const { io, done } = withLog();
  try {
    const runner = new GatedRunner();
    const actions = new DoorActions({ runner, log: new ServerLog(), shutdownWaitMs: 30 });
    const p = actions.open(
      { name: "H", cmdTimeout: 5, startCommand: "sleep 1000" },
      "192.0.2.9",
      4,
    );
    await tick();
    await actions.shutdown();
    deepStrictEqual(actions.counters.abandoned, 1);
    deepStrictEqual(
      /^Stop waiting for the command of door "H" for 192\.0\.2\.9: still running after \d+ ms: sleep 1000\n$/
        .test(io.err),
      true,
      io.err,
    );
    runner.finish("sleep 1000");
    await p;
  } finally {
    done();
  }
});

Deno.test("shutdown: aborting force ends the wait at once, after the pending stops started", async () => {
  const { done } = withLog();
  try {
    const runner = new GatedRunner();
    const actions = new DoorActions({ runner, log: new ServerLog(), timers: new FakeTimers() });
    const a = actions.open({ ...door, startCommand: "hang" }, "192.0.2.1", 4);
    const b = actions.open({ ...door, startCommand: "quick" }, "192.0.2.2", 4);
    await tick();
    runner.finish("quick");
    await tick();
    deepStrictEqual(actions.pendingStops, 1);
    const force = new AbortController();
    force.abort();
    await actions.shutdown(force.signal);
    deepStrictEqual(runner.started, ["hang", "quick", "stop 192.0.2.2"]);
    deepStrictEqual(actions.counters.abandoned, 2);
    runner.finish("stop 192.0.2.2");
    runner.finish("hang");
    await tick();
    deepStrictEqual(runner.started.at(-1), "stop 192.0.2.1");
    runner.finish("stop 192.0.2.1");
    await a;
    await b;
  } finally {
    done();
  }
});
