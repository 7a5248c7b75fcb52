/**
 * `knocktool sequence --secret-file FILE --door NAME [--at UNIXTIME] [--slot N]`: prints a door's
 * secret-derived sequence (docs/SECRET-SEQUENCES.md) as `PORT:PROTO` words, for any knock client:
 * `knock HOST $(knocktool sequence ...)`.
 *
 * @module
 */
import { object } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import { optional } from "@optique/core/modifiers";
import type { Parser } from "@optique/core/parser";
import { command, constant, option } from "@optique/core/primitives";
import { string } from "@optique/core/valueparser";
import type { Io } from "../util/io.ts";
import { sequenceWords } from "../match/secret_derive.ts";
import {
  clientSequence,
  type SecretClientOptions,
  secretOptionParsers,
} from "./_secret_options.ts";

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

/**
 * Runs `knocktool sequence`.
 *
 * @param opts The parsed options.
 * @param io Where to print.
 * @param now Wall clock in ms (default `Date.now`).
 * @returns 0, or 1 on a usage or secret-file error.
 */
export async function runSequence(
  opts: SequenceOptions,
  io: Io,
  now: () => number = Date.now,
): Promise<number> {
  if (opts.secretFile === undefined) {
    io.stderr("Cannot derive a sequence: give the secret with --secret-file\n");
    return 1;
  }
  const r = await clientSequence(opts.secretFile, opts, now);
  if ("error" in r) {
    io.stderr(r.error + "\n");
    return 1;
  }
  if (opts.verbose === true) io.stderr(`step ${r.step}, slot ${r.slot}\n`);
  io.stdout(sequenceWords(r.knocks) + "\n");
  return 0;
}
