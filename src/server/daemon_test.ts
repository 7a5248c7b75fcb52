import { deepStrictEqual } from "node:assert/strict";
import { resetSync } from "@logtape/logtape";
import { captureIo } from "../util/io.ts";
import { parseConfig } from "../config/parse.ts";
import type { Config } from "../config/model.ts";
import { buildEthernet, buildIp, TCP_FLAGS } from "../wire/build.ts";
import { DoorActions, RecordingRunner } from "./actions.ts";
import { Daemon, type FrameSource, type SourceEvents } from "./daemon.ts";
import { KnockdSink, ServerLog } from "./log.ts";
import { captureServerLog, useSink } from "../../testing/server_log.ts";

function config(text: string): Config {
  const r = parseConfig(text);
  if (!r.ok) throw new Error(r.error.message);
  return r.config;
}

function frame(port: number, tsSec: number, src = "198.51.100.1") {
  const ip = buildIp({
    family: 4,
    src,
    dst: "192.0.2.1",
    protocol: "tcp",
    srcPort: 40000,
    dstPort: port,
    tcpFlags: TCP_FLAGS.SYN,
  });
  return { linkType: 1, data: buildEthernet(ip, 4), wireLen: ip.length + 14, tsSec, tsUsec: 0 };
}

function setup(reload: () => ReturnType<typeof parseConfig>) {
  const { io } = captureServerLog();
  const runner = new RecordingRunner();
  const log = new ServerLog();
  const actions = new DoorActions({ runner, log });
  const daemon = new Daemon({
    config: config("[A]\nsequence = 1,2\ncommand = a %IP%\n"),
    configPath: "k.conf",
    reloadConfig: reload,
    actions,
    log,
    localAddresses: { v4: ["192.0.2.1"], v6: [] },
    ipv4Only: false,
  });
  return { io, runner, daemon, actions };
}

Deno.test("reload with a broken config keeps the old config and logs the error", async () => {
  const { io, runner, daemon, actions } = setup(() => parseConfig("[A]\nsequence = 5,6\nbogus\n"));
  try {
    deepStrictEqual(daemon.reload(), false);
    daemon.handleFrame(frame(1, 100));
    daemon.handleFrame(frame(2, 101));
    await actions.shutdown();
    deepStrictEqual(runner.commands, ["a 198.51.100.1"]);
    deepStrictEqual(
      io.err,
      "config: line 3: syntax error\n" +
        'Cannot parse line 3: expected "key = value" but found "bogus"\n' +
        'Cannot reload "k.conf": keeping the running configuration\n',
    );
    deepStrictEqual(io.out.split("\n")[0], "re-reading config file: k.conf");
  } finally {
    daemon.close();
    resetSync();
  }
});

Deno.test("reload with an error knockd reports by section also logs the line (knocktool's text)", async () => {
  const { io, daemon, actions } = setup(() => parseConfig("[A]\nsequence = 5,6:icmp\n"));
  try {
    deepStrictEqual(daemon.reload(), false);
    await actions.shutdown();
    deepStrictEqual(
      io.err,
      "config: section A: unknown protocol in knock sequence\n" +
        'Cannot parse "sequence" at line 2: protocol "icmp" in "6:icmp" must be "tcp" or "udp"\n' +
        'Cannot reload "k.conf": keeping the running configuration\n',
    );
  } finally {
    daemon.close();
    resetSync();
  }
});

Deno.test("reload with a good config swaps doors and drops attempts in progress", async () => {
  const { runner, daemon, actions } = setup(() =>
    parseConfig("[B]\nsequence = 2,3\ncommand = b %IP%\n")
  );
  try {
    daemon.handleFrame(frame(1, 100)); // A: Stage 1
    deepStrictEqual(daemon.attemptCount, 1);
    deepStrictEqual(daemon.reload(), true);
    deepStrictEqual(daemon.attemptCount, 0);
    daemon.handleFrame(frame(2, 101)); // B: Stage 1 (A is gone)
    daemon.handleFrame(frame(3, 102));
    await actions.shutdown();
    deepStrictEqual(runner.commands, ["b 198.51.100.1"]);
    deepStrictEqual(daemon.config.doors.map((d) => d.name), ["B"]);
  } finally {
    daemon.close();
    resetSync();
  }
});

Deno.test("frames that do not decode are counted, the loop goes on; rotation refilters", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "kt-daemon-" });
  const { io } = captureServerLog({ verbose: false });
  try {
    Deno.writeTextFileSync(`${dir}/ot`, "1\n2\n");
    const log = new ServerLog();
    const runner = new RecordingRunner();
    const actions = new DoorActions({ runner, log });
    const daemon = new Daemon({
      config: config(`[O]\none_time_sequences = ${dir}/ot\ncommand = o %IP%\n`),
      configPath: "k.conf",
      reloadConfig: () => ({ ok: false, error: { message: "x", knockdText: "x" } }),
      actions,
      log,
      localAddresses: { v4: ["192.0.2.1"], v6: [] },
      ipv4Only: false,
    });
    let refilters = 0;
    const filters: string[] = [];
    const source: FrameSource = {
      live: false,
      run(ev: SourceEvents, _signal, filter) {
        filters.push(filter({ v4: ["192.0.2.1"], v6: [] }, 1)[0] ?? "");
        ev.onFrame({ linkType: 1, data: new Uint8Array(3), wireLen: 3, tsSec: 1, tsUsec: 0 });
        ev.onFrame(frame(1, 2));
        filters.push(filter({ v4: ["192.0.2.1"], v6: [] }, 1)[0] ?? "");
        ev.onFrame(frame(2, 3));
        ev.onFrame(frame(2, 4));
        return Promise.resolve();
      },
      refilter() {
        refilters++;
      },
    };
    await daemon.run(source, new AbortController().signal);
    await actions.shutdown();
    daemon.close();
    deepStrictEqual(daemon.counters.decodeErrors, 1);
    deepStrictEqual(daemon.counters.frames, 4);
    deepStrictEqual(daemon.counters.opens, 2);
    deepStrictEqual(refilters, 2);
    deepStrictEqual(runner.commands, ["o 198.51.100.1", "o 198.51.100.1"]);
    // The filter follows the rotation: port 1 first, then port 2.
    deepStrictEqual(filters.map((f) => [...new Set(f.match(/tcp dst port \d+/g))]), [
      ["tcp dst port 1"],
      ["tcp dst port 2"],
    ]);
    deepStrictEqual(Deno.readTextFileSync(`${dir}/ot`), "#\n#\n");
    deepStrictEqual(
      io.err,
      "no more sequences left in the one time sequences file for door O --> disabling the door\n",
    );
  } finally {
    resetSync();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a seq_timeout beyond setTimeout's range arms one capped timer, not a 1 ms loop", async () => {
  captureServerLog();
  const log = new ServerLog();
  const actions = new DoorActions({ runner: new RecordingRunner(), log });
  let clockReads = 0;
  const daemon = new Daemon({
    config: config("[A]\nsequence = 1,2\nseq_timeout = 2000000000\ncommand = a %IP%\n"),
    configPath: "k.conf",
    reloadConfig: () => ({ ok: false, error: { message: "x", knockdText: "x" } }),
    actions,
    log,
    localAddresses: { v4: ["192.0.2.1"], v6: [] },
    ipv4Only: false,
    now: () => (clockReads++, Date.now()),
  });
  const ac = new AbortController();
  try {
    let afterKnock = -1;
    const source: FrameSource = {
      live: true,
      async run(ev: SourceEvents, signal) {
        ev.onFrame(frame(1, Math.floor(Date.now() / 1000)));
        afterKnock = clockReads;
        // Deno fires a timer of more than 2^31-1 ms after 1 ms: each firing reads the clock.
        await new Promise((r) => setTimeout(r, 150));
        if (!signal.aborted) ac.abort();
      },
      refilter() {},
    };
    await daemon.run(source, ac.signal);
    deepStrictEqual(daemon.attemptCount, 1);
    deepStrictEqual(clockReads - afterKnock, 0);
  } finally {
    daemon.close();
    await actions.shutdown();
    resetSync();
  }
});

Deno.test("a one-time file that cannot be updated: knockd's line, then the cause", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "kt-daemon-" });
  const io = captureIo();
  try {
    const path = `${dir}/otp`;
    Deno.writeTextFileSync(path, " 1,2\n 3,4\n");
    const sink = new KnockdSink({ io, verbose: false, debug: false, format: "text" });
    useSink(sink);
    const runner = new RecordingRunner();
    const log = new ServerLog();
    const actions = new DoorActions({ runner, log });
    const daemon = new Daemon({
      config: config(`[A]\none_time_sequences = ${path}\ncommand = a %IP%\n`),
      configPath: "k.conf",
      reloadConfig: () => parseConfig(""),
      actions,
      log,
      localAddresses: { v4: ["192.0.2.1"], v6: [] },
      ipv4Only: false,
    });
    try {
      Deno.removeSync(path);
      daemon.handleFrame(frame(1, 100));
      daemon.handleFrame(frame(2, 101));
      await actions.shutdown();
      deepStrictEqual(runner.commands, ["a 198.51.100.1"]);
      deepStrictEqual(
        io.err,
        "error while disabling used one time sequence for door A --> disabling the door\n" +
          `Cannot update one-time sequences file "${path}" for door "A": No such file or directory\n`,
      );
    } finally {
      daemon.close();
    }
  } finally {
    resetSync();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a first-knock flood that fills the attempt table logs one warning (LE)", async () => {
  const { io, daemon, actions } = setup(() => parseConfig("[A]\nsequence = 1,2\n"));
  try {
    for (let i = 0; i < 65_536 + 100; i++) {
      daemon.handleFrame(frame(1, 100, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`));
    }
    await actions.shutdown();
    deepStrictEqual(
      io.err,
      "Evict the oldest knock attempts still at stage 1: 65536 attempts are tracked (the limit)\n",
    );
    deepStrictEqual(daemon.matcherStats.evictions, 100);
  } finally {
    daemon.close();
    resetSync();
  }
});
