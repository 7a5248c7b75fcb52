/**
 * Daemonising for `serve -d`: the program re-spawns itself in a new session with stdio on
 * `/dev/null`; the parent waits until the child serves (the child reports readiness on a pipe)
 * and exits 0. Also what `-d` needs of libc that Deno does not offer: `setsid()` in the
 * re-spawned daemon, and pointing stdin/stdout/stderr at `/dev/null` once it is serving
 * (knockd's `daemon(0,0)`).
 *
 * @module
 */
import type { Io } from "../util/io.ts";
import { readEnv, takeEnv } from "../util/env.ts";
import { errnoText } from "../util/errno.ts";

/** Environment variable the daemonized child finds its readiness pipe through (internal). */
const CHILD_ENV = "KNOCKTOOL_DAEMON_CHILD";

/** What the child writes on its stderr (the readiness pipe) once it serves. */
const READY = "\u0000knocktool-ready\n";

const SYMBOLS = {
  // pid_t setsid(void);
  setsid: { parameters: [], result: "i32" },
  // int open(const char *path, int flags);  (no O_CREAT, so the mode argument is not read)
  open: { parameters: ["buffer", "i32"], result: "i32" },
  // int dup2(int oldfd, int newfd);
  dup2: { parameters: ["i32", "i32"], result: "i32" },
  // int close(int fd);
  close: { parameters: ["i32"], result: "i32" },
  // ssize_t read(int fd, void *buf, size_t count);
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
} as const;

const O_RDWR = 2;
const O_CLOEXEC = 0o2000000;

function withLibc<T>(fn: (s: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"]) => T): T {
  const lib = Deno.dlopen("libc.so.6", SYMBOLS);
  try {
    return fn(lib.symbols);
  } finally {
    lib.close();
  }
}

/**
 * Starts a new session (the daemon leaves the terminal's process group and session).
 *
 * @returns The new session id, or -1 when the process already leads a process group.
 */
export function setsid(): number {
  return withLibc((c) => c.setsid());
}

/**
 * Points fds 0, 1 and 2 at `/dev/null`, as `daemon(0,0)` does.
 *
 * @returns True on success.
 */
export function stdioToDevNull(): boolean {
  return withLibc((c) => {
    const fd = c.open(new TextEncoder().encode("/dev/null\0"), O_RDWR);
    if (fd < 0) return false;
    let ok = true;
    for (const target of [0, 1, 2]) if (c.dup2(fd, target) < 0) ok = false;
    if (fd > 2) c.close(fd);
    return ok;
  });
}

/**
 * The kernel's argv of this process (`/proc/self/cmdline`), read through libc: Deno refuses a
 * plain read of `/proc/self/*` without `--allow-all`, and `Deno.execPath()`/`Deno.args` hide
 * both a `knockd` link (execPath resolves it) and `deno run`'s own arguments.
 *
 * @returns argv, or undefined when it cannot be read.
 */
export function readProcCmdline(): string[] | undefined {
  return withLibc((c) => {
    const fd = c.open(new TextEncoder().encode("/proc/self/cmdline\0"), O_CLOEXEC);
    if (fd < 0) return undefined;
    const chunks: Uint8Array[] = [];
    let total = 0;
    try {
      for (;;) {
        const buf = new Uint8Array(4096);
        const n = Number(c.read(fd, buf, BigInt(buf.length)));
        if (n < 0) return undefined;
        if (n === 0) break;
        chunks.push(buf.subarray(0, n));
        total += n;
        if (total > 1 << 20) break; // ARG_MAX-sized at most; bound it anyway
      }
    } finally {
      c.close(fd);
    }
    const all = new Uint8Array(total);
    let off = 0;
    for (const ch of chunks) {
      all.set(ch, off);
      off += ch.length;
    }
    const parts = new TextDecoder().decode(all).split("\0");
    if (parts.at(-1) === "") parts.pop();
    return parts;
  });
}

/**
 * In the daemonized child: tell the parent we serve, then detach stdio (knockd's daemon()). Deno
 * writes `Deno.stderr` through its own copy of the original fd 2 — the readiness pipe — and hands
 * that copy to children spawned with `"inherit"`: it is closed here, so nothing can write into a
 * pipe whose reader has exited (SIGPIPE).
 *
 * @example
 * ```ts ignore
 * // Only in the child: it closes this process's stdio.
 * import { signalReady } from "./detach.ts";
 * signalReady();
 * ```
 */
export function signalReady(): void {
  try {
    Deno.stderr.writeSync(new TextEncoder().encode(READY));
  } catch { /* parent gone */ }
  stdioToDevNull();
  for (const stream of [Deno.stderr, Deno.stdout, Deno.stdin]) {
    try {
      stream.close();
    } catch { /* already closed */ }
  }
}

/**
 * Why this process cannot daemonize, if it cannot: without access to the marker variables the
 * child could not tell it is the child and would daemonize again.
 *
 * @returns The problem (`Cannot daemonize: permission to read environment variable "X" is
 *   missing`), or undefined.
 *
 * @example
 * ```ts
 * import { daemonizeProblem } from "./detach.ts";
 * // Under --allow-all every variable may be read.
 * if (daemonizeProblem() !== undefined) throw new Error("can daemonize");
 * ```
 */
export function daemonizeProblem(): string | undefined {
  for (const variable of [CHILD_ENV, "KNOCKTOOL_ARGV0"]) {
    if (Deno.permissions.querySync({ name: "env", variable }).state !== "granted") {
      return `Cannot daemonize: permission to read environment variable "${variable}" is missing`;
    }
  }
  return undefined;
}

/**
 * The parent side of `-d`: re-spawns this program with the same arguments in a new session,
 * forwards what the child prints on stderr before it is ready, and returns 0 once it serves.
 * Check {@link daemonizeProblem} first.
 *
 * @param io Where the child's early stderr goes.
 * @returns The exit status for the parent: 0 once the child serves, else the child's status
 *   (1 when it exited 0 without serving).
 *
 * @example
 * ```ts ignore
 * // Starts this program again, detached.
 * import { daemonizeProblem, spawnDaemon } from "./detach.ts";
 * import { processIo } from "../util/io.ts";
 * if (daemonizeProblem() === undefined) Deno.exit(await spawnDaemon(processIo));
 * ```
 */
export async function spawnDaemon(io: Io): Promise<number> {
  const args = readCmdline();
  const exe = Deno.execPath();
  // `deno run main.ts …` and a compiled binary differ: /proc/self/cmdline has the real argv.
  const child = new Deno.Command(exe, {
    args: args.slice(1),
    env: { [CHILD_ENV]: "1", KNOCKTOOL_ARGV0: args[0] ?? "knocktool" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    detached: true,
  }).spawn();
  const reader = child.stderr.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  let ready = false;
  while (!ready) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    const at = buf.indexOf(READY);
    if (at >= 0) {
      ready = true;
      buf = buf.slice(0, at);
    }
  }
  if (buf) io.stderr(buf);
  await reader.cancel().catch(() => {});
  if (ready) {
    child.unref();
    return 0;
  }
  const st = await child.status;
  return st.code === 0 ? 1 : st.code;
}

/**
 * argv of this process as the kernel has it (Deno.args and execPath hide links and `deno run`'s
 * own arguments).
 *
 * @returns argv; `[Deno.execPath(), ...Deno.args]` when /proc cannot be read.
 *
 * @example
 * ```ts
 * import { readCmdline } from "./detach.ts";
 * const argv = readCmdline();
 * if (argv.length < Deno.args.length + 1) throw new Error("argv[0] and the arguments");
 * ```
 */
export function readCmdline(): string[] {
  try {
    const argv = readProcCmdline();
    if (argv !== undefined && argv.length > 0) return argv;
  } catch (e) {
    // Expected: no FFI permission, or no libc under that name; anything else is a bug.
    const noFfi = e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied;
    if (!noFfi && !isLoadError(e)) throw e;
  }
  return [Deno.execPath(), ...Deno.args];
}

/**
 * Called first thing in the daemonized child (main.ts): start a new session. Elsewhere it does
 * nothing.
 *
 * @example
 * ```ts
 * import { daemonChildSetup } from "./detach.ts";
 * daemonChildSetup(); // not the child: nothing happens
 * ```
 */
export function daemonChildSetup(): void {
  // Without env permission this is not the child.
  if (readEnv(CHILD_ENV) === undefined) return;
  setsid();
}

/**
 * Whether this process is the daemonized child of `serve -d`; the marker is removed from the
 * environment so that door commands do not inherit it. Without env permission: not the child.
 *
 * @returns True in the child.
 *
 * @example
 * ```ts
 * import { takeDaemonChildMarker } from "./detach.ts";
 * if (takeDaemonChildMarker()) throw new Error("a test is not the daemon child");
 * ```
 */
export function takeDaemonChildMarker(): boolean {
  return takeEnv(CHILD_ENV) !== undefined;
}

/** A `Deno.dlopen` failure: the library is not there under that name. */
function isLoadError(e: unknown): boolean {
  return e instanceof Error && e.message.startsWith("Could not open library");
}

/**
 * Writes the pidfile of the daemon (`PID\n`, as knockd).
 *
 * @param path The pidfile.
 * @returns Undefined on success, else the reason without Deno's `(os error N)` suffix (knockd
 *   logs `could not create pid file PATH: REASON`).
 *
 * @example
 * ```ts
 * import { removePidFile, writePidFile } from "./detach.ts";
 * const dir = Deno.makeTempDirSync();
 * try {
 *   if (writePidFile(`${dir}/k.pid`) !== undefined) throw new Error("written");
 *   if (Deno.readTextFileSync(`${dir}/k.pid`) !== `${Deno.pid}\n`) throw new Error("PID\\n");
 *   removePidFile(`${dir}/k.pid`);
 *   if (writePidFile(`${dir}/missing/k.pid`) === undefined) throw new Error("no directory");
 * } finally {
 *   Deno.removeSync(dir, { recursive: true });
 * }
 * ```
 */
export function writePidFile(path: string): string | undefined {
  try {
    Deno.writeTextFileSync(path, `${Deno.pid}\n`);
    return undefined;
  } catch (e) {
    return errnoText(e);
  }
}

/**
 * Removes the daemon's pidfile at exit; one already gone is fine, and so is any other failure
 * (the daemon is exiting: there is nobody left to tell).
 *
 * @param path The pidfile.
 *
 * @example
 * ```ts
 * import { removePidFile } from "./detach.ts";
 * removePidFile("/nonexistent/knockd.pid"); // already gone: fine
 * ```
 */
export function removePidFile(path: string): void {
  try {
    Deno.removeSync(path);
  } catch { /* already gone, or not ours to remove: exiting either way */ }
}
