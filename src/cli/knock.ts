/**
 * `knocktool knock`: placeholder until its owner lands it.
 *
 * @module
 */
import { object } from "@optique/core/constructs";
import { command, constant } from "@optique/core/primitives";
import { message } from "@optique/core/message";
import type { Io } from "../io.ts";

/** The `knock` subcommand's parser. */
export const knockCommand = command("knock", object({ cmd: constant("knock") }), {
  description: message`Not implemented yet.`,
});

/** Options of `knock`. */
export interface KnockOptions {
  readonly cmd: "knock";
}

/** Runs `knock`; returns the exit status. */
export function runKnock(_opts: KnockOptions, io: Io): Promise<number> {
  io.stderr("knocktool: knock is not implemented yet\n");
  return Promise.resolve(1);
}
