/**
 * The `keygen` subcommand's command line: its optique parser and the options it yields.
 * Every command line loads this module (main.ts builds one parser from all of them); the runner,
 * `keygen.ts`, is loaded only when `keygen` runs (docs/PERFORMANCE.md, "Where the memory goes").
 *
 * @module
 */
import { object } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import { optional } from "@optique/core/modifiers";
import type { Parser } from "@optique/core/parser";
import { argument, command, constant } from "@optique/core/primitives";
import { string } from "@optique/core/valueparser";

/** The `keygen` subcommand's parser. */
export const keygenCommand: Parser<"sync", KeygenOptions, unknown> = command(
  "keygen",
  object({
    cmd: constant("keygen"),
    file: optional(argument(string({ metavar: "FILE" }))),
  }),
  {
    description:
      message`Write a new secret for ${"Secret_File"} (mode 0600, never over an existing file); without FILE, print it.`,
  },
);

/** Options of `keygen`. */
export interface KeygenOptions {
  /** The subcommand tag. */
  readonly cmd: "keygen";
  /** Where to write; absent prints the secret. */
  readonly file?: string | undefined;
}
