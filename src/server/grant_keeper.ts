/**
 * Keeps the grants (docs/GRANTS.md): opens a door for an address as one idempotent grant, adds
 * it to the door's nftables set, runs its start command, runs its stop command when it ends, and
 * keeps the state file up to date so that a crash never leaves a door open.
 *
 * Used when the config uses the grant extensions (`Nft_Set`, `Nft_Set_6`, `From`, `Cooldown`,
 * `Max_Starts_Per_Minute`); a config without them runs as under knockd 0.8, through
 * `DoorActions.open` (docs/COMPATIBILITY.md, "Extensions").
 *
 * Over 400 lines because a grant's whole life (set element, start command, stop timer, state
 * file) is kept in one place, so that no path can leave a door open.
 *
 * @module
 */
import type { Door, NftSetRef } from "../config/model.ts";
import type { Family } from "../wire/packet.ts";
import { encodeRawText } from "../util/bytes.ts";
import type { DoorActions } from "./actions.ts";
import { chooseCommands, COMMAND_MAX, expandCommand } from "./door_commands.ts";
import { realTimers, type Timers } from "./timers.ts";
import type { ServerLog } from "./log.ts";
import { type Grant, grantKey, GrantTable } from "./grants.ts";
import type { GrantState } from "./grant_state.ts";
import { setText, type SetWriter } from "./nft_sets.ts";

/** What a door needs for a grant. */
export type GrantDoor = Pick<
  Door,
  | "name"
  | "cmdTimeout"
  | "startCommand"
  | "startCommand6"
  | "stopCommand"
  | "stopCommand6"
  | "nftSet"
  | "nftSet6"
  | "cooldown"
>;

/** Options of {@link GrantKeeper}. */
export interface GrantKeeperOptions {
  /** Runs the commands (its running cap and queue). */
  readonly actions: DoorActions;
  /** Where messages go. */
  readonly log: ServerLog;
  /** The kernel's sets (absent: a door with `Nft_Set` logs an error per grant). */
  readonly sets?: SetWriter;
  /** The state file (absent: nothing is persisted). */
  readonly state?: GrantState;
  /** Wall clock in ms (default `Date.now`). */
  readonly now?: () => number;
  /** Timer source (default: real timers). */
  readonly timers?: Timers;
}

/** Counters of the grant keeper. */
export interface GrantCounters {
  /** Grants opened. */
  opened: number;
  /** Opens of an open grant that refreshed it. */
  refreshed: number;
  /** Grants that ended at their time. */
  expired: number;
  /** Grants closed by `revoke`. */
  revoked: number;
  /** Start commands not run because of `Cooldown`. */
  cooldownSkips: number;
  /** Set operations that failed. */
  setErrors: number;
  /** State file writes that failed. */
  stateErrors: number;
}

/** What {@link GrantKeeper.open} did. */
export type OpenOutcome = "opened" | "refreshed" | "cooldown" | "nothing";

/** Told about grants opened, refreshed and revoked here (cluster mode, docs/CLUSTER.md). */
export interface GrantObserver {
  /** A grant was opened or refreshed (its `until` is the new one). */
  opened(grant: Grant): void;
  /** A grant was closed by `revoke`. */
  revoked(grant: Grant): void;
}

interface Live {
  grant: Grant;
  timer: unknown;
  started: Promise<void>;
}

/** How long a write that is not needed for safety may wait, to coalesce a burst (ms). */
const SAVE_DELAY_MS = 100;

/** Cooldown entries kept before old ones are swept. */
const COOLDOWN_SWEEP_SIZE = 4096;

/**
 * The grant keeper.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DoorActions, RecordingRunner } from "./actions.ts";
 * import { GrantKeeper } from "./grant_keeper.ts";
 * import { ServerLog } from "./log.ts";
 * const runner = new RecordingRunner();
 * const log = new ServerLog();
 * const keeper = new GrantKeeper({ actions: new DoorActions({ runner, log }), log });
 * const door = { name: "ssh", cmdTimeout: 10, startCommand: "open %IP%", stopCommand: "close %IP%" };
 * assert.equal(keeper.open(door, "192.0.2.2", 4), "opened");
 * assert.equal(keeper.open(door, "192.0.2.2", 4), "refreshed");
 * await keeper.shutdown();
 * assert.equal(runner.commands.join(";"), "open 192.0.2.2;close 192.0.2.2");
 * ```
 */
export class GrantKeeper {
  readonly #o: GrantKeeperOptions;
  readonly #timers: Timers;
  readonly #table = new GrantTable();
  readonly #live = new Map<string, Live>();
  readonly #lastStart = new Map<string, number>();
  #saveTimer: unknown;
  /** Synchronous writes made so far: an older write off the loop must not replace a newer one. */
  #syncSaves = 0;
  /** The write off the loop in progress. */
  #writing: Promise<void> | undefined;
  /** Another write off the loop was asked for while one was in progress. */
  #writeAgain = false;
  #observer: GrantObserver | undefined;
  /** Counters since start. */
  readonly counters: GrantCounters = {
    opened: 0,
    refreshed: 0,
    expired: 0,
    revoked: 0,
    cooldownSkips: 0,
    setErrors: 0,
    stateErrors: 0,
  };

  /**
   * Makes the keeper.
   *
   * @param opts Options.
   */
  constructor(opts: GrantKeeperOptions) {
    this.#o = opts;
    this.#timers = opts.timers ?? realTimers;
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  /**
   * Sets who is told about grants opened, refreshed and revoked (one observer; cluster mode).
   *
   * @param observer The observer, or undefined for none.
   */
  observe(observer: GrantObserver | undefined): void {
    this.#observer = observer;
  }

  /** The live grants, oldest first. */
  list(): Grant[] {
    return this.#table.list();
  }

  /**
   * Opens `door` for `address`, or refreshes its grant when it is open: the set element's
   * timeout and the stop timer start again, the start command does not run again.
   *
   * @param door The door.
   * @param address The knocker's address.
   * @param family Its IP version.
   * @param opts `forSec`: how long (default the door's `Cmd_Timeout`); `via`: how it was opened.
   * @returns What happened.
   */
  open(
    door: GrantDoor,
    address: string,
    family: Family,
    opts: { forSec?: number; via?: "knock" | "grant" | "fleet" } = {},
  ): OpenOutcome {
    const key = grantKey(door.name, address);
    const timeout = opts.forSec ?? door.cmdTimeout;
    const now = this.#now();
    const until = timeout < 0 ? null : now + timeout * 1000;
    const set = family === 4 ? door.nftSet : door.nftSet6;
    const live = this.#live.get(key);
    const fields = { door: door.name, src: address };
    if (live !== undefined) {
      live.grant.until = until;
      if (live.grant.set !== undefined) this.#setAdd(live.grant.set, address, timeout, door.name);
      this.#arm(key, live);
      this.counters.refreshed++;
      this.#o.log.emit(
        "grant-refresh",
        `${address}: ${door.name}: grant refreshed for ${timeout} s`,
        "LV",
        fields,
      );
      this.#saveLater(); // a lost refresh only closes early
      this.#observer?.opened(live.grant);
      return "refreshed";
    }
    let chosen = chooseCommands(door, family);
    const last = this.#lastStart.get(key);
    let skipped = false;
    if (
      chosen.start !== undefined && door.cooldown !== undefined && last !== undefined &&
      now - last < door.cooldown * 1000
    ) {
      this.counters.cooldownSkips++;
      this.#o.log.emit(
        "grant-cooldown",
        `${address}: ${door.name}: cooldown: not running the start command again for ${
          Math.ceil((last + door.cooldown * 1000 - now) / 1000)
        } s`,
        "LV",
        fields,
      );
      chosen = {};
      skipped = true;
    }
    if (chosen.start === undefined && set === undefined) return skipped ? "cooldown" : "nothing";
    const start = chosen.start === undefined ? undefined : expandCommand(chosen.start, address);
    const stop = chosen.stop === undefined || timeout < 0
      ? undefined
      : expandCommand(chosen.stop, address);
    for (const [what, cmd] of [["start", start], ["stop", stop]] as const) {
      if (cmd !== undefined && encodeRawText(cmd).length >= COMMAND_MAX) {
        this.#o.log.emit(
          "command-error",
          `error: parsed ${what} command has been truncated! --> won't execute ${
            what === "stop" ? "start " : ""
          }command`,
          "LE",
          fields,
        );
        return "nothing";
      }
    }
    const grant: Grant = {
      door: door.name,
      address,
      family,
      since: now,
      until,
      ...(stop !== undefined ? { stop } : {}),
      ...(set !== undefined ? { set } : {}),
      via: opts.via ?? "knock",
    };
    if (set !== undefined) this.#setAdd(set, address, timeout, door.name);
    const entry: Live = { grant, timer: undefined, started: Promise.resolve() };
    this.#table.put(grant);
    this.#live.set(key, entry);
    this.counters.opened++;
    // Written before the start command runs: a crash from here on still ends in the stop command.
    if (stop !== undefined) this.#save();
    else this.#saveLater(); // the kernel closes a set grant
    if (start !== undefined) {
      this.#noteStart(key, now, door.cooldown);
      entry.started = this.#o.actions.run(door.name, start, address);
    }
    this.#arm(key, entry);
    this.#observer?.opened(grant);
    return "opened";
  }

  #noteStart(key: string, now: number, cooldown: number | undefined): void {
    if (cooldown === undefined || cooldown <= 0) return;
    if (this.#lastStart.size >= COOLDOWN_SWEEP_SIZE) {
      // Bounded: forget starts older than an hour (longer cooldowns then restart early).
      for (const [k, t] of this.#lastStart) if (now - t > 3_600_000) this.#lastStart.delete(k);
    }
    this.#lastStart.set(key, now);
  }

  #setAdd(set: NftSetRef, address: string, timeout: number, door: string): void {
    const err = this.#o.sets === undefined
      ? "libnftables is not loaded"
      : this.#o.sets.add(set, address, timeout);
    if (err === undefined) return;
    this.counters.setErrors++;
    this.#o.log.emit(
      "grant-error",
      `Cannot add ${JSON.stringify(address)} to set ${JSON.stringify(setText(set))}: ${err}`,
      "LE",
      { door, src: address },
    );
  }

  #arm(key: string, entry: Live): void {
    if (entry.timer !== undefined) this.#timers.clear(entry.timer);
    entry.timer = undefined;
    if (entry.grant.until === null) return;
    entry.timer = this.#timers.set(
      () => this.#close(key, "expired"),
      Math.max(0, entry.grant.until - this.#now()),
    );
  }

  #close(key: string, why: "expired" | "revoked" | "shutdown"): Grant | undefined {
    const entry = this.#live.get(key);
    if (entry === undefined) return undefined;
    if (entry.timer !== undefined) this.#timers.clear(entry.timer);
    this.#live.delete(key);
    const g = entry.grant;
    this.#table.delete(g);
    const fields = { door: g.door, src: g.address };
    if (why === "expired") {
      this.counters.expired++;
      this.#o.log.emit(
        "command-timeout",
        g.stop !== undefined
          ? `${g.address}: ${g.door}: command timeout`
          : `${g.address}: ${g.door}: grant expired`,
        "LV",
        fields,
      );
    } else if (why === "revoked") {
      this.counters.revoked++;
      this.#o.log.emit("grant-revoke", `${g.address}: ${g.door}: grant revoked`, "LV", fields);
      if (g.set !== undefined) {
        const err = this.#o.sets === undefined
          ? "libnftables is not loaded"
          : this.#o.sets.remove(g.set, g.address);
        if (err !== undefined) {
          this.counters.setErrors++;
          this.#o.log.emit(
            "grant-error",
            `Cannot remove ${JSON.stringify(g.address)} from set ${
              JSON.stringify(setText(g.set))
            }: ${err}`,
            "LE",
            fields,
          );
        }
      }
    }
    if (g.stop !== undefined) {
      const stop = g.stop;
      void entry.started.then(() => this.#o.actions.run(g.door, stop, g.address));
    }
    // A closed command grant must leave the file before a crash could run its stop twice.
    if (g.stop !== undefined) this.#save();
    else this.#saveLater();
    return g;
  }

  /**
   * Closes the grants of an address now: stop commands run, set elements are removed.
   *
   * @param address The address.
   * @param door Only this door's grant.
   * @returns The grants closed (empty: none was open).
   */
  revoke(address: string, door?: string): Grant[] {
    const closed: Grant[] = [];
    for (const g of this.#table.find(address, door)) {
      const c = this.#close(grantKey(g.door, g.address), "revoked");
      if (c !== undefined) {
        closed.push(c);
        this.#observer?.revoked(c);
      }
    }
    return closed;
  }

  /**
   * After a restart: reads the state file; stop commands that fell due meanwhile run at once,
   * the other grants are rescheduled.
   *
   * @returns How many stop commands ran and how many grants were rescheduled.
   */
  restore(): { ranStops: number; rescheduled: number } {
    const state = this.#o.state;
    if (state === undefined) return { ranStops: 0, rescheduled: 0 };
    let stored;
    try {
      stored = state.load();
    } catch (e) {
      this.counters.stateErrors++;
      this.#o.log.emit("grant-error", e instanceof Error ? e.message : String(e), "LE");
      return { ranStops: 0, rescheduled: 0 };
    }
    const now = this.#now();
    let ranStops = 0;
    let rescheduled = 0;
    for (const s of stored) {
      const key = grantKey(s.door, s.address);
      if (this.#live.has(key)) continue;
      const fields = { door: s.door, src: s.address };
      if (s.until !== null && s.until <= now) {
        if (s.stop !== undefined) {
          ranStops++;
          this.#o.log.emit(
            "command-timeout",
            `${s.address}: ${s.door}: command timeout (overdue since ${
              new Date(s.until).toISOString()
            }, before the restart)`,
            "LV",
            fields,
          );
          void this.#o.actions.run(s.door, s.stop, s.address);
        }
        continue;
      }
      const grant: Grant = { ...s, via: "restored" };
      const entry: Live = { grant, timer: undefined, started: Promise.resolve() };
      this.#table.put(grant);
      this.#live.set(key, entry);
      this.#arm(key, entry);
      rescheduled++;
    }
    this.#save();
    return { ranStops, rescheduled };
  }

  /**
   * Coalesces writes that are not needed for safety (refreshes, set grants) to one per 100 ms,
   * written off the event loop: the fsync took 1-17 ms on the loop, and a knock arriving then
   * waited for it (docs/PERFORMANCE.md, "Knock to grant (w5g)").
   */
  #saveLater(): void {
    if (this.#o.state === undefined || this.#saveTimer !== undefined) return;
    this.#saveTimer = this.#timers.set(() => {
      this.#saveTimer = undefined;
      this.#saveOffLoop();
    }, SAVE_DELAY_MS);
  }

  #saveOffLoop(): void {
    const state = this.#o.state;
    if (state === undefined) return;
    if (this.#writing !== undefined) {
      this.#writeAgain = true;
      return;
    }
    const syncSaves = this.#syncSaves;
    this.#writing = state.saveAsync(this.#table.list(), () => this.#syncSaves === syncSaves)
      .then(() => {}, (e) => {
        this.counters.stateErrors++;
        this.#o.log.emit("grant-error", e instanceof Error ? e.message : String(e), "LE");
      })
      .finally(() => {
        this.#writing = undefined;
        if (this.#writeAgain) {
          this.#writeAgain = false;
          this.#saveOffLoop();
        }
      });
  }

  #save(): void {
    const state = this.#o.state;
    if (state === undefined) return;
    if (this.#saveTimer !== undefined) this.#timers.clear(this.#saveTimer);
    this.#saveTimer = undefined;
    // Newest state: a write off the loop still in progress must not replace it, nor run again.
    this.#syncSaves++;
    this.#writeAgain = false;
    try {
      state.save(this.#table.list());
    } catch (e) {
      this.counters.stateErrors++;
      this.#o.log.emit("grant-error", e instanceof Error ? e.message : String(e), "LE");
    }
  }

  /**
   * Shutdown: the stop commands of command grants run now (knockd's promise); set grants stay
   * in the kernel until their timeout and in the state file. Await `DoorActions.shutdown` after
   * this to wait for the commands.
   */
  shutdown(): Promise<void> {
    for (const [key, entry] of [...this.#live]) {
      if (entry.grant.stop !== undefined) this.#close(key, "shutdown");
      else if (entry.timer !== undefined) {
        this.#timers.clear(entry.timer);
        entry.timer = undefined;
      }
    }
    this.#save();
    return this.#settled();
  }

  /** Resolves when no write is in progress off the event loop. */
  async #settled(): Promise<void> {
    while (this.#writing !== undefined) await this.#writing;
  }
}
