/**
 * `knocktool interfaces`: placeholder until its owner lands it.
 *
 * @module
 */
import { object } from "@optique/core/constructs";
import { command, constant } from "@optique/core/primitives";
import { message } from "@optique/core/message";
import type { Io } from "../io.ts";

/** The `interfaces` subcommand's parser. */
export const interfacesCommand = command("interfaces", object({ cmd: constant("interfaces") }), {
  description: message`Not implemented yet.`,
});

/** Options of `interfaces`. */
export interface InterfacesOptions {
  readonly cmd: "interfaces";
}

/** Runs `interfaces`; returns the exit status. */
export function runInterfaces(_opts: InterfacesOptions, io: Io): Promise<number> {
  io.stderr("knocktool: interfaces is not implemented yet\n");
  return Promise.resolve(1);
}
