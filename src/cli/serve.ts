/**
 * `knocktool serve`: placeholder until its owner lands it.
 *
 * @module
 */
import { object } from "@optique/core/constructs";
import { command, constant } from "@optique/core/primitives";
import { message } from "@optique/core/message";
import type { Io } from "../io.ts";

/** The `serve` subcommand's parser. */
export const serveCommand = command("serve", object({ cmd: constant("serve") }), {
  description: message`Not implemented yet.`,
});

/** Options of `serve`. */
export interface ServeOptions {
  readonly cmd: "serve";
}

/** Runs `serve`; returns the exit status. */
export function runServe(_opts: ServeOptions, io: Io): Promise<number> {
  io.stderr("knocktool: serve is not implemented yet\n");
  return Promise.resolve(1);
}
