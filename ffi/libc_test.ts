import { deepStrictEqual } from "node:assert/strict";
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

Deno.test("setCloexec: sets FD_CLOEXEC on a pipe; errno and strerror after a bad close", () => {
  const c = acquireLibc();
  try {
    const fds = new Int32Array(2);
    deepStrictEqual(c.pipe(fds), 0, "pipe");
    const [r, w] = [fds[0] ?? -1, fds[1] ?? -1];
    try {
      deepStrictEqual(c.fcntl(r, F_GETFD, 0) & FD_CLOEXEC, 0, "inherited by default");
      deepStrictEqual(setCloexec(c, r), true, "set");
      deepStrictEqual(c.fcntl(r, F_GETFD, 0) & FD_CLOEXEC, FD_CLOEXEC, "flag set");
    } finally {
      c.close(r);
      c.close(w);
    }
    deepStrictEqual(c.close(r), -1, "closing again fails");
    deepStrictEqual([errno(c), strerror(c, errno(c))], [9, "Bad file descriptor"], "EBADF");
  } finally {
    releaseLibc();
  }
});

Deno.test("poll: a nonblocking call waits off the main thread and reports readability", async () => {
  const c = acquireLibc();
  try {
    const fds = new Int32Array(2);
    deepStrictEqual(c.pipe(fds), 0, "pipe");
    const [r, w] = [fds[0] ?? -1, fds[1] ?? -1];
    try {
      const pfd = new Int32Array([r, POLLIN]); // fd, then events (low 16 bits) and revents
      let ticked = false;
      const t = setTimeout(() => (ticked = true), 1);
      deepStrictEqual(await c.poll(pfd, 1n, 50), 0, "timeout with nothing to read");
      clearTimeout(t);
      deepStrictEqual(ticked, true, "the event loop ran during the wait");
      c.write(w, new Uint8Array([1]), 1n);
      deepStrictEqual(await c.poll(pfd, 1n, 1000), 1, "readable");
      deepStrictEqual((pfd[1] ?? 0) >>> 16 & POLLIN, POLLIN, "revents POLLIN");
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
      deepStrictEqual(Number(c.ftell(f)), 0, "at 0");
    } finally {
      c.fclose(f);
    }
  } finally {
    releaseLibc();
  }
});
