/**
 * The daemon's options, counters and setup error, and the view of its state that its hooks (grants,
 * secret sequences, cluster) work through. daemon.ts re-exports what callers outside this folder
 * use.
 *
 * @module
 */
import type { Config, Door, Knock } from "../config/model.ts";
import type { ConfigError, ParseResult } from "../config/parse.ts";
import type { LocalAddresses } from "../config/filter.ts";
import type { Matcher } from "../match/matcher.ts";
import type { DoorActions } from "./actions.ts";
import type { GrantKeeper } from "./grant_keeper.ts";
import type { ServerLog } from "./log.ts";
import type { HostLookup } from "./lookup.ts";
import type { SecretDoors } from "./secret_doors.ts";

/** Counters of the capture boundary. */
export interface DaemonCounters {
  /** Frames seen. */
  frames: number;
  /** Frames that did not decode to a TCP/UDP packet. */
  decodeErrors: number;
  /** Exceptions caught per frame (bugs; the loop continued). */
  internalErrors: number;
  /** Doors opened. */
  opens: number;
  /** Opens refused by a door's `From` (docs/GRANTS.md). */
  aclDrops: number;
  /** Knocks that matched a step of a sequence (`Stage N` lines). */
  knocks: number;
}

/** Counters of the matcher, summed over reloads. */
export interface MatcherStats {
  /** Attempts evicted from the full table. */
  readonly evictions: number;
  /** Attempts a wrong knock ended. */
  readonly invalidations: number;
  /** New attempts refused because the table was full of later-stage attempts. */
  readonly refusals: number;
  /** Starts dropped by `Max_Starts_Per_Minute`. */
  readonly rateLimitDrops: number;
}

/** Counters of one door (by name), for status and metrics. */
export interface DoorCounters {
  /** Knocks that matched a step. */
  knocks: number;
  /** Opens (knocks and hand grants). */
  opens: number;
  /** Opens refused by `From`. */
  aclDrops: number;
}

/** Options of {@link Daemon}. */
export interface DaemonOptions {
  /** The configuration to start with. */
  readonly config: Config;
  /** Path of the config file (for reload messages). */
  readonly configPath: string;
  /** Re-reads the config file (SIGHUP). */
  readonly reloadConfig: () => ParseResult;
  /** Opens a door's one-time sequences file (default `OneTimeSequences.open`). */
  readonly openOneTime?: (path: string, doorName: string) => OneTimeLike | ConfigError;
  /** Runs the door commands. */
  readonly actions: DoorActions;
  /**
   * Keeps the grants of a config that uses the grant extensions (docs/GRANTS.md); a config
   * without them opens doors through `actions`, as knockd does.
   */
  readonly grants?: GrantKeeper;
  /** knockd's channels. */
  readonly log: ServerLog;
  /** Local addresses to start with (live sources update them). */
  readonly localAddresses: LocalAddresses;
  /** `-4`. */
  readonly ipv4Only: boolean;
  /** `-D`: the matcher produces its debug events (default false: it creates none). */
  readonly debug?: boolean;
  /**
   * `--knockd-strict`: knockd 0.8's exact matching (repeats invalidate). The config's
   * `KnockdStrict` turns it on too, also after a reload. Default false.
   */
  readonly strict?: boolean;
  /** `-l`: reverse lookups. */
  readonly lookup?: HostLookup;
  /** Called after a successful reload, to reopen the log file with the new config. */
  readonly onReload?: (config: Config) => void;
  /** Called on every SIGHUP after the config step, to reopen the log file (logrotate). */
  readonly reopenLog?: (config: Config) => void;
  /** Wall clock in ms (default `Date.now`). */
  readonly now?: () => number;
  /** Called each time the source is open and filtered (the first call is knockd's "starting up"). */
  readonly onOpen?: () => void;
}

/**
 * The config cannot be served: a one-time sequences file cannot be opened, a secret file is
 * unsafe or unreadable, or the state file cannot be read or written.
 */
export class DaemonSetupError extends Error {
  /** @param message E.g. `Cannot open one-time sequences file "F" for door "D": <strerror>`. */
  constructor(message: string) {
    super(message);
    this.name = "DaemonSetupError";
  }
}

/** Claims a single-use mark fleet-wide (cluster mode, docs/CLUSTER.md). */
export type SingleUseClaim = (
  door: string,
  mark: string,
) => Promise<"claimed" | "used" | "unreachable">;

/** What the daemon needs of a one-time sequences file (the `OneTimeSequences` class). */
export interface OneTimeLike {
  /** The sequence in use. */
  readonly current: readonly Knock[] | null;
  /** Marks it used and loads the next one. */
  consume(): { next: readonly Knock[] | null; message?: string; cause?: string };
  /** Closes the file. */
  close(): void;
}

/**
 * The daemon's state as its hooks see it (made once per daemon, never per packet). The functions
 * read the current value: a reload replaces the config, the doors, the secret doors and the matcher.
 */
export interface DaemonContext {
  /** The daemon's options. */
  readonly opts: DaemonOptions;
  /** The daemon's counters. */
  readonly counters: DaemonCounters;
  /** The configuration in use. */
  readonly config: () => Config;
  /** The doors in use (null: disabled); one-time rotation changes entries in place. */
  readonly doors: () => (Door | null)[];
  /** The one-time sequences files by door index; rotation changes entries in place. */
  readonly oneTime: () => (OneTimeLike | undefined)[];
  /** The secret doors in use. */
  readonly secrets: () => SecretDoors;
  /** The matcher in use. */
  readonly matcher: () => Matcher;
  /** The fleet-wide single-use claim (cluster mode), if set. */
  readonly singleUse: () => SingleUseClaim | undefined;
  /** Whether timers may be armed: the source is live and the daemon not stopped. */
  readonly running: () => boolean;
  /** The wall clock, ms. */
  readonly now: () => number;
  /** Re-installs the capture filter, if a source runs. */
  readonly refilter: () => void;
  /** The counters of a door, made on first use. */
  readonly doorCount: (name: string) => DoorCounters;
  /** The source address as logged: with its host name when `-l` has one cached. */
  readonly who: (src: string) => string;
}
