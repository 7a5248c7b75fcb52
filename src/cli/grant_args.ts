/**
 * The `grant` subcommand's command line: its optique parser and the options it yields.
 * Every command line loads this module (main.ts builds one parser from all of them); the runner,
 * `grant.ts`, is loaded only when `grant` runs (docs/PERFORMANCE.md, "Where the memory goes").
 *
 * @module
 */
import { object } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import { optional } from "@optique/core/modifiers";
import type { Parser } from "@optique/core/parser";
import { argument, command, constant, option } from "@optique/core/primitives";
import { integer, string } from "@optique/core/valueparser";
import { controlOption } from "./_control_args.ts";

/** The `grant` subcommand's parser. */
export const grantCommand: Parser<"sync", GrantOptions, unknown> = command(
  "grant",
  object({
    cmd: constant("grant"),
    address: argument(string({ metavar: "ADDRESS" })),
    door: option("--door", string({ metavar: "NAME" }), {
      description: message`The door to open.`,
    }),
    forSec: optional(
      option("--for", integer({ min: 1, max: 31_536_000, metavar: "SECONDS" }), {
        description: message`How long (default: the door's Cmd_Timeout).`,
      }),
    ),
    control: controlOption,
  }),
  { description: message`Open a door for an address by hand, on a running server.` },
);

/** Options of `grant`. */
export interface GrantOptions {
  /** The subcommand tag. */
  readonly cmd: "grant";
  /** The address. */
  readonly address: string;
  /** The door. */
  readonly door: string;
  /** Seconds. */
  readonly forSec?: number | undefined;
  /** The control socket. */
  readonly control: string;
}
