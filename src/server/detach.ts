/**
 * What `-d` needs of libc that Deno does not offer: `setsid()` in the re-spawned daemon, and
 * pointing stdin/stdout/stderr at `/dev/null` once it is serving (knockd's `daemon(0,0)`).
 *
 * @module
 */

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
