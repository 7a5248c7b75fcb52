/**
 * The door command runner `serve` uses on Linux: `/bin/sh -c CMD` started with `posix_spawn`
 * through libc (`ffi/spawn.ts`) instead of `Deno.Command`, which forks the daemon first and so
 * costs more the more memory the daemon has (docs/PERFORMANCE.md: p50 of "last knock → command
 * effect" about 6 → 2 ms).
 *
 * It keeps every guarantee of {@link ShellRunner} (src/server/command_runner.ts): a new session per
 * command, fds 0-2 only (the daemon's other descriptors are close-on-exec, src/server/fds.ts),
 * `/dev/null` stdio and `/` as working directory under `-d`, the command's bytes passed as they
 * are (a non-UTF-8 command reaches the shell byte for byte), and every child reaped: on SIGCHLD,
 * and by a {@link REAP_POLL_MS} timer as a backstop while any child runs, so no zombie is left and
 * no timer or signal listener outlives the last child. The cap on running commands and its FIFO
 * queue stay in `DoorActions`, which awaits {@link SpawnRunner.run} as it awaits any runner.
 *
 * @module
 */
import { type ExitStatus, Spawner } from "../../ffi/spawn.ts";
import { encodeRawText } from "../util/bytes.ts";
import type { CommandResult, CommandRunner } from "./command_runner.ts";

/** While children run, they are also polled this often (SIGCHLD normally reaps them first). */
export const REAP_POLL_MS = 50;

/**
 * Runs `/bin/sh -c CMD` through `posix_spawn`, in a new session.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SpawnRunner } from "./spawn_runner.ts";
 * const runner = SpawnRunner.open();
 * try {
 *   assert.deepEqual(await runner.run("exit 3"), { code: 3, signaled: false });
 * } finally {
 *   runner.close();
 * }
 * ```
 */
export class SpawnRunner implements CommandRunner {
  readonly #spawner: Spawner;
  readonly #cwd: string | undefined;
  readonly #devNull: boolean;
  readonly #children = new Map<number, (status: ExitStatus) => void>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #listening = false;
  readonly #onSignal = (): void => this.#reap();

  private constructor(spawner: Spawner, cwd: string | undefined, devNull: boolean) {
    this.#spawner = spawner;
    this.#cwd = cwd;
    this.#devNull = devNull;
  }

  /**
   * Opens the runner.
   *
   * @param opts `cwd`: working directory of the commands; `stdio`: `"inherit"` (default) or
   *   `"null"` (`-d`: `/dev/null` on fds 0-2), as {@link ShellRunner}'s.
   * @returns The runner; {@link SpawnRunner.close} it when done.
   * @throws {Error} When libc's spawn functions cannot be used (not Linux, no FFI permission, a
   *   libc without `posix_spawn_file_actions_addchdir_np` while `cwd` is asked for).
   */
  static open(
    opts: { readonly cwd?: string; readonly stdio?: "inherit" | "null" } = {},
  ): SpawnRunner {
    const spawner = Spawner.open();
    if (opts.cwd !== undefined && !spawner.canChdir) {
      spawner.close();
      throw new Error(
        "Cannot set a command's working directory: libc has no posix_spawn_file_actions_addchdir_np",
      );
    }
    return new SpawnRunner(spawner, opts.cwd, opts.stdio === "null");
  }

  /** Number of children started and not reaped yet. */
  get running(): number {
    return this.#children.size;
  }

  /** Runs `/bin/sh -c command` and waits for it (throws when the shell cannot be started). */
  run(command: string): Promise<CommandResult> {
    const opts = {
      ...(this.#cwd !== undefined ? { cwd: this.#cwd } : {}),
      devNull: this.#devNull,
    };
    // Listen before spawning: a SIGCHLD that comes before the listener would wait for the timer.
    this.#arm();
    let pid: number;
    try {
      // encodeRawText: the config's bytes, lone surrogates (raw bytes) back to the bytes they were.
      pid = this.#spawner.spawn("/bin/sh", ["sh", "-c", encodeRawText(command)], opts);
    } catch (e) {
      if (this.#children.size === 0) this.#disarm();
      return Promise.reject(e);
    }
    const done = new Promise<ExitStatus>((resolve) => this.#children.set(pid, resolve));
    return done.then((st) =>
      st.signal !== null ? { code: 0, signaled: true } : { code: st.code, signaled: false }
    );
  }

  /**
   * Stops reaping and closes the library. Children still running are not waited for (they keep
   * running in their own sessions, as `DoorActions.shutdown` abandons them); their `run` promises
   * never settle.
   */
  close(): void {
    this.#disarm();
    this.#spawner.close();
  }

  /** Reaps every child that has ended; re-arms or disarms the backstop timer. */
  #reap(): void {
    for (const [pid, resolve] of this.#children) {
      let st: ExitStatus | undefined;
      try {
        st = this.#spawner.tryWait(pid);
      } catch {
        // No longer our child (cannot happen unless someone waits for every pid): report it
        // as a signal death rather than hang its door's slot for ever.
        st = { code: 0, signal: 0 };
      }
      if (st === undefined) continue;
      this.#children.delete(pid);
      resolve(st);
    }
    if (this.#children.size === 0) this.#disarm();
    else this.#armTimer();
  }

  #arm(): void {
    if (!this.#listening) {
      Deno.addSignalListener("SIGCHLD", this.#onSignal);
      this.#listening = true;
    }
    this.#armTimer();
  }

  #armTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#reap();
    }, REAP_POLL_MS);
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#listening) {
      Deno.removeSignalListener("SIGCHLD", this.#onSignal);
      this.#listening = false;
    }
  }
}
