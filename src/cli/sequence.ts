/**
 * `knocktool sequence --secret-file FILE --door NAME [--at UNIXTIME] [--slot N]`: prints a door's
 * secret-derived sequence (docs/SECRET-SEQUENCES.md) as `PORT:PROTO` words, for any knock client:
 * `knock HOST $(knocktool sequence ...)`.
 *
 * @module
 */
import type { Io } from "../util/io.ts";
import { sequenceWords } from "../match/secret_derive.ts";
import { clientSequence } from "./_secret_options.ts";
import type { SequenceOptions } from "./sequence_args.ts";

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
