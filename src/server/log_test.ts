import { deepStrictEqual } from "node:assert/strict";
import { resetSync } from "@logtape/logtape";
import { captureIo } from "../util/io.ts";
import { formatLogFileLine, formatPacketDebugLine, KnockdSink, ServerLog } from "./log.ts";
import { useSink } from "../../testing/server_log.ts";

const fixed = () => new Date(2026, 10, 21, 10, 25, 31);

Deno.test("log file lines are byte-compatible with knockd, B11 newline mirrored", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "kt-log-" });
  const io = captureIo();
  const sink = new KnockdSink({
    io,
    verbose: false,
    debug: false,
    format: "text",
    logFile: `${dir}/k.log`,
    now: fixed,
  });
  try {
    deepStrictEqual(sink.open(), undefined);
    useSink(sink);
    const log = new ServerLog();
    log.emit("start", "starting up, listening on lo", "L");
    log.emit("timeout", "127.0.0.71: A: sequence timeout (stage 1)\n", "LV");
    log.emit("command", "A: running command: false\n", "LV");
    log.emit("status", "A: command returned non-zero status code (1)", "LE");
    log.emit("debug", "local IP: 127.0.0.1", "D");
    // Lines of one turn are written together, before the event loop next waits.
    deepStrictEqual(Deno.readTextFileSync(`${dir}/k.log`), "");
    await new Promise((resolve) => setTimeout(resolve, 0));
    deepStrictEqual(
      Deno.readTextFileSync(`${dir}/k.log`),
      "[2026-11-21 10:25] starting up, listening on lo\n" +
        "[2026-11-21 10:25] 127.0.0.71: A: sequence timeout (stage 1)\n\n" +
        "[2026-11-21 10:25] A: running command: false\n\n" +
        "[2026-11-21 10:25] A: command returned non-zero status code (1)\n",
    );
    deepStrictEqual(io.out, "");
    deepStrictEqual(io.err, "A: command returned non-zero status code (1)\n");
    // Reopen (SIGHUP / logrotate): the old file moved away, a new one is created.
    Deno.renameSync(`${dir}/k.log`, `${dir}/k.log.1`);
    deepStrictEqual(sink.open(), undefined);
    log.emit("stop", "shutting down", "L");
    sink.flush();
    deepStrictEqual(Deno.readTextFileSync(`${dir}/k.log`), "[2026-11-21 10:25] shutting down\n");
  } finally {
    resetSync();
    sink.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("formatLogFileLine: zero padding, no quirk mode, 1023-byte cap", () => {
  deepStrictEqual(formatLogFileLine(new Date(2026, 0, 2, 3, 4), "x"), "[2026-01-02 03:04] x\n");
  deepStrictEqual(
    formatLogFileLine(new Date(2026, 0, 2, 3, 4), "x\n", false),
    "[2026-01-02 03:04] x\n",
  );
  deepStrictEqual(
    formatLogFileLine(new Date(2026, 0, 2, 3, 4), "y".repeat(2000)).length,
    19 + 1023 + 1,
  );
});

Deno.test("an unopenable log file gives knockd's perror text", () => {
  const sink = new KnockdSink({
    io: captureIo(),
    verbose: false,
    debug: false,
    format: "text",
    logFile: "/nonexistent-dir-kt/x.log",
  });
  deepStrictEqual(sink.open(), "warning: cannot open logfile: No such file or directory");
  sink.close();
});

Deno.test("verbose, debug and syslog channels", () => {
  const io = captureIo();
  const sent: string[] = [];
  const sink = new KnockdSink({
    io,
    verbose: true,
    debug: true,
    format: "text",
    syslog: { notice: (m) => sent.push(m) },
  });
  sink.write("info", {
    text: "1.2.3.4: A: sequence timeout (stage 2)\n",
    event: "t",
    channels: "LV",
  });
  sink.write("debug", { text: "local IP: ::1", event: "d", channels: "D" });
  sink.write("info", { text: "starting up, listening on lo", event: "s", channels: "L" });
  deepStrictEqual(io.out, "1.2.3.4: A: sequence timeout (stage 2)\nlocal IP: ::1\n");
  deepStrictEqual(sent, [
    "1.2.3.4: A: sequence timeout (stage 2)\n",
    "starting up, listening on lo",
  ]);
});

Deno.test("json format: one object per line on stdout, debug only with -D", () => {
  const io = captureIo();
  const sink = new KnockdSink({ io, verbose: false, debug: false, format: "json", now: fixed });
  const at = new Date(Date.UTC(2026, 10, 21, 10, 25, 31)).getTime();
  sink.write("info", {
    text: "192.0.2.1: A: Stage 1",
    event: "stage",
    channels: "LV",
    door: "A",
    src: "192.0.2.1",
    stage: 1,
  }, at);
  sink.write("debug", { text: "x", event: "d", channels: "D" }, at);
  sink.write("info", {
    text: "A: running command: x\n",
    event: "command",
    channels: "LV",
    door: "A",
  }, at);
  deepStrictEqual(
    io.out,
    '{"time":"2026-11-21T10:25:31.000Z","level":"info","event":"stage","door":"A","src":"192.0.2.1","stage":1,"message":"192.0.2.1: A: Stage 1"}\n' +
      '{"time":"2026-11-21T10:25:31.000Z","level":"info","event":"command","door":"A","src":null,"stage":null,"message":"A: running command: x"}\n',
  );
});

Deno.test("packet debug line prints the real month (B10 fixed)", () => {
  const ts = new Date(2026, 10, 21, 9, 8, 7).getTime() / 1000;
  deepStrictEqual(
    formatPacketDebugLine(ts, {
      protocol: "udp",
      src: "2001:db8::1",
      srcPort: 5,
      dst: "2001:db8::2",
      dstPort: 6,
      wireLen: 63,
    }),
    "2026-11-21 09:08:07: udp: 2001:db8::1:5 -> 2001:db8::2:6 63 bytes",
  );
});
