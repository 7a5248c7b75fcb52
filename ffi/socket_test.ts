import { deepStrictEqual, strictEqual } from "node:assert/strict";
import {
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  EINPROGRESS,
  makeSockAddr,
  parseSockAddr,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SocketLib,
} from "./socket.ts";

Deno.test("socket: getaddrinfo keeps glibc's service semantics", () => {
  using lib = SocketLib.open();
  const wrap = lib.resolve("127.0.0.1", "70000", AF_UNSPEC);
  strictEqual(wrap.ok && wrap.addr.port, 4464, "70000 wraps modulo 65536 in glibc");
  const ssh = lib.resolve("127.0.0.1", "ssh", AF_INET, SOCK_STREAM);
  strictEqual(ssh.ok && ssh.addr.port, 22);
  const bad = lib.resolve("127.0.0.1", "nosuchservice", AF_UNSPEC);
  deepStrictEqual(bad, { ok: false, code: -8, message: "Servname not supported for ai_socktype" });
  const v6 = lib.resolve("::1", "7000", AF_UNSPEC);
  strictEqual(v6.ok && v6.addr.family, AF_INET6);
  strictEqual(v6.ok && lib.numericHost(v6.addr), "::1");
  const wrongFamily = lib.resolve("::1", "7000", AF_INET);
  strictEqual(wrongFamily.ok, false);
});

Deno.test("socket: sockaddr bytes round-trip", () => {
  const v4 = makeSockAddr(new Uint8Array([192, 0, 2, 1]), 7000);
  deepStrictEqual(parseSockAddr(v4.bytes), v4);
  const v6 = makeSockAddr(new Uint8Array(16).fill(0x20, 0, 1), 65535, 3);
  strictEqual(parseSockAddr(v6.bytes)?.port, 65535);
  strictEqual(v6.bytes[24], 3, "scope id at offset 24");
  strictEqual(parseSockAddr(new Uint8Array(8)), null);
});

Deno.test("socket: inet_pton, and the source the kernel picks for a destination", () => {
  using lib = SocketLib.open();
  deepStrictEqual(lib.parseAddress("192.0.2.7"), new Uint8Array([192, 0, 2, 7]));
  strictEqual(lib.parseAddress("2001:db8::1")?.length, 16);
  strictEqual(lib.parseAddress("192.0.2.01"), null);
  const fd = lib.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC);
  try {
    strictEqual(lib.connect(fd, makeSockAddr(new Uint8Array([127, 0, 0, 1]), 9)), 0);
    deepStrictEqual(lib.getsockname(fd).addr, new Uint8Array([127, 0, 0, 1]));
    strictEqual(lib.pendingError(fd), 0);
  } finally {
    lib.closeFd(fd);
  }
  strictEqual(lib.strerror(1), "Operation not permitted");
});

Deno.test("socket: waitWritable reports a finished connect from poll's revents", async () => {
  using lib = SocketLib.open();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const accepted = listener.accept();
  const fd = lib.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  try {
    const err = lib.connect(fd, makeSockAddr(new Uint8Array([127, 0, 0, 1]), port));
    strictEqual(err === 0 || err === EINPROGRESS, true, `connect: ${lib.strerror(err)}`);
    strictEqual(await lib.waitWritable(fd, 5000), true);
    strictEqual(lib.pendingError(fd), 0);
    (await accepted).close();
  } finally {
    lib.closeFd(fd);
    listener.close();
  }
  // A refused connect is "writable" with a pending ECONNREFUSED (POLLERR in revents).
  const closedPort = port;
  const fd2 = lib.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  try {
    lib.connect(fd2, makeSockAddr(new Uint8Array([127, 0, 0, 1]), closedPort));
    strictEqual(await lib.waitWritable(fd2, 5000), true);
    strictEqual(lib.strerror(lib.pendingError(fd2)), "Connection refused");
  } finally {
    lib.closeFd(fd2);
  }
});
