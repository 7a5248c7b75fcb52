import { configureSync, resetSync } from "@logtape/logtape";
import { captureIo } from "../io.ts";
import { assertEquals } from "./_assert.ts";
import {
  chooseCommands,
  type CommandResult,
  DoorActions,
  RecordingRunner,
  ShellRunner,
  type Timers,
} from "./actions.ts";
import { KnockdSink, SERVER_CATEGORY, ServerLog } from "./log.ts";

/** Installs a KnockdSink on a captured Io (verbose, so "LV" lines show) for one test. */
function withLog(): { io: ReturnType<typeof captureIo>; done: () => void } {
  const io = captureIo();
  const sink = new KnockdSink({ io, verbose: true, debug: false, format: "text" });
  configureSync({
    sinks: { k: sink.sink },
    loggers: [
      { category: [...SERVER_CATEGORY], sinks: ["k"], lowestLevel: "debug" },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
    ],
    reset: true,
  });
  return { io, done: () => resetSync() };
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
  assertEquals(chooseCommands({ startCommand: "a", stopCommand: "b" }, 6), {
    start: "a",
    stop: "b",
  });
  assertEquals(chooseCommands({ startCommand: "a", startCommand6: "a6" }, 6), { start: "a6" });
  assertEquals(chooseCommands({ startCommand: "a", startCommand6: "" }, 6), {});
  assertEquals(chooseCommands({ startCommand: "a", startCommand6: "" }, 4), { start: "a" });
  assertEquals(
    chooseCommands({ startCommand: "a", stopCommand: "b", stopCommand6: "" }, 6),
    { start: "a", stop: "" },
  );
  assertEquals(chooseCommands({ stopCommand: "b" }, 4), {});
  assertEquals(chooseCommands({ startCommand: "", stopCommand: "b" }, 4), {});
});

Deno.test("open runs the start command, logs, then the stop command after cmd_timeout", async () => {
  const { io, done } = withLog();
  try {
    const timers = new FakeTimers();
    const runner = new RecordingRunner();
    const actions = new DoorActions({ runner, log: new ServerLog(), timers });
    const p = actions.open(door, "192.0.2.7", 4, "host.example");
    await new Promise((r) => setTimeout(r, 0));
    assertEquals(runner.commands, ["echo 192.0.2.7 192.0.2.7 %ip%"]);
    assertEquals([...timers.timers.values()].map((t) => t.ms), [5000]);
    assertEquals(actions.pendingStops, 1);
    timers.fireAll();
    await p;
    assertEquals(runner.commands, ["echo 192.0.2.7 192.0.2.7 %ip%", "stop 192.0.2.7"]);
    assertEquals(
      io.out,
      "D: running command: echo 192.0.2.7 192.0.2.7 %ip%\n" +
        "192.0.2.7 (host.example): D: command timeout\n" +
        "D: running command: stop 192.0.2.7\n",
    );
    assertEquals(io.err, "");
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
    assertEquals(runner.commands, ["echo 192.0.2.7 192.0.2.7 %ip%"]);
    assertEquals(timers.timers.size, 0);
    assertEquals(
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
    assertEquals(runner.commands, ["echo 2001:db8::1 2001:db8::1 %ip%", ""]);
    assertEquals(io.out.endsWith("2001:db8::1: D: command timeout\nD: running command: \n"), true);
  } finally {
    done();
  }
});

Deno.test("start_command_6 present but empty: nothing runs for IPv6", async () => {
  const runner = new RecordingRunner();
  const actions = new DoorActions({ runner, log: new ServerLog(), timers: new FakeTimers() });
  await actions.open({ ...door, startCommand6: "" }, "2001:db8::1", 6);
  assertEquals(runner.commands, []);
  assertEquals(actions.pendingStops, 0);
});

Deno.test("commands of 4096 characters or more are refused with knockd's errors", async () => {
  const { io, done } = withLog();
  try {
    const runner = new RecordingRunner();
    const actions = new DoorActions({ runner, log: new ServerLog(), timers: new FakeTimers() });
    // 4087 + len("192.0.2.1")=9 → 4096
    await actions.open({ ...door, startCommand: "x".repeat(4087) + "%IP%" }, "192.0.2.1", 4);
    await actions.open({ ...door, stopCommand: "y".repeat(4087) + "%IP%" }, "192.0.2.1", 4);
    assertEquals(runner.commands, []);
    assertEquals(
      io.err,
      "error: parsed start command has been truncated! --> won't execute it\n" +
        "error: parsed stop command has been truncated! --> won't execute start command\n",
    );
    // 4095 characters still run.
    const p = actions.open({ ...door, startCommand: "x".repeat(4086) + "%IP%" }, "192.0.2.1", 4);
    await actions.shutdown();
    await p;
    assertEquals(runner.commands.length, 2);
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
  assertEquals(actions.pendingStops, 2);
  await actions.shutdown();
  assertEquals(timers.timers.size, 0);
  assertEquals(actions.pendingStops, 0);
  assertEquals(actions.inFlight, 0);
  assertEquals(runner.commands.filter((c) => c.startsWith("stop")).sort(), [
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
    assertEquals(Deno.readTextFileSync(`${dir}/a`), "198.51.100.4\nstop-198.51.100.4\n");
    assertEquals(
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
    assertEquals(io.err, "error: command fork failed!\n");
  } finally {
    done();
  }
});

Deno.test("ShellRunner: a command with bytes that are not UTF-8 reaches the shell byte for byte", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "kt-actions-" });
  try {
    // "printf 'caf\xE9' > DIR/out" as a config file holds it: the raw byte 0xE9 is kept by the
    // parser as the lone surrogate U+DCE9 (src/config/bytes.ts).
    const r = await new ShellRunner().run(`printf 'caf\udce9' > ${dir}/out`);
    assertEquals(r.code, 0);
    assertEquals([...Deno.readFileSync(`${dir}/out`)], [0x63, 0x61, 0x66, 0xe9]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
