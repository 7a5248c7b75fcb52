import assert from "node:assert/strict";
import { formatStatus, type StatusReport } from "./status.ts";
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
    commandsRun: 7,
    commandsFailed: 8,
    commandsQueued: 9,
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
  commands run      7
  commands failed   8
  commands queued   9
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
