/**
 * The `revoke` subcommand's command line: its optique parser and the options it yields.
 * Every command line loads this module (main.ts builds one parser from all of them); the runner,
 * `revoke.ts`, is loaded only when `revoke` runs (docs/PERFORMANCE.md, "Where the memory goes").
 *
 * @module
 */
import { object } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import { optional } from "@optique/core/modifiers";
import type { Parser } from "@optique/core/parser";
import { argument, command, constant, option } from "@optique/core/primitives";
import { string } from "@optique/core/valueparser";
import { controlOption } from "./_control_args.ts";

/** The `revoke` subcommand's parser. */
export const revokeCommand: Parser<"sync", RevokeOptions, unknown> = command(
  "revoke",
  object({
    cmd: constant("revoke"),
    address: argument(string({ metavar: "ADDRESS" })),
    door: optional(
      option("--door", string({ metavar: "NAME" }), {
        description: message`Only this door's grant (default: every door's).`,
      }),
    ),
    control: controlOption,
  }),
  { description: message`Close an address's grants now, on a running server.` },
);

/** Options of `revoke`. */
export interface RevokeOptions {
  /** The subcommand tag. */
  readonly cmd: "revoke";
  /** The address. */
  readonly address: string;
  /** Only this door. */
  readonly door?: string | undefined;
  /** The control socket. */
  readonly control: string;
}
