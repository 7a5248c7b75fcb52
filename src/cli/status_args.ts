/**
 * The `status` subcommand's command line: its optique parser and the options it yields.
 * Every command line loads this module (main.ts builds one parser from all of them); the runner,
 * `status.ts`, is loaded only when `status` runs (docs/PERFORMANCE.md, "Where the memory goes").
 *
 * @module
 */
import { object } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import type { Parser } from "@optique/core/parser";
import { command, constant, option } from "@optique/core/primitives";
import { controlOption } from "./_control_args.ts";

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
