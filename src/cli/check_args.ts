/**
 * The `check` subcommand's command line: its optique parser and the options it yields.
 * Every command line loads this module (main.ts builds one parser from all of them); the runner,
 * `check.ts`, is loaded only when `check` runs (docs/PERFORMANCE.md, "Where the memory goes").
 *
 * @module
 */
import { object } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import { optional, withDefault } from "@optique/core/modifiers";
import type { Parser } from "@optique/core/parser";
import { command, constant, option } from "@optique/core/primitives";
import { string } from "@optique/core/valueparser";
import { DEFAULT_CONFIG_PATH, DEFAULT_INTERFACE } from "../config/defaults.ts";

/** The `check` subcommand's parser. */
export const checkCommand: Parser<"sync", CheckOptions, unknown> = command(
  "check",
  object({
    cmd: constant("check"),
    config: withDefault(
      option("-c", "--config", string({ metavar: "FILE" }), {
        description: message`Config file to check.`,
      }),
      DEFAULT_CONFIG_PATH,
    ),
    iface: optional(
      option("-i", "--interface", string({ metavar: "IFACE" }), {
        description:
          message`Interface whose addresses go into the filter (default: the config's ${"Interface"}, else ${DEFAULT_INTERFACE}).`,
      }),
    ),
    ipv4Only: option("-4", "--only-ip-v4", {
      description: message`Leave IPv6 out of the filter, as ${"serve -4"} does.`,
    }),
    linkType: optional(
      option("--link-type", string({ metavar: "TYPE" }), {
        description:
          message`Link type to compile the capture filter for: ${"EN10MB"}, ${"LINUX_SLL"}, ${"LINUX_SLL2"}, ${"RAW"}, ${"NULL"} or ${"LOOP"} (default: ${"LINUX_SLL"} for ${"any"}, else ${"EN10MB"}).`,
      }),
    ),
    json: option("--json", { description: message`Print one JSON object for scripts.` }),
    probe: option("--probe", {
      description: message`Also connect to the cluster (Cluster) once and report what it holds.`,
    }),
    showSequence: option("--show-sequence", {
      description:
        message`Also print the current sequences of secret doors (and their ports in the filter).`,
    }),
  }),
  {
    description:
      message`Check a knockd.conf: show every door, the capture filter and the warnings; exit 1 on an error.`,
  },
);

/** Options of `check`. */
export interface CheckOptions {
  /** The subcommand tag. */
  readonly cmd: "check";
  /** Config file (default /etc/knockd.conf). */
  readonly config?: string;
  /** Interface for the filter's local addresses. */
  readonly iface?: string | undefined;
  /** knockd's `-4`. */
  readonly ipv4Only?: boolean;
  /** Link type name for the capture filter (default: `LINUX_SLL` for `any`, else `EN10MB`). */
  readonly linkType?: string | undefined;
  /** Print JSON. */
  readonly json?: boolean;
  /** `--show-sequence`: print secret doors' current sequences. */
  readonly showSequence?: boolean;
  /** `--probe`: connect to the cluster once and report. */
  readonly probe?: boolean;
}
