import assert from "node:assert/strict";
import { resetSync } from "@logtape/logtape";
import { parseConfig } from "../config/parse.ts";
import { buildEthernet, buildIp, TCP_FLAGS } from "../wire/build.ts";
import { captureServerLog } from "../../testing/server_log.ts";
import { DoorActions, RecordingRunner } from "./actions.ts";
import { Daemon } from "./daemon.ts";
import { ServerLog } from "./log.ts";
import { buildStatus, formatStatus, type StatusReport } from "./status.ts";
import { formatPrometheus } from "./metrics.ts";

const REPORT: StatusReport = {
  pid: 42,
  uptimeSeconds: 7,
  grantMode: true,
  doors: [
    { name: 'we"b\\n', enabled: true, oneTimeLeft: null, knocks: 3, opens: 1, aclDrops: 2 },
    { name: "otp", enabled: false, oneTimeLeft: 0, knocks: 0, opens: 0, aclDrops: 0 },
  ],
  grants: [{
    door: 'we"b\\n',
    address: "192.0.2.2",
    since: "2026-01-01T00:00:00.000Z",
    until: "2026-01-01T00:00:30.000Z",
    secondsLeft: 23,
    closes: "command + set inet kt allow4",
    via: "knock",
  }],
  attempts: 1,
  queuedCommands: 0,
  counters: {
    packetsSeen: 10,
    knocks: 3,
    opens: 1,
    invalidations: 4,
    repeatsIgnored: 5,
    evictions: 6,
    attemptsRefused: 12,
    commandsRun: 7,
    commandsFailed: 8,
    commandsQueued: 9,
    commandsSkipped: 13,
    aclDrops: 2,
    rateLimitDrops: 11,
  },
};

Deno.test("formatStatus: doors, grants with time left, counters", () => {
  assert.equal(
    formatStatus(REPORT),
    `knocktool serve, pid 42, up 7 s

Doors
  we"b\\n: enabled; 3 knocks, 1 opens, 2 ACL drops
  otp: disabled, 0 one-time sequences left; 0 knocks, 0 opens, 0 ACL drops

Grants (1)
  we"b\\n  192.0.2.2  23 s left, closes by command + set inet kt allow4, since 2026-01-01T00:00:00.000Z

Attempts in progress: 1
Commands waiting: 0

Counters since start
  packets seen      10
  knocks            3
  opens             1
  invalidations     4
  repeats ignored   5
  evictions         6
  attempts refused  12
  commands run      7
  commands failed   8
  commands queued   9
  commands skipped  13
  ACL drops         2
  rate-limit drops  11
`,
  );
});

Deno.test("formatPrometheus: escaped door labels, gauges per door", () => {
  const text = formatPrometheus(REPORT);
  assert.match(text, /^knocktool_knocks_total\{door="we\\"b\\\\n"\} 3$/m);
  assert.match(text, /^knocktool_grants\{door="we\\"b\\\\n"\} 1$/m);
  assert.match(text, /^knocktool_grants\{door="otp"\} 0$/m);
  assert.match(text, /^knocktool_door_enabled\{door="otp"\} 0$/m);
  assert.match(text, /^knocktool_rate_limit_drops_total 11$/m);
  assert.match(text, /^# TYPE knocktool_packets_seen_total counter$/m);
  assert.ok(text.endsWith("\n"));
});

Deno.test("formatPrometheus: the table-full refusals and the skipped start commands are counters", () => {
  const text = formatPrometheus(REPORT);
  assert.ok(
    text.includes(
      "# HELP knocktool_attempts_refused_total New attempts refused because the full table held" +
        " only attempts past stage 1.\n# TYPE knocktool_attempts_refused_total counter\n" +
        "knocktool_attempts_refused_total 12\n",
    ),
  );
  assert.ok(
    text.includes(
      "# HELP knocktool_commands_skipped_total Start commands skipped, with their stop commands," +
        " because the queue was full.\n# TYPE knocktool_commands_skipped_total counter\n" +
        "knocktool_commands_skipped_total 13\n",
    ),
  );
  assert.match(text, /^knocktool_evictions_total 6$/m);
});

Deno.test("a report from a server without the newer counters leaves them out", () => {
  const { attemptsRefused: _a, commandsSkipped: _c, ...older } = REPORT.counters;
  const report = { ...REPORT, counters: older } as unknown as StatusReport;
  const text = formatStatus(report);
  assert.deepEqual(
    text.split("\n").filter((l) => /attempts.refused|commands.skipped|undefined/.test(l)),
    [],
  );
  assert.match(text, /^ {2}rate-limit drops {2}11$/m);
  const prom = formatPrometheus(report);
  assert.deepEqual(
    prom.split("\n").filter((l) => /attempts.refused|commands.skipped|undefined/.test(l)),
    [],
  );
});

function knock(port: number, src: string) {
  const ip = buildIp({
    family: 4,
    src,
    dst: "192.0.2.1",
    protocol: "tcp",
    srcPort: 40000,
    dstPort: port,
    tcpFlags: TCP_FLAGS.SYN,
  });
  return {
    linkType: 1,
    data: buildEthernet(ip, 4),
    wireLen: ip.length + 14,
    tsSec: 100,
    tsUsec: 0,
  };
}

Deno.test("buildStatus: attempts refused by the full table and start commands skipped by the full queue", async () => {
  const { io } = captureServerLog();
  const runner = new RecordingRunner();
  const log = new ServerLog();
  const actions = new DoorActions({ runner, log, maxRunning: 1, maxQueuedStarts: 1 });
  const daemon = new Daemon({
    config: (() => {
      const r = parseConfig("[A]\nsequence = 1,2,3\n");
      if (!r.ok) throw new Error(r.error.message);
      return r.config;
    })(),
    configPath: "k.conf",
    reloadConfig: () => parseConfig(""),
    actions,
    log,
    localAddresses: { v4: ["192.0.2.1"], v6: [] },
    ipv4Only: false,
  });
  try {
    // 65536 attempts at stage 2 fill the table; the next source's first knock is refused.
    for (let i = 0; i < 65_536; i++) {
      const src = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      daemon.handleFrame(knock(1, src));
      daemon.handleFrame(knock(2, src));
    }
    daemon.handleFrame(knock(1, "198.51.100.1"));
    // One command runs, one waits, the next two are skipped.
    const door = { name: "B", cmdTimeout: 0, startCommand: "b %IP%" };
    const opens = [1, 2, 3, 4].map((i) => actions.open(door, `192.0.2.${10 + i}`, 4));
    const during = buildStatus({ daemon, actions, startedAt: 0 }).counters;
    await Promise.all(opens);
    await actions.shutdown();
    assert.deepEqual(
      { refused: during.attemptsRefused, evictions: during.evictions },
      { refused: 1, evictions: 0 },
    );
    assert.equal(during.commandsSkipped, 2);
    assert.deepEqual(runner.commands, ["b 192.0.2.11", "b 192.0.2.12"]);
    assert.deepEqual(io.err.split("\n").filter((l) => l !== ""), [
      "Refuse new knock attempts: all 65536 tracked attempts are past stage 1 (the limit)",
      'Queue the command of door "B" for 192.0.2.12: 1 commands are running (the limit)',
      'Skip the command of door "B" for 192.0.2.13: 1 commands are queued (the limit)',
    ]);
  } finally {
    daemon.close();
    resetSync();
  }
});
