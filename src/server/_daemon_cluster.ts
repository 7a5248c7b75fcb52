/**
 * The daemon's cluster hook (docs/CLUSTER.md, "Single use"): a one-time or secret sequence opens
 * once fleet-wide.
 *
 * @module
 */
import type { DaemonContext } from "./_daemon_types.ts";

/**
 * Cluster mode (docs/CLUSTER.md, "Single use"): claims `mark` fleet-wide, then opens, off the
 * packet path (the matcher goes on meanwhile). Another node's claim refuses the open; an
 * unreachable cluster lets it through (a knock never fails because the cluster is down).
 *
 * @param ctx The daemon (its single-use claim must be set).
 * @param door The door's name.
 * @param mark What is used up: the one-time sequence, or the secret door's (step, slot).
 * @param src The source address.
 * @param open Opens the door.
 */
export function claimThen(
  ctx: DaemonContext,
  door: string,
  mark: string,
  src: string,
  open: () => void,
): void {
  const claim = ctx.singleUse()!;
  void claim(door, mark).then((r) => {
    if (r !== "used") return open();
    ctx.opts.log.emit(
      "replay",
      `${ctx.who(src)}: ${door}: sequence already used on another node: refused`,
      "LV",
      { door, src },
    );
  });
}
