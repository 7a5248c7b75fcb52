/**
 * The `sequence` subcommand's command line: its optique parser and the options it yields.
 * Every command line loads this module (main.ts builds one parser from all of them); the runner,
 * `sequence.ts`, is loaded only when `sequence` runs (docs/PERFORMANCE.md, "Where the memory goes").
 *
 * @module
 */
import { object } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import { optional } from "@optique/core/modifiers";
import type { Parser } from "@optique/core/parser";
import { command, constant, option } from "@optique/core/primitives";
import { string } from "@optique/core/valueparser";
import { type SecretClientOptions, secretOptionParsers } from "./_secret_args.ts";

/** The `sequence` subcommand's parser. */
export const sequenceCommand: Parser<"sync", SequenceOptions, unknown> = command(
  "sequence",
  object({
    cmd: constant("sequence"),
    secretFile: optional(
      option("--secret-file", string({ metavar: "FILE" }), {
        description: message`The door's secret (made by ${"knocktool keygen"}).`,
      }),
    ),
    ...secretOptionParsers,
    verbose: option("-v", "--verbose", {
      description: message`Also print the step and slot on stderr.`,
    }),
  }),
  {
    description:
      message`Print a secret door's current sequence as ${"PORT:PROTO"} words, for any knock client.`,
  },
);

/** Options of `sequence`. */
export interface SequenceOptions extends SecretClientOptions {
  /** The subcommand tag. */
  readonly cmd: "sequence";
  /** `--secret-file FILE`. */
  readonly secretFile?: string | undefined;
  /** `-v`. */
  readonly verbose?: boolean;
}
