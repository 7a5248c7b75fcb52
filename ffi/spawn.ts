/**
 * `posix_spawn` and `waitpid` through libc FFI: starting a door command without `fork()`ing the
 * daemon. glibc's and musl's `posix_spawn` use `clone(CLONE_VM | CLONE_VFORK)`, so the cost does
 * not grow with the daemon's memory, where a `fork` copies its page tables (measured in
 * docs/PERFORMANCE.md).
 *
 * - The child gets its own session (`POSIX_SPAWN_SETSID`, glibc ≥ 2.26, musl ≥ 1.1.24), an empty
 *   signal mask and every signal at its default disposition (`POSIX_SPAWN_SETSIGMASK`,
 *   `POSIX_SPAWN_SETSIGDEF`): nothing of the daemon's signal set-up leaks into a command.
 * - Descriptors: the child inherits what is not close-on-exec. Deno's own and libpcap's are
 *   (src/server/fds.ts marks the inherited ones at start-up), so a command gets fds 0-2 only;
 *   {@link SpawnOptions.devNull} reopens those three on `/dev/null`.
 * - The environment is libc's `environ`, read at each spawn (what `Deno.env.set` changed included).
 * - Arguments are byte strings: a command that is not UTF-8 reaches the shell byte for byte.
 *
 * Linux only (the flag values are glibc's and musl's); {@link Spawner.open} throws elsewhere and
 * the caller falls back to `Deno.Command`.
 *
 * @module
 */
import { errno, openLibc, strerror } from "./libc.ts";

const SPAWN_SYMBOLS = {
  posix_spawn: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "pointer"],
    result: "i32",
  },
  posix_spawn_file_actions_init: { parameters: ["buffer"], result: "i32" },
  posix_spawn_file_actions_destroy: { parameters: ["buffer"], result: "i32" },
  posix_spawn_file_actions_addopen: {
    parameters: ["buffer", "i32", "buffer", "i32", "u32"],
    result: "i32",
  },
  posix_spawn_file_actions_addchdir_np: {
    parameters: ["buffer", "buffer"],
    result: "i32",
    optional: true,
  },
  posix_spawnattr_init: { parameters: ["buffer"], result: "i32" },
  posix_spawnattr_destroy: { parameters: ["buffer"], result: "i32" },
  posix_spawnattr_setflags: { parameters: ["buffer", "i16"], result: "i32" },
  posix_spawnattr_setsigmask: { parameters: ["buffer", "buffer"], result: "i32" },
  posix_spawnattr_setsigdefault: { parameters: ["buffer", "buffer"], result: "i32" },
  sigemptyset: { parameters: ["buffer"], result: "i32" },
  sigfillset: { parameters: ["buffer"], result: "i32" },
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  dlsym: { parameters: ["pointer", "buffer"], result: "pointer" },
  __errno_location: { parameters: [], result: "pointer", optional: true },
  strerror: { parameters: ["i32"], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

/** `posix_spawnattr_setflags` bits (glibc and musl on Linux). */
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
const O_RDONLY = 0;
const O_WRONLY = 1;
const WNOHANG = 1;
const ECHILD = 10;
/** Room for `posix_spawnattr_t` (336 bytes in glibc), `posix_spawn_file_actions_t` and `sigset_t`. */
const OPAQUE_BYTES = 1024;

/** How a spawned process ended. */
export interface ExitStatus {
  /** Exit status (`WEXITSTATUS`), 0 when killed by a signal. */
  readonly code: number;
  /** The signal that killed it, else null. */
  readonly signal: number | null;
}

/** Options of {@link Spawner.spawn}. */
export interface SpawnOptions {
  /** Working directory of the child (default: the daemon's). */
  readonly cwd?: string;
  /** Reopen fds 0-2 on `/dev/null` (`-d`), instead of inheriting the daemon's. */
  readonly devNull?: boolean;
}

/** Encodes bytes or text as a NUL-terminated C string. */
function cBytes(s: string | Uint8Array): Uint8Array<ArrayBuffer> {
  const bytes = typeof s === "string" ? new TextEncoder().encode(s) : s;
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/**
 * Starts processes with `posix_spawn` in their own session and reaps them with `waitpid`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Spawner } from "./spawn.ts";
 * const s = Spawner.open();
 * try {
 *   const pid = s.spawn("/bin/sh", ["sh", "-c", "exit 3"]);
 *   let st = s.tryWait(pid);
 *   while (st === undefined) {
 *     await new Promise((r) => setTimeout(r, 5));
 *     st = s.tryWait(pid);
 *   }
 *   assert.deepEqual(st, { code: 3, signal: null });
 * } finally {
 *   s.close();
 * }
 * ```
 */
export class Spawner {
  readonly #lib: Deno.DynamicLibrary<typeof SPAWN_SYMBOLS>;
  /** Address of libc's `environ` variable (its value changes when the environment grows). */
  readonly #environ: Deno.PointerObject;
  readonly #pid = new Int32Array(1);
  readonly #status = new Int32Array(1);
  readonly #empty = new Uint8Array(OPAQUE_BYTES);
  readonly #full = new Uint8Array(OPAQUE_BYTES);
  readonly #devNull = cBytes("/dev/null");

  private constructor(lib: Deno.DynamicLibrary<typeof SPAWN_SYMBOLS>) {
    this.#lib = lib;
    const environ = lib.symbols.dlsym(null, cBytes("environ"));
    if (environ === null) throw new Error('Cannot spawn through libc: no symbol "environ"');
    this.#environ = environ;
    lib.symbols.sigemptyset(this.#empty);
    lib.symbols.sigfillset(this.#full);
  }

  /**
   * Opens libc's spawn functions.
   *
   * @returns The spawner; {@link Spawner.close} it when done.
   * @throws {Error} When this is not Linux, FFI is not permitted, or libc lacks a function.
   */
  static open(): Spawner {
    if (Deno.build.os !== "linux") {
      throw new Error(`Cannot spawn through libc: "${Deno.build.os}" is not supported`);
    }
    const lib = openLibc(SPAWN_SYMBOLS);
    try {
      return new Spawner(lib);
    } catch (e) {
      lib.close();
      throw e;
    }
  }

  /** Whether {@link SpawnOptions.cwd} is supported (`posix_spawn_file_actions_addchdir_np`). */
  get canChdir(): boolean {
    return this.#lib.symbols.posix_spawn_file_actions_addchdir_np !== null;
  }

  /**
   * Starts `path` with `argv` (byte strings taken as they are) in a new session.
   *
   * @param path The program.
   * @param argv Its arguments, `argv[0]` included.
   * @param opts Working directory and stdio.
   * @returns The child's pid.
   * @throws {Error} When `posix_spawn` fails (the program cannot be run), with libc's text.
   */
  spawn(path: string, argv: readonly (string | Uint8Array)[], opts: SpawnOptions = {}): number {
    const sym = this.#lib.symbols;
    const args = argv.map(cBytes);
    const ptrs = new BigUint64Array(args.length + 1);
    args.forEach((a, i) => ptrs[i] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(a))));
    const actions = new Uint8Array(OPAQUE_BYTES);
    const attr = new Uint8Array(OPAQUE_BYTES);
    const cwd = opts.cwd === undefined ? undefined : cBytes(opts.cwd);
    this.#check(sym.posix_spawn_file_actions_init(actions), "posix_spawn_file_actions_init");
    try {
      this.#check(sym.posix_spawnattr_init(attr), "posix_spawnattr_init");
      try {
        if (opts.devNull === true) {
          for (const [fd, flags] of [[0, O_RDONLY], [1, O_WRONLY], [2, O_WRONLY]] as const) {
            const r = sym.posix_spawn_file_actions_addopen(actions, fd, this.#devNull, flags, 0);
            this.#check(r, "posix_spawn_file_actions_addopen");
          }
        }
        if (cwd !== undefined) {
          const chdir = sym.posix_spawn_file_actions_addchdir_np;
          if (chdir === null) {
            throw new Error(
              "Cannot set a command's working directory: libc has no posix_spawn_file_actions_addchdir_np",
            );
          }
          this.#check(chdir(actions, cwd), "posix_spawn_file_actions_addchdir_np");
        }
        const flags = POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
        this.#check(sym.posix_spawnattr_setflags(attr, flags), "posix_spawnattr_setflags");
        this.#check(sym.posix_spawnattr_setsigmask(attr, this.#empty), "setsigmask");
        this.#check(sym.posix_spawnattr_setsigdefault(attr, this.#full), "setsigdefault");
        const env = new Deno.UnsafePointerView(this.#environ).getPointer();
        const r = sym.posix_spawn(this.#pid, cBytes(path), actions, attr, ptrs, env);
        if (r !== 0) throw new Error(`Cannot start "${path}": ${this.#text(r)}`);
        return this.#pid[0] ?? -1;
      } finally {
        sym.posix_spawnattr_destroy(attr);
      }
    } finally {
      sym.posix_spawn_file_actions_destroy(actions);
      // The C strings must outlive the call above; keep them referenced until here.
      void args;
    }
  }

  /**
   * Reaps `pid` if it has ended (`waitpid(pid, WNOHANG)`).
   *
   * @param pid A child started by {@link spawn} and not reaped yet.
   * @returns Its exit status, or undefined while it runs.
   * @throws {Error} When `pid` is no child of this process (already reaped by someone else).
   */
  tryWait(pid: number): ExitStatus | undefined {
    const r = this.#lib.symbols.waitpid(pid, this.#status, WNOHANG);
    if (r === 0) return undefined;
    if (r < 0) {
      const e = errno(this.#lib.symbols);
      if (e === 4) return undefined; // EINTR: ask again next time
      throw new Error(
        `Cannot wait for process ${pid}: ${e === ECHILD ? "no such child" : this.#text(e)}`,
      );
    }
    const st = this.#status[0] ?? 0;
    const sig = st & 0x7f;
    return sig === 0 ? { code: (st >> 8) & 0xff, signal: null } : { code: 0, signal: sig };
  }

  /** Closes the library (no call after this). */
  close(): void {
    this.#lib.close();
  }

  #text(code: number): string {
    return strerror(this.#lib.symbols, code).toLowerCase();
  }

  #check(r: number, what: string): void {
    if (r !== 0) throw new Error(`Cannot run ${what}: ${this.#text(r)}`);
  }
}
