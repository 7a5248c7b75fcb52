/**
 * `knocktool status [--json] [--prometheus] [--control PATH]`: asks a running `serve` for its
 * doors, live grants, attempts and counters (docs/GRANTS.md).
 *
 * @module
 */
import { object } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import type { Parser } from "@optique/core/parser";
import { command, constant, option } from "@optique/core/primitives";
import type { Io } from "../util/io.ts";
import { formatStatus, type StatusReport } from "../server/status.ts";
import { formatPrometheus } from "../server/metrics.ts";
import { callControl, controlOption } from "./_control_client.ts";

/** The `status` subcommand's parser. */
export const statusCommand: Parser<"sync", StatusOptions, unknown> = command(
  "status",
  object({
    cmd: constant("status"),
    json: option("--json", { description: message`Print the report as one JSON object.` }),
    prometheus: option("--prometheus", {
      description: message`Print the counters and gauges in Prometheus text format.`,
    }),
    control: controlOption,
  }),
  {
    description:
      message`Show a running server's doors, live grants, attempts in progress and counters.`,
  },
);

/** Options of `status`. */
export interface StatusOptions {
  /** The subcommand tag. */
  readonly cmd: "status";
  /** Print JSON. */
  readonly json?: boolean;
  /** Print Prometheus text. */
  readonly prometheus?: boolean;
  /** The control socket. */
  readonly control: string;
}

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
  else io.stdout(formatStatus(report));
  return 0;
}
