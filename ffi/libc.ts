/**
 * The few libc functions the capture loop needs, through Deno FFI.
 *
 * - `poll` runs as a `nonblocking: true` call on Deno's blocking thread pool, so the event loop
 *   (timers, signals, child reaping) keeps running while the capture waits for packets. For such
 *   calls Deno keeps no reference to buffer arguments: the caller keeps the `pollfd` array alive
 *   until the promise settles.
 * - `fmemopen` gives libpcap's own `pcap_dump` a `FILE` over a TypeScript-owned buffer, so a
 *   whole batch of packets is copied in one `pcap_dispatch` call. The buffer must stay alive (and
 *   unmoved: an `ArrayBuffer` backing store never moves) until the `FILE` is closed.
 * - `dlopen`/`dlsym` fetch `pcap_dump`'s address: Deno's statics read the *value* at a symbol,
 *   never its address, and `pcap_dispatch` needs the function pointer itself.
 * - `fcntl` sets `FD_CLOEXEC` on libpcap's descriptors so they never leak into command children.
 *
 * {@link openLibc} is the one way the project loads libc (it tries glibc's, then musl's names), and
 * {@link errno}, {@link strerror} and {@link cString} are the shared helpers; the socket and
 * syslog bindings open their own symbol sets through it.
 *
 * Lifetime: {@link acquireLibc} opens the library on first use; every acquire is paired with one
 * {@link releaseLibc}, and the last release closes it (the resource sanitizer checks this).
 * Variadic `fcntl` is declared with a fixed third `int` argument, which is the correct calling
 * convention for integer arguments on x86_64 and aarch64 Linux.
 *
 * @module
 */

const LIBC_NAMES: Readonly<Record<string, readonly string[]>> = {
  linux: ["libc.so.6", "libc.so", "libc.musl-x86_64.so.1", "libc.musl-aarch64.so.1"],
  darwin: ["libSystem.B.dylib"],
};

/**
 * Opens libc with a symbol set, trying glibc's name first, then the other names this platform's
 * libc goes by (musl's `libc.musl-<arch>.so.1`, macOS's `libSystem.B.dylib`).
 *
 * @param symbols The symbols to bind.
 * @returns The open library; close it when done.
 * @throws {LibcError} When no name loads, with every name tried and why.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openLibc } from "./libc.ts";
 * const lib = openLibc({ getpid: { parameters: [], result: "i32" } });
 * try {
 *   assert.equal(lib.symbols.getpid(), Deno.pid, "not this process");
 * } finally {
 *   lib.close();
 * }
 * ```
 */
export function openLibc<const S extends Deno.ForeignLibraryInterface>(
  symbols: S,
): Deno.DynamicLibrary<S> {
  const names = LIBC_NAMES[Deno.build.os] ?? ["libc.so.6", "libc.so"];
  const errors: string[] = [];
  for (const name of names) {
    try {
      return Deno.dlopen(name, symbols);
    } catch (e) {
      errors.push(`"${name}" (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  throw new LibcError(`Cannot load libc: tried ${errors.join(", ")}`);
}

/**
 * libc cannot be loaded (no `--allow-ffi`, or no candidate name loads).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LibcError } from "./libc.ts";
 * assert.equal(new LibcError("Cannot load libc: tried \"libc.so.6\" (x)").name, "LibcError");
 * ```
 */
export class LibcError extends Error {
  /** @param message `Cannot load libc: tried "NAME" (REASON), …`. */
  constructor(message: string) {
    super(message);
    this.name = "LibcError";
  }
}

/** The symbols {@link errno} needs (declare them `optional: true`: each libc has one). */
export interface ErrnoSymbols {
  /** `int *__errno_location(void);` (glibc and musl). */
  readonly __errno_location?: (() => Deno.PointerValue) | null;
  /** `int *__error(void);` (macOS). */
  readonly __error?: (() => Deno.PointerValue) | null;
}

/** The symbol {@link strerror} needs. */
export interface StrerrorSymbols {
  /** `char *strerror(int errnum);` */
  readonly strerror: (errnum: number) => Deno.PointerValue;
}

/** The symbols {@link acquireLibc} binds (the {@link Libc} table). */
export const LIBC_SYMBOLS = {
  /** `int poll(struct pollfd *fds, nfds_t nfds, int timeout);` run off the main thread. */
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
  /** `int poll(struct pollfd *fds, nfds_t nfds, int timeout);` on the main thread (timeout 0). */
  poll_now: { name: "poll", parameters: ["buffer", "u64", "i32"], result: "i32" },
  /** `int fcntl(int fd, int cmd, ... /* int arg *\/);` */
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  /** `FILE *fmemopen(void *buf, size_t size, const char *mode);` */
  fmemopen: { parameters: ["buffer", "usize", "buffer"], result: "pointer" },
  /** `void rewind(FILE *stream);` */
  rewind: { parameters: ["pointer"], result: "void" },
  /** `int fflush(FILE *stream);` */
  fflush: { parameters: ["pointer"], result: "i32" },
  /** `long ftell(FILE *stream);` */
  ftell: { parameters: ["pointer"], result: "i64" },
  /** `int fclose(FILE *stream);` */
  fclose: { parameters: ["pointer"], result: "i32" },
  /** `void *dlopen(const char *filename, int flags);` */
  dlopen: { parameters: ["buffer", "i32"], result: "pointer" },
  /** `void *dlsym(void *handle, const char *symbol);` */
  dlsym: { parameters: ["pointer", "buffer"], result: "pointer" },
  /** `int dlclose(void *handle);` */
  dlclose: { parameters: ["pointer"], result: "i32" },
  /** `char *dlerror(void);` */
  dlerror: { parameters: [], result: "pointer" },
  /** `int eventfd(unsigned int initval, int flags);` (Linux only) */
  eventfd: { parameters: ["u32", "i32"], result: "i32", optional: true },
  /** `int pipe(int pipefd[2]);` (used where eventfd is missing) */
  pipe: { parameters: ["buffer"], result: "i32" },
  /** `ssize_t read(int fd, void *buf, size_t count);` */
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  /** `ssize_t write(int fd, const void *buf, size_t count);` */
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  /** `int close(int fd);` */
  close: { parameters: ["i32"], result: "i32" },
  /** `int *__errno_location(void);` (glibc and musl) */
  __errno_location: { parameters: [], result: "pointer", optional: true },
  /** `int *__error(void);` (macOS) */
  __error: { parameters: [], result: "pointer", optional: true },
  /** `char *strerror(int errnum);` */
  strerror: { parameters: ["i32"], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The opened libc: Deno's symbol table for {@link LIBC_SYMBOLS}. */
export type Libc = Deno.DynamicLibrary<typeof LIBC_SYMBOLS>["symbols"];

/** `struct pollfd` flags (identical on Linux and macOS). */
export const POLLIN = 0x001;
/** Error condition on the descriptor. */
export const POLLERR = 0x008;
/** Hang-up on the descriptor. */
export const POLLHUP = 0x010;
/** The descriptor is not open. */
export const POLLNVAL = 0x020;
/** `fcntl` command: get descriptor flags. */
export const F_GETFD = 1;
/** `fcntl` command: set descriptor flags. */
export const F_SETFD = 2;
/** Descriptor flag: close on exec. */
export const FD_CLOEXEC = 1;
/** `dlopen` flag: resolve lazily. */
export const RTLD_LAZY = 1;
/** `dlopen` flag: only succeed if the library is already loaded (glibc/musl value). */
export const RTLD_NOLOAD = Deno.build.os === "darwin" ? 0x10 : 0x4;

let lib: Deno.DynamicLibrary<typeof LIBC_SYMBOLS> | undefined;
let users = 0;

/**
 * Opens libc (on first use) and returns its symbols; pair every call with {@link releaseLibc}.
 *
 * @returns The libc symbols.
 * @throws {LibcError} When no libc name loads, with every name tried.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { acquireLibc, releaseLibc } from "./libc.ts";
 * const c = acquireLibc();
 * try {
 *   assert.equal(typeof c.close, "function", "no close");
 * } finally {
 *   releaseLibc();
 * }
 * ```
 */
export function acquireLibc(): Libc {
  lib ??= openLibc(LIBC_SYMBOLS);
  users++;
  return lib.symbols;
}

/**
 * Releases one {@link acquireLibc}; the last release closes the library.
 *
 * @example
 * ```ts
 * import { acquireLibc, releaseLibc } from "./libc.ts";
 * acquireLibc();
 * releaseLibc();
 * ```
 */
export function releaseLibc(): void {
  if (users <= 0) return;
  users--;
  if (users === 0 && lib !== undefined) {
    lib.close();
    lib = undefined;
  }
}

/**
 * Reads the calling thread's `errno` (meaningful right after a failed sync call).
 *
 * @param c The libc symbols (any set with `__errno_location` or `__error`).
 * @returns The current errno, or 0 when this platform's accessor is unknown.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { acquireLibc, errno, releaseLibc } from "./libc.ts";
 * const c = acquireLibc();
 * try {
 *   assert.equal(typeof errno(c), "number", "no errno");
 * } finally {
 *   releaseLibc();
 * }
 * ```
 */
export function errno(c: ErrnoSymbols): number {
  const p = c.__errno_location?.() ?? c.__error?.() ?? null;
  return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
}

/**
 * Describes an errno value with libc's own `strerror` text.
 *
 * @param c The libc symbols (any set with `strerror`).
 * @param code The errno value.
 * @returns The text, e.g. `Bad file descriptor`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { acquireLibc, releaseLibc, strerror } from "./libc.ts";
 * const c = acquireLibc();
 * try {
 *   assert.notEqual(strerror(c, 9), "", "no text");
 * } finally {
 *   releaseLibc();
 * }
 * ```
 */
export function strerror(c: StrerrorSymbols, code: number): string {
  const p = c.strerror(code);
  return p === null ? `errno ${code}` : Deno.UnsafePointerView.getCString(p);
}

/**
 * Sets `FD_CLOEXEC` on a descriptor so that it is not inherited by spawned commands.
 *
 * @param c The libc symbols.
 * @param fd The descriptor.
 * @returns True when the flag is set.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { acquireLibc, releaseLibc, setCloexec } from "./libc.ts";
 * const c = acquireLibc();
 * try {
 *   assert(!setCloexec(c, -1), "fd -1 cannot be changed");
 * } finally {
 *   releaseLibc();
 * }
 * ```
 */
export function setCloexec(c: Libc, fd: number): boolean {
  const flags = c.fcntl(fd, F_GETFD, 0);
  if (flags < 0) return false;
  if ((flags & FD_CLOEXEC) !== 0) return true;
  return c.fcntl(fd, F_SETFD, flags | FD_CLOEXEC) === 0;
}

/**
 * Highest descriptor number (exclusive) that {@link openDescriptors} probes. A daemon holds a few
 * dozen; a service manager rarely passes more than a handful. Probing costs ~0.2 µs a number.
 */
export const FD_PROBE_LIMIT = 4096;

/**
 * Lists the open descriptors by asking `fcntl(fd, F_GETFD)` for each number below `limit`.
 * Deno's file API refuses `/proc/self/fd` without `--allow-all`, which the compiled binary does
 * not have; libc answers under `--allow-ffi` alone, on every Unix.
 *
 * @param c The libc symbols.
 * @param from The lowest descriptor to report.
 * @param limit One past the highest descriptor probed.
 * @returns The open descriptors in `[from, limit)`, ascending.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { acquireLibc, openDescriptors, releaseLibc } from "./libc.ts";
 * const c = acquireLibc();
 * try {
 *   assert(openDescriptors(c, 0, 3).includes(2), "stderr is open in tests");
 * } finally {
 *   releaseLibc();
 * }
 * ```
 */
export function openDescriptors(c: Libc, from = 0, limit = FD_PROBE_LIMIT): number[] {
  const out: number[] = [];
  for (let fd = Math.max(0, from); fd < limit; fd++) if (c.fcntl(fd, F_GETFD, 0) >= 0) out.push(fd);
  return out;
}

/**
 * Encodes a string as a NUL-terminated C string.
 *
 * @param s The text.
 * @returns Its UTF-8 bytes followed by a NUL byte.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cString } from "./libc.ts";
 * assert.equal(cString("a").length, 2, "no NUL");
 * ```
 */
export function cString(s: string): Uint8Array<ArrayBuffer> {
  const bytes = new TextEncoder().encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}
