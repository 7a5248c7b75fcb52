/**
 * `knocktool revoke ADDRESS [--door NAME] [--control PATH]`: closes an address's grants now
 * (their stop commands run, their set elements are removed; docs/GRANTS.md).
 *
 * @module
 */
import { object } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import { optional } from "@optique/core/modifiers";
import type { Parser } from "@optique/core/parser";
import { argument, command, constant, option } from "@optique/core/primitives";
import { string } from "@optique/core/valueparser";
import type { Io } from "../util/io.ts";
import type { GrantStatus } from "../server/status.ts";
import { callControl, controlOption } from "./_control_client.ts";

/** The `revoke` subcommand's parser. */
export const revokeCommand: Parser<"sync", RevokeOptions, unknown> = command(
  "revoke",
  object({
    cmd: constant("revoke"),
    address: argument(string({ metavar: "ADDRESS" })),
    door: optional(
      option("--door", string({ metavar: "NAME" }), {
        description: message`Only this door's grant (default: every door's).`,
      }),
    ),
    control: controlOption,
  }),
  { description: message`Close an address's grants now, on a running server.` },
);

/** Options of `revoke`. */
export interface RevokeOptions {
  /** The subcommand tag. */
  readonly cmd: "revoke";
  /** The address. */
  readonly address: string;
  /** Only this door. */
  readonly door?: string | undefined;
  /** The control socket. */
  readonly control: string;
}

/**
 * Runs `knocktool revoke`.
 *
 * @param opts The parsed options.
 * @param io Where to print.
 * @returns 0, or 1 when nothing was revoked.
 */
export async function runRevoke(opts: RevokeOptions, io: Io): Promise<number> {
  const a = await callControl(opts.control, {
    cmd: "revoke",
    address: opts.address,
    ...(opts.door !== undefined ? { door: opts.door } : {}),
  }, io);
  if (a === undefined) return 1;
  for (const g of a.revoked as GrantStatus[]) {
    io.stdout(`Revoked ${g.address} on door ${JSON.stringify(g.door)} (closed by ${g.closes})\n`);
  }
  return 0;
}
