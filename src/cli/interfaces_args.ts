/**
 * The `interfaces` subcommand's command line: its optique parser and the options it yields.
 * Every command line loads this module (main.ts builds one parser from all of them); the runner,
 * `interfaces.ts`, is loaded only when `interfaces` runs (docs/PERFORMANCE.md, "Where the memory goes").
 *
 * @module
 */
import { object } from "@optique/core/constructs";
import { command, constant, option } from "@optique/core/primitives";
import { message } from "@optique/core/message";

/** The `interfaces` subcommand's parser. */
export const interfacesCommand = command(
  "interfaces",
  object({
    cmd: constant("interfaces"),
    json: option("--json", { description: message`Print a JSON array instead of a table.` }),
  }),
  {
    description:
      message`List the interfaces knocktool can capture on, with link type, flags and addresses.`,
  },
);

/** Options of `interfaces`. */
export interface InterfacesOptions {
  readonly cmd: "interfaces";
  /** Print JSON. */
  readonly json?: boolean;
}
