/**
 * `knocktool grant ADDRESS --door NAME [--for SECONDS] [--control PATH]`: opens a door by hand on
 * a running server, through the same path as a completed knock (docs/GRANTS.md).
 *
 * @module
 */
import type { Io } from "../util/io.ts";
import { callControl } from "./_control_client.ts";
import type { GrantOptions } from "./grant_args.ts";

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
