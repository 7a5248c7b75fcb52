/**
 * The daemon's grant hooks (docs/GRANTS.md): whether doors open as grants, opening a door for a
 * completed knock, and the control socket's `grant` and `revoke`, which change the same state
 * through the same path as a knock.
 *
 * @module
 */
import type { Door } from "../config/model.ts";
import { usesFeature } from "../config/extensions.ts";
import { canonicalAddress } from "../wire/address.ts";
import type { Grant } from "./grants.ts";
import type { DaemonContext } from "./_daemon_types.ts";

/**
 * Whether doors open as grants: the config uses the grant extensions (docs/GRANTS.md) or cluster
 * mode (docs/CLUSTER.md), and the daemon has a grant keeper.
 *
 * @param ctx The daemon.
 * @returns True in grant mode.
 */
export function isGrantMode(ctx: DaemonContext): boolean {
  const config = ctx.config();
  return ctx.opts.grants !== undefined &&
    (usesFeature(config, "grants") || config.options.cluster !== undefined);
}

/**
 * Runs a door's start command, or grants through nftables sets (docs/GRANTS.md).
 *
 * @param ctx The daemon.
 * @param door The door, with its current sequence.
 * @param src The source address.
 * @param family Its family.
 */
export function openDoor(ctx: DaemonContext, door: Door, src: string, family: 4 | 6): void {
  const grants = ctx.opts.grants;
  if (grants !== undefined && isGrantMode(ctx)) {
    grants.open(door, src, family);
  } else {
    void ctx.opts.actions.open(door, src, family, ctx.opts.lookup?.cached(src));
  }
}

/**
 * Opens a door by hand (`knocktool grant`); see `Daemon.grant`.
 *
 * @param ctx The daemon.
 * @param doorName The door.
 * @param address The address to let in.
 * @param forSec How long (default the door's `Cmd_Timeout`).
 * @returns What happened: `opened`, `refreshed`, …
 * @throws {Error} When the door or the address is not valid; nothing changed then.
 */
export function grantByHand(
  ctx: DaemonContext,
  doorName: string,
  address: string,
  forSec?: number,
): { address: string; outcome: string } {
  const index = ctx.config().doors.findIndex((d) => d.name === doorName);
  if (index < 0) throw new Error(`Cannot grant: no door is named ${JSON.stringify(doorName)}`);
  const door = ctx.doors()[index];
  if (door === null || door === undefined) {
    throw new Error(
      `Cannot grant: door ${
        JSON.stringify(doorName)
      } is disabled (its one-time sequences are used up)`,
    );
  }
  const a = canonicalAddress(address);
  if (a === null) {
    throw new Error(`Cannot grant ${JSON.stringify(address)}: not an IPv4 or IPv6 address`);
  }
  if (a.family === 6 && ctx.opts.ipv4Only) {
    throw new Error(`Cannot grant ${JSON.stringify(address)}: serve runs with -4 (IPv4 only)`);
  }
  ctx.counters.opens++;
  ctx.doorCount(door.name).opens++;
  ctx.opts.log.emit(
    "open",
    `${a.text}: ${door.name}: OPEN SESAME (granted by hand${
      forSec === undefined ? "" : ` for ${forSec} s`
    })`,
    "LV",
    { door: door.name, src: a.text },
  );
  if (isGrantMode(ctx)) {
    const outcome = ctx.opts.grants!.open(door, a.text, a.family, {
      ...(forSec !== undefined ? { forSec } : {}),
      via: "grant",
    });
    return { address: a.text, outcome };
  }
  const timed = forSec === undefined ? door : { ...door, cmdTimeout: forSec };
  void ctx.opts.actions.open(timed, a.text, a.family);
  return { address: a.text, outcome: "opened" };
}

/**
 * Closes the grants of an address now (`knocktool revoke`); see `Daemon.revoke`.
 *
 * @param ctx The daemon.
 * @param address The address.
 * @param doorName Only this door's grant.
 * @returns The grants closed.
 * @throws {Error} When there is nothing to revoke; nothing changed then.
 */
export function revokeByHand(ctx: DaemonContext, address: string, doorName?: string): Grant[] {
  const a = canonicalAddress(address);
  if (a === null) {
    throw new Error(`Cannot revoke ${JSON.stringify(address)}: not an IPv4 or IPv6 address`);
  }
  if (doorName !== undefined && !ctx.config().doors.some((d) => d.name === doorName)) {
    throw new Error(`Cannot revoke: no door is named ${JSON.stringify(doorName)}`);
  }
  const closed = isGrantMode(ctx)
    ? ctx.opts.grants!.revoke(a.text, doorName)
    // A knockd config: its pending stop commands run now.
    : ctx.opts.actions.firePendingStops(a.text, doorName).map((p): Grant => ({
      door: p.door,
      address: p.src,
      family: a.family,
      since: p.since,
      until: p.due,
      stop: "",
      via: "knock",
    }));
  if (closed.length === 0) {
    throw new Error(
      `Cannot revoke ${JSON.stringify(a.text)}: no grant is open for it${
        doorName === undefined ? "" : ` on door ${JSON.stringify(doorName)}`
      }`,
    );
  }
  return closed;
}
