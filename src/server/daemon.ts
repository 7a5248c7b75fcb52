/**
 * The server's core: frames in, knockd's log lines and door actions out.
 *
 * config → matcher (+ one-time sequences) → frames from a {@link FrameSource} (live capture, a
 * pcap file, or an array in tests) → `decodeFrame` → `Matcher.handle` → events → log lines and
 * `DoorActions`. A timer driven by `Matcher.nextDeadline()` logs sequence timeouts on an
 * idle link (live sources only: a replayed file has its own clock).
 *
 * Fixed knockd defects: a one-time file running out disables the door and the daemon keeps running
 * (docs/COMPATIBILITY.md B2); the whole filter is rebuilt after a rotation (B3); reload parses the
 * new config first and keeps the old one on error (B9); `-l` lookups never block the capture loop
 * (B21). Kept as documented: a reload drops the attempts in progress.
 *
 * This class keeps the state, the packet path, the timeout timer and the lifecycle (start,
 * reload, stop). What happens on an open lives beside it and works on that state through one
 * `DaemonContext` made at construction (nothing per packet): the doors' setup, matcher, a completed
 * knock's open and one-time rotation (`_daemon_doors.ts`), the grant hooks and the control
 * socket's `grant` and `revoke` (`_daemon_grants.ts`, docs/GRANTS.md), the secret doors' window
 * and opens (`_daemon_secrets.ts`, docs/SECRET-SEQUENCES.md) and the fleet-wide single-use claim
 * (`_daemon_cluster.ts`, docs/CLUSTER.md). Longer than 400 lines because the packet path stays in
 * this one class, reading its private fields directly: a packet no door wants costs no call or
 * allocation beyond `peekAt` and `Matcher.wants` (docs/PERFORMANCE.md, "The fast path").
 *
 * @module
 */
import type { Config, Door } from "../config/model.ts";
import { captureFilters, type LocalAddresses } from "../config/filter.ts";
import type { Matcher } from "../match/matcher.ts";
import type { MatchEvent } from "../match/events.ts";
import { decodeFrame, peekAt, peekFrame } from "../wire/decode.ts";
import { fieldsSourceKey, FrameFields, type SourceKey } from "../wire/fields.ts";
import { MAX_TIMER_MS } from "./timers.ts";
import type { Grant } from "./grants.ts";
import { formatPacketDebugLine } from "./log.ts";
import type { StatusLevel } from "./capture_events.ts";
import type { SecretDoors } from "./secret_doors.ts";
import type { FrameSource, SourceFrame } from "./frame_source.ts";
import {
  type DaemonContext,
  type DaemonCounters,
  type DaemonOptions,
  DaemonSetupError,
  type DoorCounters,
  type MatcherStats,
  type OneTimeLike,
  type SingleUseClaim,
} from "./_daemon_types.ts";
import { knockOpen, newMatcher, setupDoors } from "./_daemon_doors.ts";
import { grantByHand, isGrantMode, revokeByHand } from "./_daemon_grants.ts";
import { SecretSteps } from "./_daemon_secrets.ts";

export type { FrameSource, SourceEvents, SourceFrame } from "./frame_source.ts";
export {
  type DaemonCounters,
  type DaemonOptions,
  DaemonSetupError,
  type DoorCounters,
  type MatcherStats,
  type OneTimeLike,
  type SingleUseClaim,
} from "./_daemon_types.ts";

/**
 * The running server. Feed it frames with {@link Daemon.run} (or {@link Daemon.handleFrame});
 * call {@link Daemon.reload} on SIGHUP; to end, abort the signal given to {@link Daemon.run} and
 * call {@link Daemon.close}.
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
  /** The secret doors' window refreshes and step timer. */
  readonly #steps: SecretSteps;
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
  /** The state the hooks beside this class work on (`_daemon_types.ts`). */
  readonly #ctx: DaemonContext;

  /**
   * Sets up the matcher and the one-time sequences of `opts.config`.
   *
   * @param opts Options.
   * @throws {DaemonSetupError} When a one-time sequences file cannot be opened.
   */
  constructor(opts: DaemonOptions) {
    this.#opts = opts;
    this.#ctx = {
      opts,
      counters: this.counters,
      config: () => this.#config,
      doors: () => this.#doors,
      oneTime: () => this.#oneTime,
      secrets: () => this.#secrets,
      matcher: () => this.#matcher,
      singleUse: () => this.#singleUse,
      running: () => this.#live && !this.#stopped,
      now: () => this.#now(),
      refilter: () => this.#source?.refilter(),
      doorCount: (name) => this.#doorCount(name),
      who: (src) => this.#who(src),
    };
    this.#steps = new SecretSteps(this.#ctx);
    this.#debug = opts.log.debugEnabled;
    this.#config = opts.config;
    this.#addrs = opts.localAddresses;
    const setup = setupDoors(opts.config, opts);
    if ("error" in setup) throw new DaemonSetupError(setup.error.message);
    this.#doors = setup.doors;
    this.#oneTime = setup.oneTime;
    this.#secrets = setup.secrets;
    this.#matcher = newMatcher(opts.config, setup.doors, setup.secrets, this.#addrs, opts);
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
    return isGrantMode(this.#ctx);
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
    return grantByHand(this.#ctx, doorName, address, forSec);
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
    return revokeByHand(this.#ctx, address, doorName);
  }

  /** Repeated knocks ignored since the start (docs/COMPATIBILITY.md "Repeats and retransmissions"). */
  get repeatsIgnored(): number {
    return this.#repeatsBefore + this.#matcher.repeatsIgnored;
  }

  /** Number of attempts the matcher tracks. */
  get attemptCount(): number {
    return this.#matcher.attemptCount;
  }

  /**
   * Moves the secret doors' window to the wall clock (or `nowMs`): derives the sequences of the
   * steps now acceptable, hands them to the matcher and rebuilds the capture filter.
   *
   * @param nowMs The time, ms (default: the daemon's clock).
   */
  refreshSecrets(nowMs: number = this.#now()): Promise<void> {
    return this.#steps.refresh(nowMs);
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
      this.#steps.clear();
    };
    signal.addEventListener("abort", onAbort);
    try {
      await this.refreshSecrets();
      this.#steps.schedule();
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
      this.#steps.clear();
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
        case "open":
          knockOpen(this.#ctx, ev);
          break;
      }
    }
  }

  /**
   * Sets the fleet-wide single-use claim (cluster mode), or removes it.
   *
   * @param claim Claims a mark for a door: `claimed`, `used` or `unreachable`.
   */
  setSingleUse(claim: SingleUseClaim | undefined): void {
    this.#singleUse = claim;
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
      const setup = setupDoors(r.config, this.#opts);
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
        this.#matcher = newMatcher(r.config, setup.doors, setup.secrets, this.#addrs, this.#opts);
        void this.refreshSecrets().then(() => this.#steps.schedule());
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
    this.#steps.clear();
    for (const o of this.#oneTime) o?.close();
    this.#oneTime = [];
  }
}
