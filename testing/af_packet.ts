/**
 * An AF_PACKET raw socket through libc FFI, for injecting complete link-layer frames on one
 * interface (tests and benchmarks craft knocks with spoofed sources this way). Linux only; needs
 * root or CAP_NET_RAW, and `--allow-ffi`.
 *
 * The socket is `socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL))` bound to the interface's index
 * through a `struct sockaddr_ll`; every {@link PacketSocket.send} hands one whole frame (Ethernet
 * header included, e.g. zero MACs on `lo`) to the driver as is.
 *
 * @module
 */

/** `AF_PACKET` / `PF_PACKET` from `<sys/socket.h>`. */
const AF_PACKET = 17;
/** `SOCK_RAW`: frames include the link-layer header. */
const SOCK_RAW = 3;
/** `SOCK_CLOEXEC`, so command children of a test never inherit the socket. */
const SOCK_CLOEXEC = 0o2000000;
/** `ETH_P_ALL` in network byte order (`htons(0x0003)`), as `socket()` and `sll_protocol` want. */
const ETH_P_ALL_BE = 0x0300;
/** `ENOBUFS`: the device queue is full; the send may be retried. */
const ENOBUFS = 105;
/** `EINTR`. */
const EINTR = 4;
/** `EAGAIN`. */
const EAGAIN = 11;

const symbols = {
  // int socket(int domain, int type, int protocol);
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  // int bind(int fd, const struct sockaddr *addr, socklen_t len);
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  // ssize_t send(int fd, const void *buf, size_t len, int flags);
  send: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  // int close(int fd);
  close: { parameters: ["i32"], result: "i32" },
  // unsigned int if_nametoindex(const char *ifname);
  if_nametoindex: { parameters: ["buffer"], result: "u32" },
  // int *__errno_location(void);
  __errno_location: { parameters: [], result: "pointer" },
  // char *strerror(int errnum);
  strerror: { parameters: ["i32"], result: "pointer" },
} as const;

type Libc = Deno.DynamicLibrary<typeof symbols>;

/** The error of a failed libc call on a packet socket, with the C `errno`. */
export class PacketSocketError extends Error {
  /** The C errno value (0 when not known). */
  readonly errno: number;
  /**
   * Makes the error.
   *
   * @param message Std-voice message.
   * @param errno The C errno value.
   */
  constructor(message: string, errno: number) {
    super(message);
    this.name = "PacketSocketError";
    this.errno = errno;
  }
}

const encoder = new TextEncoder();

function cString(text: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(text.length * 3 + 1);
  const { written } = encoder.encodeInto(text, bytes);
  return bytes.subarray(0, written + 1);
}

function lastErrno(lib: Libc): number {
  const p = lib.symbols.__errno_location();
  return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
}

function describe(lib: Libc, errno: number): string {
  const p = lib.symbols.strerror(errno);
  return p === null ? `errno ${errno}` : Deno.UnsafePointerView.getCString(p);
}

/**
 * Builds a `struct sockaddr_ll` (20 bytes on Linux: family u16, protocol u16 big-endian, ifindex
 * i32, hatype u16, pkttype u8, halen u8, addr[8]).
 *
 * @param ifindex The interface index.
 * @returns The structure's bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sockaddrLl } from "./af_packet.ts";
 * const sa = sockaddrLl(1);
 * assert.equal(sa.length, 20);
 * assert.equal(sa[0], 17);
 * assert.equal(sa[4], 1);
 * ```
 */
export function sockaddrLl(ifindex: number): Uint8Array<ArrayBuffer> {
  const sa = new Uint8Array(20);
  const view = new DataView(sa.buffer);
  view.setUint16(0, AF_PACKET, true);
  view.setUint16(2, 0x0003, false); // ETH_P_ALL, network byte order
  view.setInt32(4, ifindex, true);
  return sa;
}

/**
 * A raw AF_PACKET socket bound to one interface. Close it when done (it holds a libc handle and a
 * file descriptor).
 *
 * @example
 * ```ts ignore
 * import { PacketSocket } from "./af_packet.ts";
 * using sock = PacketSocket.open("lo");
 * sock.send(new Uint8Array(60)); // a (useless) all-zero frame
 * ```
 */
export class PacketSocket implements Disposable {
  #lib: Libc;
  #fd: number;
  /** The interface the socket is bound to. */
  readonly iface: string;
  /** Its index. */
  readonly ifindex: number;

  private constructor(lib: Libc, fd: number, iface: string, ifindex: number) {
    this.#lib = lib;
    this.#fd = fd;
    this.iface = iface;
    this.ifindex = ifindex;
  }

  /**
   * Opens a packet socket bound to an interface.
   *
   * @param iface Interface name, e.g. `lo`.
   * @returns The socket.
   * @throws {PacketSocketError} When libc cannot be loaded, the interface does not exist, or the
   * socket cannot be made or bound (e.g. without CAP_NET_RAW).
   */
  static open(iface: string): PacketSocket {
    let lib: Libc;
    try {
      lib = Deno.dlopen("libc.so.6", symbols);
    } catch (e) {
      throw new PacketSocketError(
        `Cannot load "libc.so.6": ${e instanceof Error ? e.message : String(e)}`,
        0,
      );
    }
    let fd = -1;
    try {
      const ifindex = lib.symbols.if_nametoindex(cString(iface));
      if (ifindex === 0) {
        const errno = lastErrno(lib);
        throw new PacketSocketError(
          `Cannot find interface "${iface}": ${describe(lib, errno)}`,
          errno,
        );
      }
      fd = lib.symbols.socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, ETH_P_ALL_BE);
      if (fd < 0) {
        const errno = lastErrno(lib);
        throw new PacketSocketError(
          `Cannot open a packet socket: ${describe(lib, errno)}`,
          errno,
        );
      }
      const sa = sockaddrLl(ifindex);
      if (lib.symbols.bind(fd, sa, sa.length) !== 0) {
        const errno = lastErrno(lib);
        throw new PacketSocketError(
          `Cannot bind the packet socket to "${iface}": ${describe(lib, errno)}`,
          errno,
        );
      }
      const sock = new PacketSocket(lib, fd, iface, ifindex);
      fd = -1;
      return sock;
    } catch (e) {
      if (fd >= 0) lib.symbols.close(fd);
      lib.close();
      throw e;
    }
  }

  /**
   * Sends one complete frame. Retries a bounded number of times while the device queue is full
   * (`ENOBUFS`/`EAGAIN`) or the call is interrupted.
   *
   * @param frame The whole frame, link-layer header included.
   * @throws {PacketSocketError} When the socket is closed or the kernel refuses the frame.
   */
  send(frame: Uint8Array): void {
    if (this.#fd < 0) throw new PacketSocketError("Cannot send: the packet socket is closed", 0);
    for (let attempt = 0;; attempt++) {
      const n = Number(
        this.#lib.symbols.send(this.#fd, frame as Uint8Array<ArrayBuffer>, BigInt(frame.length), 0),
      );
      if (n === frame.length) return;
      const errno = n < 0 ? lastErrno(this.#lib) : 0;
      const retriable = errno === ENOBUFS || errno === EAGAIN || errno === EINTR;
      if (!retriable || attempt >= 1000) {
        throw new PacketSocketError(
          n < 0
            ? `Cannot send a ${frame.length}-byte frame on "${this.iface}": ${
              describe(this.#lib, errno)
            }`
            : `Cannot send a ${frame.length}-byte frame on "${this.iface}": only ${n} bytes were sent`,
          errno,
        );
      }
    }
  }

  /** Closes the socket and the libc handle; later calls do nothing. */
  close(): void {
    if (this.#fd < 0) return;
    this.#lib.symbols.close(this.#fd);
    this.#fd = -1;
    this.#lib.close();
  }

  /** Same as {@link close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
