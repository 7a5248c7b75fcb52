/**
 * Door actions (reference §6): the start command when a sequence completes, the stop command
 * `Cmd_Timeout` seconds later, and the pending stop commands at shutdown.
 *
 * Differences from knockd, all deliberate:
 * - Commands run through `Deno.Command("/bin/sh", ["-c", cmd])` from the daemon (no fork of the
 *   daemon itself): Deno's own fds are close-on-exec, so a command inherits only stdin, stdout and
 *   stderr (B17 fixed). Every child is awaited, so none is left a zombie (B5 cannot happen).
 * - The stop command waits on a timer, not in a sleeping child; on shutdown every pending stop
 *   command runs at once and is awaited (B18 fixed).
 * - A negative `Cmd_Timeout` means the stop command never runs (knockd sleeps "forever"); a
 *   warning says so.
 * - A present but empty `Stop_Command_6` (or `Stop_Command`) runs `/bin/sh -c ""` after the
 *   timeout, and logs `DOOR: running command: ` as knockd does with `system("")`.
 *
 * @module
 */
import type { Door } from "../config/model.ts";
import type { Family } from "../wire/packet.ts";
import type { ServerLog } from "./log.ts";
import { shellArgs } from "../config/bytes.ts";

/** Outcome of one command. */
export interface CommandResult {
  /** Exit status as knockd reports it (`WEXITSTATUS`: 0 when the shell was killed by a signal). */
  readonly code: number;
  /** The shell was killed by a signal. */
  readonly signaled: boolean;
}

/** Runs shell commands: the real `/bin/sh`, or a recorder for `--dry-run` and tests. */
export interface CommandRunner {
  /**
   * Runs one command line and waits for it.
   *
   * @throws {Error} When the shell cannot be started (logged as knockd's `command fork failed`).
   */
  run(command: string): Promise<CommandResult>;
}

/**
 * Runs commands with `/bin/sh -c`, stdin/stdout/stderr inherited from knocktool.
 *
 * @example
 * ```ts
 * import { ShellRunner } from "./actions.ts";
 * const r = await new ShellRunner().run("exit 3");
 * if (r.code !== 3) throw new Error("wrong status");
 * ```
 */
export class ShellRunner implements CommandRunner {
  readonly #cwd: string | undefined;

  /**
   * Makes the runner.
   *
   * @param opts `cwd`: working directory of the commands (knockd's is `/` under `-d`).
   */
  constructor(opts: { readonly cwd?: string } = {}) {
    this.#cwd = opts.cwd;
  }

  /** Runs `/bin/sh -c command`. */
  async run(command: string): Promise<CommandResult> {
    const child = new Deno.Command("/bin/sh", {
      // Bytes that are not UTF-8 cannot travel in argv as text; shellArgs rebuilds them (B-compat
      // with knockd, whose system() passes the config's bytes untouched).
      args: shellArgs(command),
      ...(this.#cwd !== undefined ? { cwd: this.#cwd } : {}),
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    const status = await child.status;
    if (status.signal !== null) return { code: 0, signaled: true };
    return { code: status.code, signaled: false };
  }
}

/**
 * Records commands instead of running them (`--dry-run`): each one is reported through `onRun`
 * (knocktool prints `would run: CMD`) and "succeeds".
 *
 * @example
 * ```ts
 * import { RecordingRunner } from "./actions.ts";
 * const r = new RecordingRunner();
 * await r.run("echo hi");
 * if (r.commands[0] !== "echo hi") throw new Error("not recorded");
 * ```
 */
export class RecordingRunner implements CommandRunner {
  /** Every command run so far, in order. */
  readonly commands: string[] = [];
  readonly #onRun: ((command: string) => void) | undefined;
  readonly #result: (command: string) => CommandResult;

  /**
   * Makes a recorder.
   *
   * @param onRun Called with each command (e.g. to print `would run: ...`).
   * @param result The result to report (default: exit status 0).
   */
  constructor(
    onRun?: (command: string) => void,
    result: (command: string) => CommandResult = () => ({ code: 0, signaled: false }),
  ) {
    this.#onRun = onRun;
    this.#result = result;
  }

  /** Records the command. */
  run(command: string): Promise<CommandResult> {
    this.commands.push(command);
    this.#onRun?.(command);
    return Promise.resolve(this.#result(command));
  }
}

/** A timer source (injectable so that tests need not sleep). */
export interface Timers {
  /** Calls `fn` after `ms` milliseconds; returns a handle for {@link Timers.clear}. */
  set(fn: () => void, ms: number): unknown;
  /** Cancels a timer. */
  clear(id: unknown): void;
}

/** The real timers. */
export const realTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
};

/** knockd's command buffers are PATH_MAX (4096) bytes: an expansion of 4096 or more is refused. */
export const COMMAND_MAX = 4096;

/**
 * Replaces every `%IP%` (case-sensitive, knockd's only token) with the source address.
 *
 * @param command The configured command.
 * @param ip The knocker's address.
 * @returns The expanded command.
 *
 * @example
 * ```ts
 * import { expandCommand } from "./actions.ts";
 * if (expandCommand("a %IP% b %IP% %ip%", "1.2.3.4") !== "a 1.2.3.4 b 1.2.3.4 %ip%") throw new Error();
 * ```
 */
export function expandCommand(command: string, ip: string): string {
  return command.split("%IP%").join(ip);
}

/**
 * Picks the commands for a knocker (reference §2.3, §6): for IPv6 the `*_6` command, falling
 * back to the IPv4 one only when the `*_6` key is absent. `start` is undefined when nothing must
 * run (absent or empty); `stop` is undefined only when absent (an empty stop command "runs").
 *
 * @param door The door.
 * @param family The attempt's IP version.
 * @returns The chosen start and stop commands, unexpanded.
 *
 * @example
 * ```ts
 * import { chooseCommands } from "./actions.ts";
 * const door = { startCommand: "open", startCommand6: "", stopCommand: "close" };
 * if (chooseCommands(door, 6).start !== undefined) throw new Error("v6 must run nothing");
 * if (chooseCommands(door, 4).stop !== "close") throw new Error("v4 stop");
 * ```
 */
export function chooseCommands(
  door: Pick<Door, "startCommand" | "startCommand6" | "stopCommand" | "stopCommand6">,
  family: Family,
): { start?: string; stop?: string } {
  const start = family === 6 ? door.startCommand6 ?? door.startCommand : door.startCommand;
  const stop = family === 6 ? door.stopCommand6 ?? door.stopCommand : door.stopCommand;
  if (start === undefined || start === "") return {};
  return stop === undefined ? { start } : { start, stop };
}

/** Options of {@link DoorActions}. */
export interface DoorActionsOptions {
  /** Runs the commands. */
  readonly runner: CommandRunner;
  /** Where knockd's messages go. */
  readonly log: ServerLog;
  /** Timer source (default: real timers). */
  readonly timers?: Timers;
}

interface PendingStop {
  timer: unknown;
  fire: () => void;
}

/**
 * Runs door commands as knockd does and keeps track of every pending stop command.
 *
 * @example
 * ```ts
 * import { DoorActions, RecordingRunner } from "./actions.ts";
 * import { ServerLog } from "./log.ts";
 * const runner = new RecordingRunner();
 * const actions = new DoorActions({ runner, log: new ServerLog() });
 * const door = { name: "A", cmdTimeout: 10, startCommand: "open %IP%", stopCommand: "close %IP%" };
 * const done = actions.open(door, "192.0.2.1", 4);
 * await actions.shutdown(); // runs the pending stop command now
 * await done;
 * if (runner.commands.join(";") !== "open 192.0.2.1;close 192.0.2.1") throw new Error();
 * ```
 */
export class DoorActions {
  readonly #runner: CommandRunner;
  readonly #log: ServerLog;
  readonly #timers: Timers;
  readonly #tasks = new Set<Promise<void>>();
  readonly #pending = new Set<PendingStop>();
  #shuttingDown = false;

  /**
   * Makes the action runner.
   *
   * @param opts Options.
   */
  constructor(opts: DoorActionsOptions) {
    this.#runner = opts.runner;
    this.#log = opts.log;
    this.#timers = opts.timers ?? realTimers;
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
    if (start.length >= COMMAND_MAX) {
      this.#log.emit(
        "command-error",
        "error: parsed start command has been truncated! --> won't execute it",
        "LE",
        fields,
      );
      return;
    }
    if (stop !== undefined && stop.length >= COMMAND_MAX) {
      this.#log.emit(
        "command-error",
        "error: parsed stop command has been truncated! --> won't execute start command",
        "LE",
        fields,
      );
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
    await this.#waitStop(door.cmdTimeout * 1000);
    const who = host === undefined ? src : `${src} (${host})`;
    this.#log.emit("command-timeout", `${who}: ${door.name}: command timeout`, "LV", fields);
    await this.#exec(door.name, stop, fields);
  }

  #waitStop(ms: number): Promise<void> {
    if (this.#shuttingDown) return Promise.resolve();
    return new Promise((resolve) => {
      const entry: PendingStop = {
        timer: undefined,
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

  async #exec(doorName: string, command: string, fields: EventFields): Promise<void> {
    // knockd: logprint("%s: running command: %s\n") — the B11 trailing newline included.
    this.#log.emit("command", `${doorName}: running command: ${command}\n`, "LV", fields);
    let result: CommandResult;
    try {
      result = await this.#runner.run(command);
    } catch {
      this.#log.emit("command-error", "error: command fork failed!", "LE", fields);
      return;
    }
    if (result.signaled || result.code !== 0) {
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
   * start commands still running run right after them, and everything is awaited.
   */
  async shutdown(): Promise<void> {
    this.#shuttingDown = true;
    while (this.#tasks.size > 0) {
      for (const p of [...this.#pending]) p.fire();
      await Promise.race([...this.#tasks]);
    }
  }

  /** Waits until every action in flight is done (stop timers included). */
  async idle(): Promise<void> {
    while (this.#tasks.size > 0) await Promise.all([...this.#tasks]);
  }
}

type EventFields = { readonly door?: string; readonly src?: string };
