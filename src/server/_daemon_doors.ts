/**
 * The doors a config serves: set up from the config (one-time sequences files, secret doors), the
 * matcher over them, what a completed knock does (`From`, secret doors, the cluster's single-use
 * claim, the open) and the one-time rotation after it (docs/COMPATIBILITY.md §5, with B2 and B3
 * fixed). The daemon calls these at start, on reload and on a matcher's open event.
 *
 * @module
 */
import type { Config, Door } from "../config/model.ts";
import type { ConfigError } from "../config/parse.ts";
import type { LocalAddresses } from "../config/filter.ts";
import { noMoreSequencesText } from "../config/onetime_file.ts";
import { formatSequence } from "../config/sequence.ts";
import { DEFAULT_STATE_DIR } from "../config/defaults.ts";
import { OneTimeSequences } from "../match/onetime.ts";
import { Matcher } from "../match/matcher.ts";
import { cidrsContain } from "../config/cidr.ts";
import type { OpenEvent } from "../match/events.ts";
import { SecretDoors, SecretFileError } from "./secret_doors.ts";
import { claimThen } from "./_daemon_cluster.ts";
import { openDoor } from "./_daemon_grants.ts";
import { secretOpen } from "./_daemon_secrets.ts";
import type { DaemonContext, DaemonOptions, OneTimeLike } from "./_daemon_types.ts";

/** The doors of a config ready to serve, as {@link setupDoors} makes them. */
export interface DoorSetup {
  /** The doors with their current sequences; null = disabled (one-time file used up, secret). */
  readonly doors: (Door | null)[];
  /** The one-time sequences files by door index. */
  readonly oneTime: (OneTimeLike | undefined)[];
  /** Secret doors: keys, window, used marks (docs/SECRET-SEQUENCES.md). */
  readonly secrets: SecretDoors;
}

/**
 * Opens the one-time sequences files and the secret doors of `config`.
 *
 * @param config The configuration.
 * @param opts The daemon's options (`openOneTime`).
 * @returns The doors, or the error that makes the config unservable (nothing left open then).
 */
export function setupDoors(
  config: Config,
  opts: DaemonOptions,
): DoorSetup | { error: ConfigError } {
  const open = opts.openOneTime ??
    ((path: string, name: string) => OneTimeSequences.open(path, name));
  const doors: (Door | null)[] = [];
  const oneTime: (OneTimeLike | undefined)[] = [];
  let secrets: SecretDoors;
  try {
    secrets = SecretDoors.open(config, config.options.stateDir ?? DEFAULT_STATE_DIR);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    // A reload logs knockdText: config errors name the line there.
    const knockdText = e instanceof SecretFileError
      ? `config: line ${e.line}: ${message}`
      : message;
    return { error: { message, knockdText } };
  }
  for (const door of config.doors) {
    if (door.secret !== undefined) {
      // Disabled here; its virtual doors carry the derived sequences.
      doors.push(null);
      oneTime.push(undefined);
      continue;
    }
    if (door.oneTimeSequencesFile === undefined) {
      doors.push(door);
      oneTime.push(undefined);
      continue;
    }
    const ots = open(door.oneTimeSequencesFile, door.name);
    if (!("consume" in ots)) {
      for (const o of oneTime) o?.close();
      return { error: ots };
    }
    oneTime.push(ots);
    doors.push(ots.current === null ? null : { ...door, sequence: ots.current });
  }
  return { doors, oneTime, secrets };
}

/**
 * A matcher over the doors in use and the secret doors' placeholders.
 *
 * @param config The configuration the doors come from.
 * @param doors The doors in use (null: disabled).
 * @param secrets The secret doors.
 * @param addrs The local addresses.
 * @param opts The daemon's options.
 * @returns The matcher.
 */
export function newMatcher(
  config: Config,
  doors: readonly (Door | null)[],
  secrets: SecretDoors,
  addrs: LocalAddresses,
  opts: DaemonOptions,
): Matcher {
  // A disabled door keeps its index (events carry doorIndex) with its sequence removed.
  const all = [
    ...doors.map((d, i) => d ?? config.doors[i]!),
    ...secrets.placeholderDoors(),
  ];
  const m = new Matcher(all, {
    localAddresses: [...addrs.v4, ...addrs.v6],
    ipv4Only: opts.ipv4Only,
    debug: opts.debug ?? false,
    strict: (opts.strict ?? false) || (config.options.knockdStrict ?? false),
    maxStartsPerMinute: config.options.maxStartsPerMinute ?? 0,
    onTableFull: (w) => opts.log.emit("attempt-warning", w, "LE", { warning: true }),
  });
  doors.forEach((d, i) => {
    if (d === null) m.setSequence(i, null);
  });
  for (let i = doors.length; i < all.length; i++) m.setSequence(i, null);
  return m;
}

/**
 * One-time rotation after an open of door `index` (docs/COMPATIBILITY.md §5), with B2 and B3
 * fixed: a used-up file disables the door, and the whole filter is rebuilt.
 *
 * @param ctx The daemon.
 * @param index The door.
 */
export function rotateOneTime(ctx: DaemonContext, index: number): void {
  const oneTime = ctx.oneTime();
  const doors = ctx.doors();
  const ots = oneTime[index];
  const door = doors[index];
  if (ots === undefined || door === null || door === undefined) return;
  const r = ots.consume();
  if (r.next !== null) {
    doors[index] = { ...door, sequence: r.next };
    ctx.matcher().setSequence(index, r.next);
    ctx.opts.log.emit(
      "debug",
      `new sequence for door ${door.name}: ${formatSequence(r.next)}`,
      "D",
    );
  } else {
    doors[index] = null;
    ctx.matcher().setSequence(index, null);
    ots.close();
    oneTime[index] = undefined;
    const msg = (r.message ?? noMoreSequencesText(door.name)).replace(/\n+$/, "");
    ctx.opts.log.emit("one-time", msg + "\n", "LE", { door: door.name, warning: true });
    // knockd's line stays as it is; why the file could not be updated follows it.
    if (r.cause !== undefined) {
      ctx.opts.log.emit("one-time-error", r.cause, "LE", { door: door.name, warning: true });
    }
  }
  ctx.refilter();
}

/**
 * A knocker completed a door's sequence: refuse a source outside `From` (docs/GRANTS.md), hand a
 * secret door's open to its hook (docs/SECRET-SEQUENCES.md), otherwise open (after the
 * fleet-wide claim of a one-time sequence in cluster mode, docs/CLUSTER.md) and rotate the door's
 * one-time sequence.
 *
 * @param ctx The daemon.
 * @param ev The matcher's open event.
 */
export function knockOpen(ctx: DaemonContext, ev: OpenEvent): void {
  const log = ctx.opts.log;
  const from = ev.door.from;
  if (from !== undefined && !cidrsContain(from, ev.src)) {
    ctx.counters.aclDrops++;
    ctx.doorCount(ev.door.name).aclDrops++;
    log.emit(
      "acl-drop",
      `${ctx.who(ev.src)}: ${ev.door.name}: not opened: source is outside "From"`,
      "LV",
      { door: ev.door.name, src: ev.src },
    );
    return;
  }
  if (ctx.secrets().isVirtual(ev.doorIndex)) {
    secretOpen(ctx, ev.doorIndex, ev.src, ev.family);
    return;
  }
  const door = ctx.doors()[ev.doorIndex] ?? ev.door;
  const open = () => {
    ctx.counters.opens++;
    ctx.doorCount(ev.door.name).opens++;
    log.emit("open", `${ctx.who(ev.src)}: ${ev.door.name}: OPEN SESAME`, "LV", {
      door: ev.door.name,
      src: ev.src,
    });
    openDoor(ctx, door, ev.src, ev.family);
  };
  if (ctx.singleUse() !== undefined && ctx.oneTime()[ev.doorIndex] !== undefined) {
    claimThen(ctx, door.name, formatSequence(door.sequence), ev.src, open);
  } else open();
  rotateOneTime(ctx, ev.doorIndex);
}
