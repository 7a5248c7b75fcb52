/**
 * `knocktool revoke ADDRESS [--door NAME] [--control PATH]`: closes an address's grants now
 * (their stop commands run, their set elements are removed; docs/GRANTS.md).
 *
 * @module
 */
import type { Io } from "../util/io.ts";
import type { GrantStatus } from "../server/status.ts";
import { callControl } from "./_control_client.ts";
import type { RevokeOptions } from "./revoke_args.ts";

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
