import {
  acquireLibc,
  cString,
  errno,
  F_GETFD,
  FD_CLOEXEC,
  POLLIN,
  releaseLibc,
  setCloexec,
  strerror,
} from "./libc.ts";

function assertEquals<T>(actual: T, expected: T, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`Assertion failed: ${what}: expected ${e}, got ${a}`);
}

Deno.test("setCloexec: sets FD_CLOEXEC on a pipe; errno and strerror after a bad close", () => {
  const c = acquireLibc();
  try {
    const fds = new Int32Array(2);
    assertEquals(c.pipe(fds), 0, "pipe");
    const [r, w] = [fds[0] ?? -1, fds[1] ?? -1];
    try {
      assertEquals(c.fcntl(r, F_GETFD, 0) & FD_CLOEXEC, 0, "inherited by default");
      assertEquals(setCloexec(c, r), true, "set");
      assertEquals(c.fcntl(r, F_GETFD, 0) & FD_CLOEXEC, FD_CLOEXEC, "flag set");
    } finally {
      c.close(r);
      c.close(w);
    }
    assertEquals(c.close(r), -1, "closing again fails");
    assertEquals([errno(c), strerror(c, errno(c))], [9, "Bad file descriptor"], "EBADF");
  } finally {
    releaseLibc();
  }
});

Deno.test("poll: a nonblocking call waits off the main thread and reports readability", async () => {
  const c = acquireLibc();
  try {
    const fds = new Int32Array(2);
    assertEquals(c.pipe(fds), 0, "pipe");
    const [r, w] = [fds[0] ?? -1, fds[1] ?? -1];
    try {
      const pfd = new Int32Array([r, POLLIN]); // fd, then events (low 16 bits) and revents
      let ticked = false;
      const t = setTimeout(() => (ticked = true), 1);
      assertEquals(await c.poll(pfd, 1n, 50), 0, "timeout with nothing to read");
      clearTimeout(t);
      assertEquals(ticked, true, "the event loop ran during the wait");
      c.write(w, new Uint8Array([1]), 1n);
      assertEquals(await c.poll(pfd, 1n, 1000), 1, "readable");
      assertEquals((pfd[1] ?? 0) >>> 16 & POLLIN, POLLIN, "revents POLLIN");
    } finally {
      c.close(r);
      c.close(w);
    }
  } finally {
    releaseLibc();
  }
});

Deno.test("fmemopen: opens a stream over a caller buffer; rewind and ftell", () => {
  const c = acquireLibc();
  try {
    const buf = new Uint8Array(16);
    const f = c.fmemopen(buf, 16n, cString("w"));
    if (f === null) throw new Error("fmemopen failed");
    try {
      c.rewind(f);
      c.fflush(f);
      assertEquals(Number(c.ftell(f)), 0, "at 0");
    } finally {
      c.fclose(f);
    }
  } finally {
    releaseLibc();
  }
});
