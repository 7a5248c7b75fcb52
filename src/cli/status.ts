/**
 * `knocktool status [--json] [--prometheus] [--control PATH]`: asks a running `serve` for its
 * doors, live grants, attempts and counters (docs/GRANTS.md).
 *
 * @module
 */
import type { Io } from "../util/io.ts";
import { formatStatus, type StatusReport } from "../server/status.ts";
import { formatPrometheus } from "../server/metrics.ts";
import { callControl } from "./_control_client.ts";
import type { StatusOptions } from "./status_args.ts";

/**
 * Runs `knocktool status`.
 *
 * @param opts The parsed options.
 * @param io Where to print.
 * @returns 0, or 1 when the server cannot be asked.
 */
export async function runStatus(opts: StatusOptions, io: Io): Promise<number> {
  if (opts.json && opts.prometheus) {
    io.stderr("Cannot use --json and --prometheus together: choose one format\n");
    return 1;
  }
  const a = await callControl(opts.control, { cmd: "status" }, io);
  if (a === undefined) return 1;
  const report = a.status as StatusReport;
  if (opts.json) io.stdout(JSON.stringify(report, null, 2) + "\n");
  else if (opts.prometheus) io.stdout(formatPrometheus(report));
  else io.stdout(formatStatus(report) + formatCluster(a.status, Date.now()));
  return 0;
}

/** The cluster part of `status --json` (docs/CLUSTER.md), as far as the text needs it. */
interface ClusterPart {
  fleet: string;
  node: string;
  connected: boolean;
  server: string;
  pending: number;
  dropped: number;
  nodes: { node: string; at: number }[];
  grants: { door: string; address: string; until: number; origin: string }[];
}

/**
 * The text of the cluster part of a status report, or "" when the server runs without `Cluster`.
 *
 * @param status The `status` answer.
 * @param now The time, ms since the epoch.
 * @returns The lines.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatCluster } from "./status.ts";
 * const cluster = {
 *   fleet: "edge", node: "gw-2", connected: true, server: "192.0.2.9:4222", pending: 0, dropped: 0,
 *   nodes: [{ node: "gw-1", at: 8_000 }],
 *   grants: [{ door: "ssh", address: "192.0.2.1", until: 40_000, origin: "gw-1" }],
 * };
 * assert.equal(
 *   formatCluster({ cluster }, 10_000),
 *   '\nCluster "edge", node "gw-2": connected to "192.0.2.9:4222", 0 updates pending\n' +
 *     "  node gw-1  last heard 2 s ago\n  grant ssh  192.0.2.1  from gw-1, 30 s left\n",
 * );
 * assert.equal(formatCluster({}, 0), "");
 * ```
 */
export function formatCluster(status: unknown, now: number): string {
  const c = (status as { cluster?: ClusterPart } | undefined)?.cluster;
  if (c === undefined) return "";
  const state = c.connected ? `connected to "${c.server}"` : "not connected";
  const dropped = c.dropped > 0 ? `, ${c.dropped} dropped` : "";
  const lines = [
    "",
    `Cluster "${c.fleet}", node "${c.node}": ${state}, ${c.pending} update${
      c.pending === 1 ? "" : "s"
    } pending${dropped}`,
  ];
  for (const n of c.nodes) {
    lines.push(
      `  node ${n.node}  last heard ${Math.max(0, Math.round((now - n.at) / 1000))} s ago`,
    );
  }
  for (const g of c.grants) {
    const left = Math.max(0, Math.round((g.until - now) / 1000));
    lines.push(`  grant ${g.door}  ${g.address}  from ${g.origin}, ${left} s left`);
  }
  return lines.join("\n") + "\n";
}
