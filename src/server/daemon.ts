/**
 * The server's core: frames in, knockd's log lines and door actions out.
 *
 * config → matcher (+ one-time sequences) → frames from a {@link FrameSource} (live capture, a
 * pcap file, or an array in tests) → `decodeFrame` → `Matcher.handle` → events → log lines and
 * {@link DoorActions}. A timer driven by `Matcher.nextDeadline()` logs sequence timeouts on an
 * idle link (live sources only: a replayed file has its own clock).
 *
 * Fixed knockd defects: a one-time file running out disables the door and the daemon keeps running
 * (docs/COMPATIBILITY.md B2); the whole filter is rebuilt after a rotation (B3); reload parses the
 * new config first and keeps the old one on error (B9); `-l` lookups never block the capture loop
 * (B21). Kept as documented: a reload drops the attempts in progress.
 *
 * Secret doors (docs/SECRET-SEQUENCES.md) run as virtual doors in the same matcher; `SecretDoors`
 * (secret_doors.ts) holds their window and used marks, and this class moves the window at every
 * step boundary and turns a virtual door's open into an open or a refused replay.
 *
 * Longer than 400 lines because it is the one place where the matcher, the one-time and secret
 * sequences, the timers, reload and the actions meet, and the control socket's `grant` and
 * `revoke` (docs/GRANTS.md) change that state through the same path as a knock; each part is a
 * short method.
 *
 * @module
 */
import type { Config, Door, Knock } from "../config/model.ts";
import type { ConfigError, ParseResult } from "../config/parse.ts";
import { captureFilters, type LocalAddresses } from "../config/filter.ts";
import { noMoreSequencesText } from "../config/onetime_file.ts";
import { OneTimeSequences } from "../match/onetime.ts";
import { Matcher } from "../match/matcher.ts";
import type { MatchEvent } from "../match/events.ts";
import { decodeFrame, peekAt, peekFrame } from "../wire/decode.ts";
import { fieldsSourceKey, FrameFields, type SourceKey } from "../wire/fields.ts";
import { formatSequence } from "../config/sequence.ts";
import { type DoorActions, MAX_TIMER_MS } from "./actions.ts";
import type { GrantKeeper } from "./grant_keeper.ts";
import { usesFeature } from "../config/extensions.ts";
import { cidrsContain } from "../config/cidr.ts";
import { canonicalAddress } from "../wire/address.ts";
import type { Grant } from "./grants.ts";
import { formatPacketDebugLine, type ServerLog } from "./log.ts";
import type { HostLookup } from "./lookup.ts";
import type { StatusLevel } from "./capture_events.ts";
import { SecretDoors, SecretFileError } from "./secret_doors.ts";
import { DEFAULT_STATE_DIR } from "../config/defaults.ts";

/** One captured frame (the capture loop's `Frame`). */
export interface SourceFrame {
  /** libpcap link type. */
  readonly linkType: number;
  /** Captured bytes (valid only during the callback). */
  readonly data: Uint8Array;
  /** Length on the wire. */
  readonly wireLen: number;
  /** Capture time, seconds. */
  readonly tsSec: number;
  /** Capture time, microseconds. */
  readonly tsUsec: number;
  /** When set with {@link offset} and {@link caplen}: the buffer `data` is a view of. */
  readonly buffer?: Uint8Array;
  /** Where the frame starts in {@link buffer}. */
  readonly offset?: number;
  /** Captured length. */
  readonly caplen?: number;
}

/** What a frame source reports to the daemon. */
export interface SourceEvents {
  /** One frame. */
  onFrame(f: SourceFrame): void;
  /** A status message of the capture layer. */
  onStatus(msg: string, level: StatusLevel): void;
  /** The local addresses changed (live capture). */
  onAddresses(a: LocalAddresses): void;
  /** The source is open and filtered: what it delivers from now on is seen (live capture). */
  onOpen?(): void;
}

/** Where frames come from: a live interface, a pcap file, or a test's array. */
export interface FrameSource {
  /** True when timestamps follow the wall clock (enables the timeout timer). */
  readonly live: boolean;
  /**
   * Delivers frames until the end of the input or until `signal` aborts.
   *
   * @param ev Callbacks.
   * @param signal Stops the source.
   * @param filter The current capture filter for the given local addresses and link type:
   *   candidates from most to least exact (install the first that compiles within 4096 BPF
   *   instructions); an empty list admits everything.
   */
  run(
    ev: SourceEvents,
    signal: AbortSignal,
    filter: (a: LocalAddresses, linkType: number) => readonly string[],
  ): Promise<void>;
  /** Re-installs the capture filter (after a one-time rotation or a reload). */
  refilter(): void;
}

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
 * The running server. Feed it frames with {@link Daemon.run} (or {@link Daemon.handleFrame});
 * call {@link Daemon.reload} on SIGHUP and {@link Daemon.stop} to end.
 *
 * @example
 * ```ts ignore
 * const d = new Daemon({ config, configPath, reloadConfig, actions, log, localAddresses, ipv4Only: false });
 * await d.run(source, signal);
 * ```
 */
export class Daemon {
  readonly counters: DaemonCounters = {
    frames: 0,
    decodeErrors: 0,
    internalErrors: 0,
    opens: 0,
    aclDrops: 0,
    knocks: 0,
  };
  /** Counters per door name. */
  readonly doorCounters: Map<string, DoorCounters> = new Map();
  readonly #opts: DaemonOptions;
  #config: Config;
  /** Doors with their current sequences; null = disabled (one-time file used up). */
  #doors: (Door | null)[] = [];
  #oneTime: (OneTimeLike | undefined)[] = [];
  #singleUse: SingleUseClaim | undefined;
  /** Secret doors: keys, window, used marks (docs/SECRET-SEQUENCES.md). */
  #secrets: SecretDoors;
  #stepTimer: ReturnType<typeof setTimeout> | undefined;
  /** Serialises window refreshes (each derives asynchronously). */
  #refreshing: Promise<void> = Promise.resolve();
  #matcher: Matcher;
  /** Counters of the matchers replaced by reloads. */
  #matcherBase: MatcherStats = { evictions: 0, invalidations: 0, refusals: 0, rateLimitDrops: 0 };
  /** Repeats ignored by the matchers replaced by reloads. */
  #repeatsBefore = 0;
  #addrs: LocalAddresses;
  #source: FrameSource | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Whether `-D` lines are recorded; read when logging is configured (construction, run). */
  #debug: boolean;
  #timerAt: number | undefined;
  #live = false;
  #stopped = false;
  /** Reused by every {@link handleFrame} (peekFrame's output). */
  readonly #fields = new FrameFields();

  /**
   * Sets up the matcher and the one-time sequences of `opts.config`.
   *
   * @param opts Options.
   * @throws {DaemonSetupError} When a one-time sequences file cannot be opened.
   */
  constructor(opts: DaemonOptions) {
    this.#opts = opts;
    this.#debug = opts.log.debugEnabled;
    this.#config = opts.config;
    this.#addrs = opts.localAddresses;
    const setup = this.#setup(opts.config);
    if ("error" in setup) throw new DaemonSetupError(setup.error.message);
    this.#doors = setup.doors;
    this.#oneTime = setup.oneTime;
    this.#secrets = setup.secrets;
    this.#matcher = this.#newMatcher(setup.doors);
  }

  /** The configuration in use. */
  get config(): Config {
    return this.#config;
  }

  /** The doors in use, with their current sequences (null: disabled). */
  get doors(): readonly (Door | null)[] {
    return this.#doors;
  }

  /** The matcher's counters since the last reload (a reload makes a new matcher). */
  get matcherStats(): MatcherStats {
    const m = this.#matcher;
    const b = this.#matcherBase;
    return {
      evictions: b.evictions + m.evictions,
      invalidations: b.invalidations + m.invalidations,
      refusals: b.refusals + m.refusals,
      rateLimitDrops: b.rateLimitDrops + m.rateLimitDrops,
    };
  }

  #doorCount(name: string): DoorCounters {
    let c = this.doorCounters.get(name);
    if (c === undefined) {
      c = { knocks: 0, opens: 0, aclDrops: 0 };
      this.doorCounters.set(name, c);
    }
    return c;
  }

  /**
   * Whether doors open as grants: the config uses the grant extensions (docs/GRANTS.md) or cluster
   * mode (docs/CLUSTER.md).
   */
  get grantMode(): boolean {
    return this.#opts.grants !== undefined &&
      (usesFeature(this.#config, "grants") || this.#config.options.cluster !== undefined);
  }

  /**
   * Opens a door by hand (`knocktool grant`), through the same path as a completed knock
   * (without `From`, which filters knockers, not the administrator).
   *
   * @param doorName The door.
   * @param address The address to let in.
   * @param forSec How long (default the door's `Cmd_Timeout`).
   * @returns What happened: `opened`, `refreshed`, …
   * @throws {Error} When the door or the address is not valid; nothing changed then.
   */
  grant(doorName: string, address: string, forSec?: number): { address: string; outcome: string } {
    const index = this.#config.doors.findIndex((d) => d.name === doorName);
    if (index < 0) throw new Error(`Cannot grant: no door is named ${JSON.stringify(doorName)}`);
    const door = this.#doors[index];
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
    if (a.family === 6 && this.#opts.ipv4Only) {
      throw new Error(`Cannot grant ${JSON.stringify(address)}: serve runs with -4 (IPv4 only)`);
    }
    this.counters.opens++;
    this.#doorCount(door.name).opens++;
    this.#opts.log.emit(
      "open",
      `${a.text}: ${door.name}: OPEN SESAME (granted by hand${
        forSec === undefined ? "" : ` for ${forSec} s`
      })`,
      "LV",
      { door: door.name, src: a.text },
    );
    if (this.grantMode) {
      const outcome = this.#opts.grants!.open(door, a.text, a.family, {
        ...(forSec !== undefined ? { forSec } : {}),
        via: "grant",
      });
      return { address: a.text, outcome };
    }
    const timed = forSec === undefined ? door : { ...door, cmdTimeout: forSec };
    void this.#opts.actions.open(timed, a.text, a.family);
    return { address: a.text, outcome: "opened" };
  }

  /**
   * Closes the grants of an address now (`knocktool revoke`).
   *
   * @param address The address.
   * @param doorName Only this door's grant.
   * @returns The grants closed.
   * @throws {Error} When there is nothing to revoke; nothing changed then.
   */
  revoke(address: string, doorName?: string): Grant[] {
    const a = canonicalAddress(address);
    if (a === null) {
      throw new Error(`Cannot revoke ${JSON.stringify(address)}: not an IPv4 or IPv6 address`);
    }
    if (doorName !== undefined && !this.#config.doors.some((d) => d.name === doorName)) {
      throw new Error(`Cannot revoke: no door is named ${JSON.stringify(doorName)}`);
    }
    const closed = this.grantMode
      ? this.#opts.grants!.revoke(a.text, doorName)
      // A knockd config: its pending stop commands run now.
      : this.#opts.actions.firePendingStops(a.text, doorName).map((p): Grant => ({
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

  /** Repeated knocks ignored since the start (docs/COMPATIBILITY.md "Repeats and retransmissions"). */
  get repeatsIgnored(): number {
    return this.#repeatsBefore + this.#matcher.repeatsIgnored;
  }

  /** Number of attempts the matcher tracks. */
  get attemptCount(): number {
    return this.#matcher.attemptCount;
  }

  #setup(
    config: Config,
  ):
    | { doors: (Door | null)[]; oneTime: (OneTimeLike | undefined)[]; secrets: SecretDoors }
    | { error: ConfigError } {
    const open = this.#opts.openOneTime ??
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

  #newMatcher(doors: readonly (Door | null)[]): Matcher {
    // A disabled door keeps its index (events carry doorIndex) with its sequence removed.
    const all = [
      ...doors.map((d, i) => d ?? this.#config.doors[i]!),
      ...this.#secrets.placeholderDoors(),
    ];
    const m = new Matcher(all, {
      localAddresses: [...this.#addrs.v4, ...this.#addrs.v6],
      ipv4Only: this.#opts.ipv4Only,
      debug: this.#opts.debug ?? false,
      strict: (this.#opts.strict ?? false) || (this.#config.options.knockdStrict ?? false),
      maxStartsPerMinute: this.#config.options.maxStartsPerMinute ?? 0,
      onTableFull: (w) => this.#opts.log.emit("attempt-warning", w, "LE", { warning: true }),
    });
    doors.forEach((d, i) => {
      if (d === null) m.setSequence(i, null);
    });
    for (let i = doors.length; i < all.length; i++) m.setSequence(i, null);
    return m;
  }

  /**
   * Moves the secret doors' window to the wall clock (or `nowMs`): derives the sequences of the
   * steps now acceptable, hands them to the matcher and rebuilds the capture filter.
   *
   * @param nowMs The time, ms (default: the daemon's clock).
   */
  refreshSecrets(nowMs: number = this.#now()): Promise<void> {
    const secrets = this.#secrets;
    const next = this.#refreshing.then(async () => {
      if (!secrets.any) return;
      const changes = await secrets.window(Math.floor(nowMs / 1000));
      // A reload may have replaced the set while this one derived.
      if (secrets !== this.#secrets || changes.length === 0) return;
      for (const c of changes) {
        // null first: attempts on the step being replaced are dropped, not carried over.
        this.#matcher.setSequence(c.index, null);
        this.#matcher.setSequence(c.index, c.knocks);
      }
      this.#source?.refilter();
      this.#opts.log.emit(
        "debug",
        `secret sequences: ${changes.length} derived, filter rebuilt`,
        "D",
      );
    }).catch((e) => {
      this.counters.internalErrors++;
      this.#opts.log.emit(
        "internal",
        `Cannot derive secret sequences: ${e instanceof Error ? e.message : String(e)}`,
        "E",
      );
    });
    this.#refreshing = next;
    return next;
  }

  /** Re-arms the step-boundary timer of the secret doors (live sources). */
  #scheduleStep(): void {
    if (this.#stepTimer !== undefined) clearTimeout(this.#stepTimer);
    this.#stepTimer = undefined;
    if (!this.#live || this.#stopped) return;
    const ms = this.#secrets.untilNextStep(this.#now());
    if (ms === undefined) return;
    // A few ms late, so that floor(now / step) has moved on.
    this.#stepTimer = setTimeout(() => {
      this.#stepTimer = undefined;
      void this.refreshSecrets().then(() => this.#scheduleStep());
    }, Math.min(MAX_TIMER_MS, ms + 5));
  }

  /**
   * The capture filter candidates for the doors in use (`captureFilters`: a compact superset of
   * knockd's filter that also admits IPv6 extension headers, and VLAN tags on Ethernet).
   *
   * @param addrs Local addresses (default: the current ones).
   * @param linkType The capture's pcap link type (default Ethernet).
   * @returns BPF expressions, most exact first (empty: capture everything).
   */
  filter(addrs: LocalAddresses = this.#addrs, linkType = 1): string[] {
    const doors = [
      ...this.#doors.filter((d): d is Door => d !== null),
      ...this.#secrets.activeDoors(),
    ];
    return captureFilters(doors, addrs, this.#opts.ipv4Only, linkType).map((c) => c.text);
  }

  /**
   * Runs the source to its end (a file) or until `signal` aborts (live capture).
   *
   * @param source Where frames come from.
   * @param signal Stops the run.
   */
  async run(source: FrameSource, signal: AbortSignal): Promise<void> {
    this.#debug = this.#opts.log.debugEnabled;
    this.#source = source;
    this.#live = source.live;
    const onAbort = () => {
      this.#clearTimer();
      this.#clearStepTimer();
    };
    signal.addEventListener("abort", onAbort);
    try {
      await this.refreshSecrets();
      this.#scheduleStep();
      await source.run(
        {
          onFrame: (f) => this.handleFrame(f),
          onStatus: (msg, level) => this.#status(msg, level),
          onAddresses: (a) => this.setLocalAddresses(a),
          onOpen: () => this.#opts.onOpen?.(),
        },
        signal,
        (a, linkType) => this.filter(a, linkType),
      );
    } finally {
      signal.removeEventListener("abort", onAbort);
      this.#clearTimer();
      this.#clearStepTimer();
      this.#live = false;
    }
  }

  #status(msg: string, level: StatusLevel): void {
    if (level === "info") this.#opts.log.emit("capture", msg, "D");
    // Recovery goes where the loss went: the log file and syslog (and -v).
    else if (level === "notice") this.#opts.log.emit("capture", msg, "LV");
    // Interface loss and recovery belong in the log file and syslog too, not only on stderr: knockd
    // exited silently there (docs/COMPATIBILITY.md B6), so no log parser expects these lines to be
    // absent.
    else this.#opts.log.emit("capture", msg, "LE", { warning: level === "warning" });
  }

  /**
   * Updates the local addresses (the matcher's target check and the filter).
   *
   * @param a The interface's addresses.
   */
  setLocalAddresses(a: LocalAddresses): void {
    this.#addrs = a;
    this.#matcher.setLocalAddresses([...a.v4, ...a.v6]);
    for (const ip of [...a.v4, ...a.v6]) this.#opts.log.emit("debug", `local IP: ${ip}`, "D");
  }

  /**
   * Handles one frame. Never throws: anything thrown is counted and reported, and the loop
   * continues.
   *
   * @param f The frame.
   */
  handleFrame(f: SourceFrame): void {
    this.counters.frames++;
    try {
      // The fast path (docs/PERFORMANCE.md): a frame the matcher has no use for is dropped after
      // peekFrame's numeric fields, with nothing allocated. Under -D every packet is logged.
      let key: SourceKey | undefined;
      const fields = this.#fields;
      // A capture that says where the frame lies in its batch buffer spares the view (Frame).
      const buf = f.buffer;
      if (
        !this.#debug &&
        (buf !== undefined && f.offset !== undefined && f.caplen !== undefined
          ? peekAt(
            f.linkType,
            buf.buffer,
            buf.byteOffset + f.offset,
            f.caplen,
            f.wireLen,
            f.tsSec,
            fields,
          )
          : peekFrame(f.linkType, f.data, f.wireLen, f.tsSec, fields))
      ) {
        if (!this.#matcher.wants(fields)) {
          this.#schedule();
          return;
        }
        key = fieldsSourceKey(fields);
      }
      const r = decodeFrame(f.linkType, f.data, f.wireLen, f.tsSec, f.tsUsec);
      if (!r.ok) {
        this.counters.decodeErrors++;
        this.#opts.log.emit(
          "decode-error",
          `cannot decode frame: ${r.error.layer} ${r.error.kind} at offset ${r.error.offset}: ${r.error.detail}`,
          "D",
        );
        return;
      }
      if (this.#debug) this.#opts.log.emit("packet", formatPacketDebugLine(f.tsSec, r.packet), "D");
      this.#events(this.#matcher.handle(r.packet, key));
    } catch (e) {
      this.counters.internalErrors++;
      this.#opts.log.emit(
        "internal",
        `Cannot handle frame ${this.counters.frames}: ${
          e instanceof Error ? e.message : String(e)
        }`,
        "E",
      );
    }
    this.#schedule();
  }

  /**
   * Expires attempts at wall-clock second `nowSec` (the idle-link timer calls this).
   *
   * @param nowSec Whole seconds since the epoch.
   */
  tick(nowSec: number): void {
    try {
      this.#events(this.#matcher.tick(nowSec));
    } catch (e) {
      this.counters.internalErrors++;
      this.#opts.log.emit(
        "internal",
        `Cannot expire attempts: ${e instanceof Error ? e.message : String(e)}`,
        "E",
      );
    }
    this.#schedule();
  }

  #now(): number {
    return (this.#opts.now ?? Date.now)();
  }

  #schedule(): void {
    if (!this.#live || this.#stopped) return;
    const deadline = this.#matcher.nextDeadline();
    if (deadline === undefined) {
      this.#clearTimer();
      return;
    }
    if (this.#timerAt === deadline && this.#timer !== undefined) return;
    this.#clearTimer();
    this.#timerAt = deadline;
    // Wake just after the deadline second starts; tick() uses whole seconds, as knockd does.
    // At most 2^31-1 ms per timer (Deno fires longer ones after 1 ms): an early wake-up expires
    // nothing and re-arms for the rest.
    const ms = Math.min(MAX_TIMER_MS, Math.max(0, deadline * 1000 - this.#now() + 5));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = undefined;
      this.tick(Math.floor(this.#now() / 1000));
    }, ms);
  }

  #clearStepTimer(): void {
    if (this.#stepTimer !== undefined) clearTimeout(this.#stepTimer);
    this.#stepTimer = undefined;
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = undefined;
  }

  #who(src: string): string {
    const host = this.#opts.lookup?.cached(src);
    return host === undefined ? src : `${src} (${host})`;
  }

  #events(events: readonly MatchEvent[]): void {
    const log = this.#opts.log;
    for (const ev of events) {
      switch (ev.kind) {
        case "debug":
          log.emit("debug", ev.message, "D");
          break;
        case "stage":
          if (ev.stage === 1) this.#opts.lookup?.request(ev.src);
          this.counters.knocks++;
          this.#doorCount(ev.door.name).knocks++;
          log.emit("stage", `${this.#who(ev.src)}: ${ev.door.name}: Stage ${ev.stage}`, "LV", {
            door: ev.door.name,
            src: ev.src,
            stage: ev.stage,
          });
          break;
        case "timeout":
          log.emit(
            "timeout",
            `${this.#who(ev.src)}: ${ev.door.name}: sequence timeout (stage ${ev.stage})\n`,
            "LV",
            { door: ev.door.name, src: ev.src, stage: ev.stage },
          );
          break;
        case "open": {
          const from = ev.door.from;
          if (from !== undefined && !cidrsContain(from, ev.src)) {
            this.counters.aclDrops++;
            this.#doorCount(ev.door.name).aclDrops++;
            log.emit(
              "acl-drop",
              `${this.#who(ev.src)}: ${ev.door.name}: not opened: source is outside "From"`,
              "LV",
              { door: ev.door.name, src: ev.src },
            );
            break;
          }
          if (this.#secrets.isVirtual(ev.doorIndex)) {
            this.#secretOpen(ev.doorIndex, ev.src, ev.family);
            break;
          }
          const door = this.#doors[ev.doorIndex] ?? ev.door;
          const open = () => {
            this.counters.opens++;
            this.#doorCount(ev.door.name).opens++;
            log.emit("open", `${this.#who(ev.src)}: ${ev.door.name}: OPEN SESAME`, "LV", {
              door: ev.door.name,
              src: ev.src,
            });
            this.#openDoor(door, ev.src, ev.family);
          };
          if (this.#singleUse !== undefined && this.#oneTime[ev.doorIndex] !== undefined) {
            this.#claimThen(door.name, formatSequence(door.sequence), ev.src, open);
          } else open();
          this.#rotate(ev.doorIndex);
          break;
        }
      }
    }
  }

  /**
   * A secret door's derived sequence completed: open once, refuse a replay (docs/SECRET-SEQUENCES.md
   * §5). The mark is on disk before the command starts.
   */
  #secretOpen(index: number, src: string, family: 4 | 6): void {
    const log = this.#opts.log;
    const r = this.#secrets.spend(index);
    if (r === undefined) return;
    const name = r.door.name;
    if (r.kind === "error") {
      log.emit("secret-state", r.message, "LE", { door: name, src });
      return;
    }
    if (r.kind === "replay") {
      log.emit(
        "replay",
        `${this.#who(src)}: ${name}: replayed sequence refused (step ${r.step}, slot ${r.slot})`,
        "LV",
        { door: name, src },
      );
      return;
    }
    const open = () => {
      this.counters.opens++;
      this.#doorCount(name).opens++;
      log.emit("open", `${this.#who(src)}: ${name}: OPEN SESAME`, "LV", { door: name, src });
      this.#openDoor(r.door, src, family);
    };
    if (this.#singleUse !== undefined) this.#claimThen(name, r.mark, src, open);
    else open();
  }

  /**
   * Cluster mode (docs/CLUSTER.md, "Single use"): claims `mark` fleet-wide, then opens, off the
   * packet path (the matcher goes on meanwhile). Another node's claim refuses the open; an
   * unreachable cluster lets it through (a knock never fails because the cluster is down).
   */
  #claimThen(door: string, mark: string, src: string, open: () => void): void {
    const claim = this.#singleUse!;
    void claim(door, mark).then((r) => {
      if (r !== "used") return open();
      this.#opts.log.emit(
        "replay",
        `${this.#who(src)}: ${door}: sequence already used on another node: refused`,
        "LV",
        { door, src },
      );
    });
  }

  /**
   * Sets the fleet-wide single-use claim (cluster mode), or removes it.
   *
   * @param claim Claims a mark for a door: `claimed`, `used` or `unreachable`.
   */
  setSingleUse(claim: SingleUseClaim | undefined): void {
    this.#singleUse = claim;
  }

  /** Runs a door's start command, or grants through nftables sets (docs/GRANTS.md). */
  #openDoor(door: Door, src: string, family: 4 | 6): void {
    const grants = this.#opts.grants;
    if (grants !== undefined && this.grantMode) {
      grants.open(door, src, family);
    } else {
      void this.#opts.actions.open(door, src, family, this.#opts.lookup?.cached(src));
    }
  }

  /** One-time rotation after an open (docs/COMPATIBILITY.md §5), with B2 and B3 fixed. */
  #rotate(index: number): void {
    const ots = this.#oneTime[index];
    const door = this.#doors[index];
    if (ots === undefined || door === null || door === undefined) return;
    const r = ots.consume();
    if (r.next !== null) {
      this.#doors[index] = { ...door, sequence: r.next };
      this.#matcher.setSequence(index, r.next);
      this.#opts.log.emit(
        "debug",
        `new sequence for door ${door.name}: ${formatSequence(r.next)}`,
        "D",
      );
    } else {
      this.#doors[index] = null;
      this.#matcher.setSequence(index, null);
      ots.close();
      this.#oneTime[index] = undefined;
      const msg = (r.message ?? noMoreSequencesText(door.name)).replace(/\n+$/, "");
      this.#opts.log.emit("one-time", msg + "\n", "LE", { door: door.name, warning: true });
      // knockd's line stays as it is; why the file could not be updated follows it.
      if (r.cause !== undefined) {
        this.#opts.log.emit("one-time-error", r.cause, "LE", { door: door.name, warning: true });
      }
    }
    this.#source?.refilter();
  }

  /**
   * SIGHUP: re-reads the config. On error the old config keeps running and the error is logged;
   * on success the doors are replaced (attempts in progress are dropped, as knockd documents),
   * the log file is reopened and the capture filter rebuilt.
   *
   * @returns True when the new config is in use.
   */
  reload(): boolean {
    const log = this.#opts.log;
    log.emit("reload", `re-reading config file: ${this.#opts.configPath}\n`, "LV");
    const r = this.#opts.reloadConfig();
    let ok = false;
    if (!r.ok) {
      log.emit("reload-error", r.error.knockdText, "LE");
      // knockd's text may name only the section; knocktool's names the line and the value.
      if (r.error.message !== r.error.knockdText) log.emit("reload-error", r.error.message, "LE");
      log.emit(
        "reload-error",
        `Cannot reload ${JSON.stringify(this.#opts.configPath)}: keeping the running configuration`,
        "LE",
      );
    } else {
      const setup = this.#setup(r.config);
      if ("error" in setup) {
        log.emit("reload-error", setup.error.knockdText, "LE");
        log.emit(
          "reload-error",
          `Cannot reload ${
            JSON.stringify(this.#opts.configPath)
          }: keeping the running configuration`,
          "LE",
        );
      } else {
        for (const o of this.#oneTime) o?.close();
        this.#config = r.config;
        this.#doors = setup.doors;
        this.#oneTime = setup.oneTime;
        this.#matcherBase = this.matcherStats;
        this.#repeatsBefore += this.#matcher.repeatsIgnored;
        this.#secrets = setup.secrets;
        this.#matcher = this.#newMatcher(setup.doors);
        void this.refreshSecrets().then(() => this.#scheduleStep());
        this.#opts.onReload?.(r.config);
        ok = true;
      }
    }
    this.#opts.reopenLog?.(this.#config);
    this.#source?.refilter();
    this.#schedule();
    return ok;
  }

  /** Stops the timer and closes the one-time files. */
  close(): void {
    this.#stopped = true;
    this.#clearTimer();
    this.#clearStepTimer();
    for (const o of this.#oneTime) o?.close();
    this.#oneTime = [];
  }
}
