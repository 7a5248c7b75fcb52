/**
 * `knocktool grant ADDRESS --door NAME [--for SECONDS] [--control PATH]`: opens a door by hand on
 * a running server, through the same path as a completed knock (docs/GRANTS.md).
 *
 * @module
 */
import { object } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import { optional } from "@optique/core/modifiers";
import type { Parser } from "@optique/core/parser";
import { argument, command, constant, option } from "@optique/core/primitives";
import { integer, string } from "@optique/core/valueparser";
import type { Io } from "../util/io.ts";
import { callControl, controlOption } from "./_control_client.ts";

/** The `grant` subcommand's parser. */
export const grantCommand: Parser<"sync", GrantOptions, unknown> = command(
  "grant",
  object({
    cmd: constant("grant"),
    address: argument(string({ metavar: "ADDRESS" })),
    door: option("--door", string({ metavar: "NAME" }), {
      description: message`The door to open.`,
    }),
    forSec: optional(
      option("--for", integer({ min: 1, max: 31_536_000, metavar: "SECONDS" }), {
        description: message`How long (default: the door's Cmd_Timeout).`,
      }),
    ),
    control: controlOption,
  }),
  { description: message`Open a door for an address by hand, on a running server.` },
);

/** Options of `grant`. */
export interface GrantOptions {
  /** The subcommand tag. */
  readonly cmd: "grant";
  /** The address. */
  readonly address: string;
  /** The door. */
  readonly door: string;
  /** Seconds. */
  readonly forSec?: number | undefined;
  /** The control socket. */
  readonly control: string;
}

/**
 * Runs `knocktool grant`.
 *
 * @param opts The parsed options.
 * @param io Where to print.
 * @returns 0, or 1 when the server refused.
 */
export async function runGrant(opts: GrantOptions, io: Io): Promise<number> {
  const a = await callControl(opts.control, {
    cmd: "grant",
    address: opts.address,
    door: opts.door,
    ...(opts.forSec !== undefined ? { for: opts.forSec } : {}),
  }, io);
  if (a === undefined) return 1;
  const what = a.outcome === "refreshed" ? "Refreshed the grant of" : "Granted";
  io.stdout(`${what} ${a.address} on door ${JSON.stringify(opts.door)}\n`);
  return 0;
}
