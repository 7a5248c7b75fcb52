/**
 * How door commands run: the {@link CommandRunner} interface `DoorActions` (actions.ts) drives,
 * `ShellRunner` (`/bin/sh -c` through `Deno.Command`, where libc's spawn cannot be used; the
 * `posix_spawn` runner is spawn_runner.ts) and `RecordingRunner` (`--dry-run` and tests).
 *
 * @module
 */
import { shellArgs } from "../util/bytes.ts";

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
 * Runs commands with `/bin/sh -c` in a new session (`setsid()`, as knockd), stdin/stdout/stderr
 * inherited from knocktool, or `/dev/null` (knockd under `-d`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ShellRunner } from "./command_runner.ts";
 * const r = await new ShellRunner().run("exit 3");
 * assert.equal(r.code, 3, "wrong status");
 * ```
 */
export class ShellRunner implements CommandRunner {
  readonly #cwd: string | undefined;
  readonly #stdio: "inherit" | "null";

  /**
   * Makes the runner.
   *
   * @param opts `cwd`: working directory of the commands (knockd's is `/` under `-d`);
   *   `stdio`: `"inherit"` (default, the foreground) or `"null"` (`-d`: `/dev/null`, as knockd's
   *   `daemon()`).
   */
  constructor(opts: { readonly cwd?: string; readonly stdio?: "inherit" | "null" } = {}) {
    this.#cwd = opts.cwd;
    this.#stdio = opts.stdio ?? "inherit";
  }

  /** Runs `/bin/sh -c command`. */
  async run(command: string): Promise<CommandResult> {
    const child = new Deno.Command("/bin/sh", {
      // Bytes that are not UTF-8 cannot travel in argv as text; shellArgs rebuilds them (as
      // knockd, whose system() passes the config's bytes untouched).
      args: shellArgs(command),
      ...(this.#cwd !== undefined ? { cwd: this.#cwd } : {}),
      stdin: this.#stdio,
      stdout: this.#stdio,
      stderr: this.#stdio,
      // setsid() in the child, as knockd: a Ctrl-C to the foreground group spares the commands.
      detached: true,
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
 * import assert from "node:assert/strict";
 * import { RecordingRunner } from "./command_runner.ts";
 * const r = new RecordingRunner();
 * await r.run("echo hi");
 * assert.equal(r.commands[0], "echo hi", "not recorded");
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
