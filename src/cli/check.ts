/**
 * `knocktool check`: placeholder until its owner lands it.
 *
 * @module
 */
import { object } from "@optique/core/constructs";
import { command, constant } from "@optique/core/primitives";
import { message } from "@optique/core/message";
import type { Io } from "../io.ts";

/** The `check` subcommand's parser. */
export const checkCommand = command("check", object({ cmd: constant("check") }), {
  description: message`Not implemented yet.`,
});

/** Options of `check`. */
export interface CheckOptions {
  readonly cmd: "check";
}

/** Runs `check`; returns the exit status. */
export function runCheck(_opts: CheckOptions, io: Io): Promise<number> {
  io.stderr("knocktool: check is not implemented yet\n");
  return Promise.resolve(1);
}
