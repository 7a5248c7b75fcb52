/**
 * Door actions (docs/COMPATIBILITY.md §6): the start command when a sequence completes, the stop
 * command `Cmd_Timeout` seconds later, and the pending stop commands at shutdown.
 *
 * Differences from knockd, all deliberate:
 * - Commands run as `/bin/sh -c cmd`, started by `posix_spawn` (command_runner.ts,
 *   spawn_runner.ts; `Deno.Command` where libc's spawn cannot be used), each in its own session
 *   (`setsid()`, as knockd): Deno's own fds are close-on-exec, so a command inherits only stdin, stdout and stderr (docs/COMPATIBILITY.md B17,
 *   fixed) — knocktool's in the foreground, `/dev/null` under `-d`. Every child is awaited, so none
 *   is left a zombie (docs/COMPATIBILITY.md B5 cannot happen: there is no SIGCHLD handler).
 * - The stop command waits on a timer, not in a sleeping child; on shutdown every pending stop
 *   command runs at once and is awaited (docs/COMPATIBILITY.md B18, fixed), for at most
 *   {@link SHUTDOWN_WAIT_MS} (30 s); what still runs then is logged and abandoned.
 * - At most {@link MAX_RUNNING_COMMANDS} (16) commands run at once; more wait in a FIFO queue,
 *   in order. A start command that finds {@link MAX_QUEUED_STARTS} (4096) commands queued is
 *   skipped (its stop command with it), so a spoofed flood of opens of a one-knock door costs
 *   bounded memory and seconds, not minutes, of backlog; stop commands are never skipped. At most
 *   {@link MAX_PENDING_STOPS} (1024) stop commands wait for their timer; at that cap the oldest
 *   pending stop command runs at once, early. The caps log a warning to the log file and stderr
 *   (at most one a minute each) and are counted in {@link DoorActions.counters}.
 * - Timeouts longer than a `setTimeout` can hold (2^31-1 ms, ~24.8 days) are waited in steps
 *   (timers.ts).
 * - A negative `Cmd_Timeout` means the stop command never runs (knockd sleeps "forever"); a
 *   warning says so.
 * - A present but empty `Stop_Command_6` (or `Stop_Command`) runs `/bin/sh -c ""` after the
 *   timeout, and logs `DOOR: running command: ` as knockd does with `system("")`.
 *
 * Beside it: the runners (command_runner.ts), the timer sources (timers.ts), and choosing and
 * expanding a door's commands (door_commands.ts). Over 400 lines because start commands, stop
 * timers, the running cap and shutdown share one queue and one set of counters.
 *
 * @module
 */
import type { Door } from "../config/model.ts";
import type { Family } from "../wire/packet.ts";
import type { ServerLog } from "./log.ts";
import { encodeRawText } from "../util/bytes.ts";
import { errnoText } from "../util/errno.ts";
import type { CommandResult, CommandRunner } from "./command_runner.ts";
import { realTimers, type Timers } from "./timers.ts";
import { chooseCommands, COMMAND_MAX, expandCommand } from "./door_commands.ts";

// What actions.ts exported before these moved out (src/cli, bench/ and tests import them here).
export {
  type CommandResult,
  type CommandRunner,
  RecordingRunner,
  ShellRunner,
} from "./command_runner.ts";
export { longTimers, MAX_TIMER_MS, realTimers, type Timers } from "./timers.ts";
export { chooseCommands, COMMAND_MAX, expandCommand } from "./door_commands.ts";

/** Commands (start and stop) running at once by default; more wait in a FIFO queue. */
export const MAX_RUNNING_COMMANDS = 16;

/** Commands queued by default beyond which a new start command is skipped (with a warning). */
export const MAX_QUEUED_STARTS = 4096;

/** Stop commands waiting for their timer by default; at the cap the oldest one runs early. */
export const MAX_PENDING_STOPS = 1024;

/** How long shutdown waits by default for the commands it started or awaits (30 s). */
export const SHUTDOWN_WAIT_MS = 30_000;

/** Cap warnings are logged at most once per this many ms (per cap). */
const CAP_WARNING_INTERVAL_MS = 60_000;

/** Options of {@link DoorActions}. */
export interface DoorActionsOptions {
  /** Runs the commands. */
  readonly runner: CommandRunner;
  /** Where knockd's messages go. */
  readonly log: ServerLog;
  /** Timer source (default: real timers). */
  readonly timers?: Timers;
  /** Commands running at once (default {@link MAX_RUNNING_COMMANDS}); more are queued, FIFO. */
  readonly maxRunning?: number;
  /** Stop commands waiting for their timer (default {@link MAX_PENDING_STOPS}). */
  readonly maxPendingStops?: number;
  /** Queued commands beyond which a start command is skipped (default {@link MAX_QUEUED_STARTS}). */
  readonly maxQueuedStarts?: number;
  /** How long {@link DoorActions.shutdown} waits (default {@link SHUTDOWN_WAIT_MS}). */
  readonly shutdownWaitMs?: number;
}

/** Counters of {@link DoorActions}' caps. */
export interface ActionCounters {
  /** Commands that had to wait in the queue because the running cap was reached. */
  queued: number;
  /** Most commands waiting in the queue at once. */
  maxQueued: number;
  /** Stop commands run before their timeout because the pending-stop cap was reached. */
  earlyStops: number;
  /** Start commands skipped because the queue was full ({@link MAX_QUEUED_STARTS}). */
  skippedStarts: number;
  /** Commands still running (or queued) when shutdown stopped waiting. */
  abandoned: number;
}

interface PendingStop {
  timer: unknown;
  fire: () => void;
  readonly fields: EventFields;
  /** When the timer started and when it fires (ms since the epoch), for status. */
  readonly since: number;
  readonly due: number;
}

/** A stop command waiting for its timer (what `knocktool status` lists for a knockd config). */
export interface PendingStopInfo {
  /** Door name. */
  readonly door: string;
  /** The knocker's address. */
  readonly src: string;
  /** When the timer started (ms since the epoch). */
  readonly since: number;
  /** When it fires (ms since the epoch). */
  readonly due: number;
}

interface Running {
  readonly doorName: string;
  readonly command: string;
  readonly fields: EventFields;
}

/**
 * Runs door commands as knockd does and keeps track of every pending stop command.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DoorActions, RecordingRunner } from "./actions.ts";
 * import { ServerLog } from "./log.ts";
 * const runner = new RecordingRunner();
 * const actions = new DoorActions({ runner, log: new ServerLog() });
 * const door = { name: "A", cmdTimeout: 10, startCommand: "open %IP%", stopCommand: "close %IP%" };
 * const done = actions.open(door, "192.0.2.1", 4);
 * await actions.shutdown(); // runs the pending stop command now
 * await done;
 * assert.equal(runner.commands.join(";"), "open 192.0.2.1;close 192.0.2.1");
 * ```
 */
export class DoorActions {
  readonly #runner: CommandRunner;
  readonly #log: ServerLog;
  readonly #timers: Timers;
  readonly #tasks = new Set<Promise<void>>();
  readonly #pending = new Set<PendingStop>();
  readonly #maxRunning: number;
  readonly #maxPending: number;
  readonly #maxQueuedStarts: number;
  readonly #shutdownWaitMs: number;
  /** Slots in use (commands running, or handed to a queued command about to run). */
  #slots = 0;
  readonly #queue: (() => void)[] = [];
  readonly #running = new Set<Running>();
  #shuttingDown = false;
  #lastQueueWarning = -Infinity;
  #lastStopWarning = -Infinity;
  #lastSkipWarning = -Infinity;
  /** Counters of the caps. */
  readonly counters: ActionCounters = {
    queued: 0,
    maxQueued: 0,
    earlyStops: 0,
    skippedStarts: 0,
    abandoned: 0,
  };
  /** Commands started and commands that failed (could not start, non-zero status, signal). */
  readonly outcomes: { run: number; failed: number } = { run: 0, failed: 0 };

  /**
   * Makes the action runner.
   *
   * @param opts Options.
   */
  constructor(opts: DoorActionsOptions) {
    this.#runner = opts.runner;
    this.#log = opts.log;
    this.#timers = opts.timers ?? realTimers;
    this.#maxRunning = Math.max(1, opts.maxRunning ?? MAX_RUNNING_COMMANDS);
    this.#maxPending = Math.max(1, opts.maxPendingStops ?? MAX_PENDING_STOPS);
    this.#maxQueuedStarts = Math.max(0, opts.maxQueuedStarts ?? MAX_QUEUED_STARTS);
    this.#shutdownWaitMs = opts.shutdownWaitMs ?? SHUTDOWN_WAIT_MS;
  }

  /** Number of commands waiting in the queue for a free slot. */
  get queuedCommands(): number {
    return this.#queue.length;
  }

  /** Number of stop commands waiting for their timer. */
  get pendingStops(): number {
    return this.#pending.size;
  }

  /** Number of open actions not finished yet (start running, stop pending or running). */
  get inFlight(): number {
    return this.#tasks.size;
  }

  /**
   * Runs the door's start command for `src` (if any), then schedules its stop command. The
   * caller need not await the result: the actions keep track of it until {@link shutdown}.
   *
   * @param door The opened door.
   * @param src The knocker's address (what `%IP%` becomes).
   * @param family The attempt's IP version (selects the `*_6` commands).
   * @param host The knocker's host name when `-l` resolved it (log lines only).
   * @returns Resolves when the start and stop commands are both done.
   */
  open(
    door: Pick<
      Door,
      "name" | "cmdTimeout" | "startCommand" | "startCommand6" | "stopCommand" | "stopCommand6"
    >,
    src: string,
    family: Family,
    host?: string,
  ): Promise<void> {
    const task = this.#open(door, src, family, host).catch((e) => {
      this.#log.emit("internal", `error: ${e instanceof Error ? e.message : String(e)}`, "E");
    });
    this.#tasks.add(task);
    task.finally(() => this.#tasks.delete(task));
    return task;
  }

  async #open(
    door: Pick<
      Door,
      "name" | "cmdTimeout" | "startCommand" | "startCommand6" | "stopCommand" | "stopCommand6"
    >,
    src: string,
    family: Family,
    host: string | undefined,
  ): Promise<void> {
    const chosen = chooseCommands(door, family);
    if (chosen.start === undefined) return;
    const start = expandCommand(chosen.start, src);
    const stop = chosen.stop === undefined ? undefined : expandCommand(chosen.stop, src);
    const fields = { door: door.name, src };
    if (encodeRawText(start).length >= COMMAND_MAX) {
      this.#log.emit(
        "command-error",
        "error: parsed start command has been truncated! --> won't execute it",
        "LE",
        fields,
      );
      return;
    }
    if (stop !== undefined && encodeRawText(stop).length >= COMMAND_MAX) {
      this.#log.emit(
        "command-error",
        "error: parsed stop command has been truncated! --> won't execute start command",
        "LE",
        fields,
      );
      return;
    }
    if (this.#slots >= this.#maxRunning && this.#queue.length >= this.#maxQueuedStarts) {
      this.counters.skippedStarts++;
      if (this.#warnDue("skip")) {
        this.#log.emit(
          "command-warning",
          `Skip the command of door "${door.name}" for ${src}: ${this.#queue.length} commands are queued (the limit)`,
          "LE",
          { ...fields, warning: true },
        );
      }
      return;
    }
    await this.#exec(door.name, start, fields);
    if (stop === undefined) return;
    if (door.cmdTimeout < 0) {
      this.#log.emit(
        "command-warning",
        `Skip the stop command of door "${door.name}" for ${src}: cmd_timeout "${door.cmdTimeout}" is negative`,
        "E",
        { ...fields, warning: true },
      );
      return;
    }
    await this.#waitStop(door.cmdTimeout * 1000, fields);
    const who = host === undefined ? src : `${src} (${host})`;
    this.#log.emit("command-timeout", `${who}: ${door.name}: command timeout`, "LV", fields);
    await this.#exec(door.name, stop, fields);
  }

  /**
   * Runs one expanded command for a door (the grant keeper's start and stop commands, see
   * `grant_keeper.ts`), through the same running cap and queue, tracked until {@link shutdown}.
   *
   * @param doorName The door (log lines).
   * @param command The expanded command.
   * @param src The knocker's address (log fields).
   * @returns Resolves when it has run.
   */
  run(doorName: string, command: string, src: string): Promise<void> {
    const task = this.#exec(doorName, command, { door: doorName, src });
    this.#tasks.add(task);
    task.finally(() => this.#tasks.delete(task));
    return task;
  }

  #waitStop(ms: number, fields: EventFields): Promise<void> {
    if (this.#shuttingDown) return Promise.resolve();
    if (this.#pending.size >= this.#maxPending) {
      // The cap: the oldest pending stop command runs now (closing early is the safe side).
      const oldest = this.#pending.values().next().value;
      if (oldest !== undefined) {
        this.counters.earlyStops++;
        if (this.#warnDue("stop")) {
          this.#log.emit(
            "command-warning",
            `Run the stop command of door "${oldest.fields.door}" for ${oldest.fields.src} early: ${this.#maxPending} stop commands are pending (the limit)`,
            "LE",
            { ...oldest.fields, warning: true },
          );
        }
        oldest.fire();
      }
    }
    return new Promise((resolve) => {
      const now = Date.now();
      const entry: PendingStop = {
        timer: undefined,
        fields,
        since: now,
        due: now + ms,
        fire: () => {
          if (entry.timer !== undefined) this.#timers.clear(entry.timer);
          entry.timer = undefined;
          this.#pending.delete(entry);
          resolve();
        },
      };
      this.#pending.add(entry);
      entry.timer = this.#timers.set(entry.fire, ms);
    });
  }

  /** The stop commands waiting for their timer, oldest first. */
  pendingStopList(): PendingStopInfo[] {
    return [...this.#pending].map((p) => ({
      door: p.fields.door ?? "",
      src: p.fields.src ?? "",
      since: p.since,
      due: p.due,
    }));
  }

  /**
   * Runs the pending stop commands of an address now (`knocktool revoke` on a knockd config).
   *
   * @param src The address.
   * @param door Only this door's.
   * @returns The stop commands started, as they were listed.
   */
  firePendingStops(src: string, door?: string): PendingStopInfo[] {
    const fired: PendingStopInfo[] = [];
    for (const p of [...this.#pending]) {
      if (p.fields.src !== src || (door !== undefined && p.fields.door !== door)) continue;
      fired.push({ door: p.fields.door ?? "", src, since: p.since, due: p.due });
      p.fire();
    }
    return fired;
  }

  #warnDue(which: "queue" | "stop" | "skip"): boolean {
    const now = Date.now();
    const last = which === "queue"
      ? this.#lastQueueWarning
      : which === "stop"
      ? this.#lastStopWarning
      : this.#lastSkipWarning;
    if (now - last < CAP_WARNING_INTERVAL_MS) return false;
    if (which === "queue") this.#lastQueueWarning = now;
    else if (which === "stop") this.#lastStopWarning = now;
    else this.#lastSkipWarning = now;
    return true;
  }

  /** Takes a free command slot at once, if there is one and nobody is queued before us. */
  #tryAcquire(): boolean {
    if (this.#slots < this.#maxRunning && this.#queue.length === 0) {
      this.#slots++;
      return true;
    }
    return false;
  }

  /** Waits in the FIFO queue for a command slot (handed over by {@link #release}). */
  async #waitSlot(doorName: string, fields: EventFields): Promise<void> {
    this.counters.queued++;
    if (this.#warnDue("queue")) {
      this.#log.emit(
        "command-warning",
        `Queue the command of door "${doorName}" for ${fields.src}: ${this.#maxRunning} commands are running (the limit)`,
        "LE",
        { ...fields, warning: true },
      );
    }
    await new Promise<void>((resolve) => {
      this.#queue.push(resolve);
      this.counters.maxQueued = Math.max(this.counters.maxQueued, this.#queue.length);
    });
  }

  /** Frees a slot: hands it to the first queued command, if any. */
  #release(): void {
    const next = this.#queue.shift();
    if (next !== undefined) next();
    else this.#slots--;
  }

  async #exec(doorName: string, command: string, fields: EventFields): Promise<void> {
    // No await on the fast path: the command starts in the same turn as the packet that opened
    // the door, so log lines keep knockd's order.
    if (!this.#tryAcquire()) await this.#waitSlot(doorName, fields);
    const entry: Running = { doorName, command, fields };
    this.#running.add(entry);
    try {
      await this.#execNow(doorName, command, fields);
    } finally {
      this.#running.delete(entry);
      this.#release();
    }
  }

  async #execNow(doorName: string, command: string, fields: EventFields): Promise<void> {
    // knockd: logprint("%s: running command: %s\n") — the trailing newline of docs/COMPATIBILITY.md
    // B11 included.
    this.#log.emit("command", `${doorName}: running command: ${command}\n`, "LV", fields);
    this.outcomes.run++;
    let result: CommandResult;
    try {
      result = await this.#runner.run(command);
    } catch (e) {
      // The runner throws only when the shell could not be started (CommandRunner.run). knockd's
      // line stays as it is; why follows it.
      this.outcomes.failed++;
      this.#log.emit("command-error", "error: command fork failed!", "LE", fields);
      this.#log.emit(
        "command-error",
        `Cannot start the command of door ${JSON.stringify(doorName)} for ${fields.src}: ${
          errnoText(e)
        }`,
        "LE",
        fields,
      );
      return;
    }
    if (result.signaled || result.code !== 0) {
      this.outcomes.failed++;
      this.#log.emit(
        "command-status",
        `${doorName}: command returned non-zero status code (${result.signaled ? 0 : result.code})`,
        "LE",
        fields,
      );
    }
  }

  /**
   * Shutdown: every pending stop command runs now (its timer is cancelled), stop commands of
   * start commands still running run right after them, and everything is awaited — for at most
   * the shutdown wait ({@link SHUTDOWN_WAIT_MS}, 30 s, by default), or until `force` aborts
   * (knocktool: a second SIGTERM/SIGINT). The pending stop commands have been started (or queued
   * behind the running cap) before `force` is looked at. Then each command still running is
   * logged (`Stop waiting for the command of door "D" for IP: still running after N ms: CMD`)
   * and abandoned, with the number of commands still queued; they are counted in
   * `counters.abandoned`. Abandoned commands keep running in their own session.
   *
   * @param force Aborting it ends the wait at once.
   */
  async shutdown(force?: AbortSignal): Promise<void> {
    this.#shuttingDown = true;
    const started = Date.now();
    let timer: unknown;
    let onAbort: (() => void) | undefined;
    const limit = new Promise<"limit">((resolve) => {
      timer = this.#timers.set(() => resolve("limit"), this.#shutdownWaitMs);
      onAbort = () => resolve("limit");
      force?.addEventListener("abort", onAbort, { once: true });
    });
    try {
      while (this.#tasks.size > 0) {
        for (const p of [...this.#pending]) p.fire();
        if (force?.aborted) {
          // Let the fired stop commands reach their shell (or the queue) before giving up.
          await new Promise((r) => setTimeout(r, 0));
          break;
        }
        const r = await Promise.race([Promise.race([...this.#tasks]), limit]);
        if (r === "limit") break;
      }
    } finally {
      this.#timers.clear(timer);
      if (onAbort !== undefined) force?.removeEventListener("abort", onAbort);
    }
    if (this.#tasks.size === 0) return;
    const waited = Date.now() - started;
    for (const r of this.#running) {
      this.#log.emit(
        "command-abandoned",
        `Stop waiting for the command of door "${r.doorName}" for ${r.fields.src}: still running after ${waited} ms: ${r.command}`,
        "LE",
        { ...r.fields, warning: true },
      );
    }
    if (this.#queue.length > 0) {
      this.#log.emit(
        "command-abandoned",
        `Skip ${this.#queue.length} queued commands: shutdown stopped waiting after ${waited} ms`,
        "LE",
        { warning: true },
      );
    }
    this.counters.abandoned += this.#running.size + this.#queue.length;
  }

  /** Waits until every action in flight is done (stop timers included). */
  async idle(): Promise<void> {
    while (this.#tasks.size > 0) await Promise.all([...this.#tasks]);
  }
}

type EventFields = { readonly door?: string; readonly src?: string };
