/**
 * The status report in Prometheus text format (docs/GRANTS.md): `knocktool status --prometheus`
 * (for node_exporter's textfile collector) and `serve --metrics-listen ADDR:PORT` at `/metrics`.
 * Counters end in `_total`; per-door figures carry a `door` label.
 *
 * @module
 */
import type { StatusReport } from "./status.ts";

/** Escapes a label value (backslash, double quote, newline). */
function label(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/**
 * Formats the report.
 *
 * @param r The report.
 * @returns Prometheus text exposition format (version 0.0.4), ending in a newline.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatPrometheus } from "./metrics.ts";
 * const text = formatPrometheus({
 *   pid: 1, uptimeSeconds: 5, grantMode: true, attempts: 0, queuedCommands: 0, grants: [],
 *   doors: [{ name: "ssh", enabled: true, oneTimeLeft: null, knocks: 3, opens: 1, aclDrops: 0 }],
 *   counters: {
 *     packetsSeen: 9, knocks: 3, opens: 1, invalidations: 0, repeatsIgnored: 0, evictions: 0,
 *     attemptsRefused: 0, commandsRun: 0, commandsFailed: 0, commandsQueued: 0, commandsSkipped: 0,
 *     aclDrops: 0, rateLimitDrops: 0,
 *   },
 * });
 * assert.match(text, /^knocktool_knocks_total\{door="ssh"\} 3$/m);
 * ```
 */
export function formatPrometheus(r: StatusReport): string {
  const out: string[] = [];
  const metric = (
    name: string,
    type: "counter" | "gauge",
    help: string,
    samples: readonly [Record<string, string>, number][],
  ) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      const l = Object.entries(labels).map(([k, v]) => `${k}="${label(v)}"`).join(",");
      out.push(`${name}${l === "" ? "" : `{${l}}`} ${value}`);
    }
  };
  /** A counter without labels; left out when a server started before it existed omits it. */
  const total = (name: string, help: string, value: number | undefined) => {
    if (value !== undefined) metric(name, "counter", help, [[{}, value]]);
  };
  const c = r.counters;
  const perDoor = (pick: (d: StatusReport["doors"][number]) => number) =>
    r.doors.map((d): [Record<string, string>, number] => [{ door: d.name }, pick(d)]);
  metric("knocktool_packets_seen_total", "counter", "Frames the capture delivered.", [[
    {},
    c.packetsSeen,
  ]]);
  metric(
    "knocktool_knocks_total",
    "counter",
    "Knocks that matched a step of a door's sequence.",
    perDoor((d) => d.knocks),
  );
  metric(
    "knocktool_opens_total",
    "counter",
    "Doors opened, by knock or by hand.",
    perDoor((d) => d.opens),
  );
  metric(
    "knocktool_acl_drops_total",
    "counter",
    "Opens refused because the source is outside the door's From.",
    perDoor((d) => d.aclDrops),
  );
  metric("knocktool_invalidations_total", "counter", "Attempts ended by a wrong knock.", [[
    {},
    c.invalidations,
  ]]);
  metric("knocktool_repeats_ignored_total", "counter", "Repeated knocks ignored.", [[
    {},
    c.repeatsIgnored,
  ]]);
  metric("knocktool_evictions_total", "counter", "Attempts evicted from the full table.", [[
    {},
    c.evictions,
  ]]);
  total(
    "knocktool_attempts_refused_total",
    "New attempts refused because the full table held only attempts past stage 1.",
    c.attemptsRefused,
  );
  metric("knocktool_commands_run_total", "counter", "Door commands started.", [[
    {},
    c.commandsRun,
  ]]);
  metric("knocktool_commands_failed_total", "counter", "Door commands that failed.", [[
    {},
    c.commandsFailed,
  ]]);
  metric(
    "knocktool_commands_queued_total",
    "counter",
    "Door commands that waited for a free slot.",
    [[{}, c.commandsQueued]],
  );
  total(
    "knocktool_commands_skipped_total",
    "Start commands skipped, with their stop commands, because the queue was full.",
    c.commandsSkipped,
  );
  metric(
    "knocktool_rate_limit_drops_total",
    "counter",
    "Attempts not started because of Max_Starts_Per_Minute.",
    [[{}, c.rateLimitDrops]],
  );
  const grants = new Map<string, number>(r.doors.map((d) => [d.name, 0]));
  for (const g of r.grants) grants.set(g.door, (grants.get(g.door) ?? 0) + 1);
  metric(
    "knocktool_grants",
    "gauge",
    "Live grants.",
    [...grants].map(([door, n]) => [{ door }, n]),
  );
  metric(
    "knocktool_door_enabled",
    "gauge",
    "1 while the door can open, 0 once its one-time sequences are used up.",
    perDoor((d) => (d.enabled ? 1 : 0)),
  );
  metric("knocktool_attempts", "gauge", "Knock attempts in progress.", [[{}, r.attempts]]);
  metric("knocktool_commands_waiting", "gauge", "Door commands waiting for a slot.", [[
    {},
    r.queuedCommands,
  ]]);
  metric("knocktool_uptime_seconds", "gauge", "Seconds since serve started.", [[
    {},
    r.uptimeSeconds,
  ]]);
  return out.join("\n") + "\n";
}
