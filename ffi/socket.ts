/**
 * glibc sockets and name resolution through FFI, for the knock client. libc is loaded through
 * `libc.ts`'s {@link openLibc} (glibc, then musl names) and errors are read with its shared
 * {@link errno}/{@link strerror} helpers.
 *
 * The client resolves through glibc's own `getaddrinfo` (so `/etc/hosts`, nsswitch, service
 * names such as `ssh` and glibc's quirks, e.g. port `70000` wrapping to 4464, are exactly those of
 * knock 0.8) and sends through plain `socket`/`connect`/`sendto`, so that a TCP hit is exactly one
 * SYN from a non-blocking `connect` followed by `close` (docs/COMPATIBILITY.md §1.2).
 *
 * Struct layouts are those of the LP64 Linux ABIs (x86_64, aarch64): `struct addrinfo` is 48 bytes
 * with `ai_family` at 4, `ai_socktype` at 8, `ai_addrlen` at 16, `ai_addr` at 24 and `ai_next` at
 * 40. `sockaddr_in` is 16 bytes, `sockaddr_in6` 28.
 *
 * Over 400 lines because each method is a thin typed wrapper over one libc call next to the struct
 * layout it reads; split up, the layouts would be scattered.
 *
 * @module
 */

import { cString, errno, openLibc, strerror } from "./libc.ts";

/** `AF_UNSPEC`. */
export const AF_UNSPEC = 0;
/** `AF_INET`. */
export const AF_INET = 2;
/** `AF_INET6`. */
export const AF_INET6 = 10;
/** `SOCK_STREAM`. */
export const SOCK_STREAM = 1;
/** `SOCK_DGRAM`. */
export const SOCK_DGRAM = 2;
/** `SOCK_RAW`. */
export const SOCK_RAW = 3;
/** `SOCK_NONBLOCK` (or-ed into the socket type). */
export const SOCK_NONBLOCK = 0o4000;
/** `SOCK_CLOEXEC` (or-ed into the socket type). */
export const SOCK_CLOEXEC = 0o2000000;
/** `IPPROTO_TCP`. */
export const IPPROTO_TCP = 6;
/** `IPPROTO_UDP`. */
export const IPPROTO_UDP = 17;
/** `SOL_SOCKET`. */
export const SOL_SOCKET = 1;
/** `SO_ERROR`. */
export const SO_ERROR = 4;
/** `SO_BINDTODEVICE`. */
export const SO_BINDTODEVICE = 25;
/** `EPERM`. */
export const EPERM = 1;
/** `EACCES`. */
export const EACCES = 13;
/** `EINPROGRESS`. */
export const EINPROGRESS = 115;
/** `EAI_SYSTEM`: the error is in errno. */
export const EAI_SYSTEM: number = -11;

const NI_NUMERICHOST = 1;
const NI_MAXHOST = 1025;
const POLLOUT = 4;
const POLLERR = 8;
const POLLHUP = 0x10;

const SYMBOLS = {
  // int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res);
  getaddrinfo: { parameters: ["buffer", "buffer", "buffer", "buffer"], result: "i32" },
  // void freeaddrinfo(struct addrinfo *res);
  freeaddrinfo: { parameters: ["pointer"], result: "void" },
  // const char *gai_strerror(int errcode);
  gai_strerror: { parameters: ["i32"], result: "pointer" },
  // int getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host, socklen_t hostlen, char *serv, socklen_t servlen, int flags);
  getnameinfo: {
    parameters: ["buffer", "u32", "buffer", "u32", "pointer", "u32", "i32"],
    result: "i32",
  },
  // int socket(int domain, int type, int protocol);
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  // int connect(int sockfd, const struct sockaddr *addr, socklen_t addrlen);
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  // int bind(int sockfd, const struct sockaddr *addr, socklen_t addrlen);
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  // ssize_t sendto(int sockfd, const void *buf, size_t len, int flags, const struct sockaddr *dest_addr, socklen_t addrlen);
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "isize" },
  // int close(int fd);
  close: { parameters: ["i32"], result: "i32" },
  // int getsockname(int sockfd, struct sockaddr *addr, socklen_t *addrlen);
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  // int setsockopt(int sockfd, int level, int optname, const void *optval, socklen_t optlen);
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  // int getsockopt(int sockfd, int level, int optname, void *optval, socklen_t *optlen);
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  // int poll(struct pollfd *fds, nfds_t nfds, int timeout);  (run off the main thread)
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
  // int inet_pton(int af, const char *src, void *dst);
  inet_pton: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  // int *__errno_location(void);  (glibc and musl)
  __errno_location: { parameters: [], result: "pointer", optional: true },
  // int *__error(void);  (macOS)
  __error: { parameters: [], result: "pointer", optional: true },
  // char *strerror(int errnum);
  strerror: { parameters: ["i32"], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

/** A socket address as the kernel sees it, plus its numeric text. */
export interface SockAddr {
  /** `AF_INET` or `AF_INET6`. */
  readonly family: number;
  /** The raw `sockaddr_in`/`sockaddr_in6` bytes (port in network order). */
  readonly bytes: Uint8Array;
  /** The address bytes (4 or 16). */
  readonly addr: Uint8Array;
  /** The port (host order). */
  readonly port: number;
}

/** What `getaddrinfo` gave: its first result, as knock 0.8 uses it. */
export type ResolveResult =
  | { readonly ok: true; readonly addr: SockAddr; readonly socktype: number }
  | { readonly ok: false; readonly code: number; readonly message: string };

/** What `getaddrinfo` gave: every result, in its order. */
export type ResolveAllResult =
  | {
    readonly ok: true;
    readonly addrs: readonly { readonly addr: SockAddr; readonly socktype: number }[];
  }
  | { readonly ok: false; readonly code: number; readonly message: string };

/** An error from a libc call: the function, errno and its `strerror` text. */
export class SocketError extends Error {
  /** The errno value. */
  readonly errno: number;
  /** The libc function that failed. */
  readonly call: string;
  /**
   * Makes the error.
   *
   * @param call The libc function that failed.
   * @param errno The errno value.
   * @param text The `strerror` text.
   */
  constructor(call: string, errno: number, text: string) {
    super(`${call}: ${text}`);
    this.name = "SocketError";
    this.call = call;
    this.errno = errno;
  }
}

/**
 * Builds a `sockaddr_in`/`sockaddr_in6` from address bytes and a port.
 *
 * @param addr 4 or 16 address bytes.
 * @param port Port in host order.
 * @param scopeId IPv6 scope id (interface index), default 0.
 * @returns The socket address.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeSockAddr } from "./socket.ts";
 * const sa = makeSockAddr(new Uint8Array([127, 0, 0, 1]), 22);
 * assert.equal(sa.bytes.length, 16);
 * assert.equal(sa.bytes[3], 22);
 * ```
 */
export function makeSockAddr(addr: Uint8Array, port: number, scopeId = 0): SockAddr {
  const v6 = addr.length === 16;
  const bytes = new Uint8Array(v6 ? 28 : 16);
  const dv = new DataView(bytes.buffer);
  dv.setUint16(0, v6 ? AF_INET6 : AF_INET, true);
  dv.setUint16(2, port, false);
  if (v6) {
    bytes.set(addr, 8);
    dv.setUint32(24, scopeId, true);
  } else {
    bytes.set(addr, 4);
  }
  return { family: v6 ? AF_INET6 : AF_INET, bytes, addr: addr.slice(), port };
}

/**
 * Reads a `sockaddr_in`/`sockaddr_in6` from bytes.
 *
 * @param bytes The raw socket address (at least 16 bytes for IPv4, 28 for IPv6).
 * @returns The parsed address, or null for another family or a short buffer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeSockAddr, parseSockAddr } from "./socket.ts";
 * const sa = parseSockAddr(makeSockAddr(new Uint8Array(16), 7000).bytes);
 * assert.equal(sa?.port, 7000);
 * assert.equal(sa.family, 10);
 * ```
 */
export function parseSockAddr(bytes: Uint8Array): SockAddr | null {
  if (bytes.length < 16) return null;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const family = dv.getUint16(0, true);
  const port = dv.getUint16(2, false);
  if (family === AF_INET) {
    return { family, bytes: bytes.slice(0, 16), addr: bytes.slice(4, 8), port };
  }
  if (family === AF_INET6 && bytes.length >= 28) {
    return { family, bytes: bytes.slice(0, 28), addr: bytes.slice(8, 24), port };
  }
  return null;
}

type Lib = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/**
 * An open handle on glibc's socket functions. Close it (or `using` it) when done: an open
 * `dlopen` handle is a leaked resource.
 */
export class SocketLib {
  #dl: Deno.DynamicLibrary<typeof SYMBOLS>;
  #s: Lib;

  private constructor(dl: Deno.DynamicLibrary<typeof SYMBOLS>) {
    this.#dl = dl;
    this.#s = dl.symbols;
  }

  /**
   * Opens libc (glibc's `libc.so.6`, else musl's names; see `libc.ts`).
   *
   * @returns The handle.
   * @throws {Error} When libc cannot be loaded (no `--allow-ffi`, or no libc name loads).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { SocketLib } from "./socket.ts";
   * using lib = SocketLib.open();
   * assert.equal(lib.gaiStrerror(-2), "Name or service not known", "not glibc");
   * ```
   */
  static open(): SocketLib {
    return new SocketLib(openLibc(SYMBOLS));
  }

  /** Closes the library handle. */
  close(): void {
    this.#dl.close();
  }

  /** Closes the library handle (for `using`). */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * The current errno.
   *
   * @returns errno as the last libc call left it.
   */
  errno(): number {
    return errno(this.#s);
  }

  /**
   * `strerror(errno)`.
   *
   * @param errno The error number.
   * @returns glibc's text, e.g. `Operation not permitted`.
   */
  strerror(errno: number): string {
    return strerror(this.#s, errno);
  }

  /**
   * `gai_strerror(code)`.
   *
   * @param code A `getaddrinfo` error code.
   * @returns glibc's text, e.g. `Name or service not known`.
   */
  gaiStrerror(code: number): string {
    const p = this.#s.gai_strerror(code);
    return p === null ? `error ${code}` : Deno.UnsafePointerView.getCString(p);
  }

  #fail(call: string): SocketError {
    const e = this.errno();
    return new SocketError(call, e, this.strerror(e));
  }

  /**
   * Resolves a host and service with `getaddrinfo`, hints as knock 0.8 sets them: only
   * `ai_family` (and here optionally `ai_socktype`); returns the first result.
   *
   * @param host The node name.
   * @param service The service (a port number or a name from `/etc/services`).
   * @param family `AF_UNSPEC`, `AF_INET` or `AF_INET6`.
   * @param socktype 0 (knock 0.8), `SOCK_STREAM` or `SOCK_DGRAM`.
   * @returns The first address, or the error code and its `gai_strerror` text.
   */
  resolve(host: string, service: string, family: number, socktype = 0): ResolveResult {
    const r = this.resolveAll(host, service, family, socktype);
    if (!r.ok) return r;
    const first = r.addrs[0];
    if (first === undefined) return { ok: false, code: -2, message: this.gaiStrerror(-2) };
    return { ok: true, addr: first.addr, socktype: first.socktype };
  }

  /**
   * Resolves a host and service with `getaddrinfo` (same hints as {@link resolve}) and returns
   * every result in `getaddrinfo`'s order, duplicates included (one per socket type).
   *
   * @param host The node name.
   * @param service The service (a port number or a name from `/etc/services`).
   * @param family `AF_UNSPEC`, `AF_INET` or `AF_INET6`.
   * @param socktype 0, `SOCK_STREAM` or `SOCK_DGRAM`.
   * @returns The addresses, or the error code and its `gai_strerror` text.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AF_INET, SOCK_STREAM, SocketLib } from "./socket.ts";
   * using lib = SocketLib.open();
   * const r = lib.resolveAll("127.0.0.1", "7000", AF_INET, SOCK_STREAM);
   * assert(r.ok && r.addrs.length === 1 && r.addrs[0]?.addr.port === 7000);
   * ```
   */
  resolveAll(host: string, service: string, family: number, socktype = 0): ResolveAllResult {
    const hints = new Uint8Array(48);
    const dv = new DataView(hints.buffer);
    dv.setInt32(4, family, true);
    dv.setInt32(8, socktype, true);
    const res = new BigUint64Array(1);
    const code = this.#s.getaddrinfo(
      cString(host),
      cString(service),
      hints,
      new Uint8Array(res.buffer),
    );
    if (code !== 0) {
      let message = this.gaiStrerror(code);
      if (code === EAI_SYSTEM) message = this.strerror(this.errno());
      return { ok: false, code, message };
    }
    const head = Deno.UnsafePointer.create(res[0] ?? 0n);
    if (head === null) return { ok: false, code: -2, message: this.gaiStrerror(-2) };
    try {
      const addrs: { addr: SockAddr; socktype: number }[] = [];
      // struct addrinfo on LP64: flags, family, socktype, protocol (i32 each), addrlen (u32 +
      // padding) at 16, ai_addr at 24, ai_canonname at 32, ai_next at 40. Bounded: glibc's
      // lists are short, but a cycle must not hang the client.
      let node: Deno.PointerValue = head;
      for (let n = 0; node !== null && n < 1024; n++) {
        const view: Deno.UnsafePointerView = new Deno.UnsafePointerView(node);
        const st = view.getInt32(8);
        const len = view.getUint32(16);
        const sa = view.getPointer(24);
        if (sa !== null) {
          const bytes = new Uint8Array(len);
          Deno.UnsafePointerView.copyInto(sa, bytes);
          const addr = parseSockAddr(bytes);
          if (addr !== null) addrs.push({ addr, socktype: st });
        }
        node = view.getPointer(40);
      }
      if (addrs.length === 0) return { ok: false, code: -6, message: this.gaiStrerror(-6) };
      return { ok: true, addrs };
    } finally {
      this.#s.freeaddrinfo(head);
    }
  }

  /**
   * `getnameinfo(NI_NUMERICHOST)`: the numeric host text knock 0.8 prints (IPv6 with `%scope`
   * for link-local addresses, no brackets).
   *
   * @param sa The socket address.
   * @returns The numeric host.
   */
  numericHost(sa: SockAddr): string {
    const host = new Uint8Array(NI_MAXHOST);
    const r = this.#s.getnameinfo(
      sa.bytes as Uint8Array<ArrayBuffer>,
      sa.bytes.length,
      host,
      host.length,
      null,
      0,
      NI_NUMERICHOST,
    );
    if (r !== 0) return "";
    const end = host.indexOf(0);
    return new TextDecoder().decode(host.subarray(0, end < 0 ? host.length : end));
  }

  /**
   * `inet_pton` for either family.
   *
   * @param text An IPv4 or IPv6 address.
   * @returns 4 or 16 bytes, or null when the text is neither.
   */
  parseAddress(text: string): Uint8Array | null {
    const out = new Uint8Array(16);
    if (this.#s.inet_pton(AF_INET, cString(text), out) === 1) return out.slice(0, 4);
    if (this.#s.inet_pton(AF_INET6, cString(text), out) === 1) return out;
    return null;
  }

  /**
   * `socket(family, type, protocol)`.
   *
   * @param family The address family.
   * @param type The socket type, possibly or-ed with `SOCK_NONBLOCK`/`SOCK_CLOEXEC`.
   * @param protocol The protocol, 0 for the default.
   * @returns The file descriptor.
   * @throws {SocketError} When the call fails.
   */
  socket(family: number, type: number, protocol = 0): number {
    const fd = this.#s.socket(family, type, protocol);
    if (fd < 0) throw this.#fail("socket");
    return fd;
  }

  /**
   * `connect`; returns errno instead of throwing (0 on success), since a non-blocking connect
   * normally "fails" with `EINPROGRESS`.
   *
   * @param fd The socket.
   * @param sa The destination.
   * @returns 0 or the errno.
   */
  connect(fd: number, sa: SockAddr): number {
    const r = this.#s.connect(fd, sa.bytes as Uint8Array<ArrayBuffer>, sa.bytes.length);
    return r === 0 ? 0 : this.errno();
  }

  /**
   * `bind`.
   *
   * @param fd The socket.
   * @param sa The local address.
   * @throws {SocketError} When the call fails.
   */
  bind(fd: number, sa: SockAddr): void {
    if (this.#s.bind(fd, sa.bytes as Uint8Array<ArrayBuffer>, sa.bytes.length) !== 0) {
      throw this.#fail("bind");
    }
  }

  /**
   * `sendto`; returns errno instead of throwing (0 on success).
   *
   * @param fd The socket.
   * @param data The bytes to send.
   * @param sa The destination.
   * @returns 0 or the errno.
   */
  sendto(fd: number, data: Uint8Array, sa: SockAddr): number {
    const r = this.#s.sendto(
      fd,
      data as Uint8Array<ArrayBuffer>,
      BigInt(data.length),
      0,
      sa.bytes as Uint8Array<ArrayBuffer>,
      sa.bytes.length,
    );
    return r < 0 ? this.errno() : 0;
  }

  /**
   * `close`.
   *
   * @param fd The descriptor.
   */
  closeFd(fd: number): void {
    this.#s.close(fd);
  }

  /**
   * `getsockname`.
   *
   * @param fd The socket.
   * @returns The local address.
   * @throws {SocketError} When the call fails.
   */
  getsockname(fd: number): SockAddr {
    const buf = new Uint8Array(128);
    const len = new Uint32Array([buf.length]);
    if (this.#s.getsockname(fd, buf, new Uint8Array(len.buffer)) !== 0) {
      throw this.#fail("getsockname");
    }
    const sa = parseSockAddr(buf.subarray(0, len[0]));
    if (sa === null) throw new SocketError("getsockname", 97, "Address family not supported");
    return sa;
  }

  /**
   * `setsockopt(SOL_SOCKET, SO_BINDTODEVICE, iface)`.
   *
   * @param fd The socket.
   * @param iface The interface name.
   * @throws {SocketError} When the call fails (e.g. `No such device`).
   */
  bindToDevice(fd: number, iface: string): void {
    const name = cString(iface);
    if (this.#s.setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, name.length) !== 0) {
      throw this.#fail("setsockopt");
    }
  }

  /**
   * `getsockopt(SOL_SOCKET, SO_ERROR)`: the pending error of a socket.
   *
   * @param fd The socket.
   * @returns The pending errno, 0 when none.
   */
  pendingError(fd: number): number {
    const v = new Int32Array(1);
    const len = new Uint32Array([4]);
    const r = this.#s.getsockopt(
      fd,
      SOL_SOCKET,
      SO_ERROR,
      new Uint8Array(v.buffer),
      new Uint8Array(len.buffer),
    );
    return r !== 0 ? this.errno() : (v[0] ?? 0);
  }

  /**
   * Waits (off the main thread) until a socket is writable, i.e. a connect finished.
   *
   * @param fd The socket.
   * @param timeoutMs The longest wait.
   * @returns true when writable (or in error), false on timeout.
   */
  async waitWritable(fd: number, timeoutMs: number): Promise<boolean> {
    const pfd = new Uint8Array(8);
    const dv = new DataView(pfd.buffer);
    dv.setInt32(0, fd, true);
    dv.setInt16(4, POLLOUT, true);
    const r = await this.#s.poll(pfd, 1n, Math.max(0, Math.trunc(timeoutMs)));
    // Deno keeps no reference to the buffer of a nonblocking call: reading `revents` after the
    // await keeps `pfd` alive until poll has returned.
    const revents = dv.getInt16(6, true);
    return r > 0 && (revents & (POLLOUT | POLLERR | POLLHUP)) !== 0;
  }
}
