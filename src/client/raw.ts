/**
 * TCP segments with chosen flags through a raw socket (`SOCK_RAW`, `IPPROTO_TCP`): the kernel
 * builds the IPv4/IPv6 header, we build the TCP header and its checksum, so the source address
 * must be known before sending: `--source`, or the one the kernel would pick (a UDP socket
 * connected to the destination, then `getsockname`).
 *
 * @module
 */

import {
  AF_INET,
  AF_INET6,
  EACCES,
  EPERM,
  IPPROTO_TCP,
  makeSockAddr,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_RAW,
  type SockAddr,
  SocketError,
  type SocketLib,
} from "../../ffi/socket.ts";
import { buildTransport } from "../wire/build.ts";
import { formatAddress } from "../wire/address.ts";
import { lowerFirst as lower } from "./_text.ts";

/** The error text when raw sockets are not allowed. */
export const RAW_PERMISSION_ERROR =
  "Cannot open a raw socket: operation not permitted: --flags needs root or CAP_NET_RAW";

/** A failure to open or prepare a raw socket, with its message in std voice. */
export class RawSocketError extends Error {
  /**
   * Makes the error.
   *
   * @param message The message.
   */
  constructor(message: string) {
    super(message);
    this.name = "RawSocketError";
  }
}

/** Where raw segments come from. */
export interface RawSourceOptions {
  /** Source address (must be of the destination's family). */
  readonly source?: Uint8Array | undefined;
  /** Interface to send through (`SO_BINDTODEVICE`). */
  readonly iface?: string | undefined;
}

function randomU32(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] ?? 0;
}

/**
 * Sends raw TCP segments; keeps one raw socket per family. Close it when done.
 */
export class RawSender {
  #lib: SocketLib;
  #opts: RawSourceOptions;
  #fds = new Map<number, number>();

  /**
   * Makes a sender. Nothing is opened until {@link probe} or {@link send}.
   *
   * @param lib The libc handle.
   * @param opts Source address and interface.
   */
  constructor(lib: SocketLib, opts: RawSourceOptions) {
    this.#lib = lib;
    this.#opts = opts;
  }

  /**
   * Opens the raw socket of a family now (so a missing privilege is reported before any hit).
   *
   * @param family `AF_INET` or `AF_INET6`.
   * @throws {RawSocketError} Without root/CAP_NET_RAW, or when the interface/source is unusable.
   */
  probe(family: number): void {
    this.#socket(family);
  }

  #socket(family: number): number {
    const have = this.#fds.get(family);
    if (have !== undefined) return have;
    let fd: number;
    try {
      fd = this.#lib.socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_TCP);
    } catch (e) {
      if (!(e instanceof SocketError)) throw e;
      if (e.errno === EPERM || e.errno === EACCES) throw new RawSocketError(RAW_PERMISSION_ERROR);
      throw new RawSocketError(`Cannot open a raw socket: ${lower(errText(e))}`);
    }
    try {
      if (this.#opts.iface !== undefined) bindDevice(this.#lib, fd, this.#opts.iface);
      const src = this.#opts.source;
      if (src !== undefined && (src.length === 4) === (family === AF_INET)) {
        bindSource(this.#lib, fd, src);
      }
    } catch (e) {
      this.#lib.closeFd(fd);
      throw e;
    }
    this.#fds.set(family, fd);
    return fd;
  }

  /**
   * The source address the kernel would use towards `dst` (or the `--source` address).
   *
   * @param dst The destination.
   * @returns The source address bytes.
   * @throws {RawSocketError} When the source has the wrong family or no route exists.
   */
  sourceFor(dst: SockAddr): Uint8Array {
    const src = this.#opts.source;
    if (src !== undefined) {
      if ((src.length === 16) !== (dst.family === AF_INET6)) {
        throw new RawSocketError(
          `Cannot send from "${formatAddress(src)}" to "${formatAddress(dst.addr)}": ` +
            `the address families differ`,
        );
      }
      return src;
    }
    const fd = openSocket(this.#lib, dst.family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    try {
      if (this.#opts.iface !== undefined) bindDevice(this.#lib, fd, this.#opts.iface);
      // Connecting a UDP socket sends nothing; it only makes the kernel choose a route and source.
      const probe = new Uint8Array(dst.bytes);
      probe[2] = 0;
      probe[3] = 9;
      const err = this.#lib.connect(fd, { ...dst, bytes: probe });
      if (err !== 0) {
        throw new RawSocketError(
          `Cannot find a source address for "${formatAddress(dst.addr)}": ` +
            lower(this.#lib.strerror(err)),
        );
      }
      try {
        return this.#lib.getsockname(fd).addr;
      } catch (e) {
        if (!(e instanceof SocketError)) throw e;
        throw new RawSocketError(
          `Cannot find a source address for "${formatAddress(dst.addr)}": ${lower(errText(e))}`,
        );
      }
    } finally {
      this.#lib.closeFd(fd);
    }
  }

  /**
   * Sends one TCP segment with the given flags to `dst` (random source port and sequence
   * number; window 64240, no options).
   *
   * @param dst The destination (its port is the TCP destination port).
   * @param flags The TCP flags byte.
   * @returns 0 or the errno of `sendto`.
   * @throws {RawSocketError} When the socket cannot be opened or the source is unusable.
   */
  send(dst: SockAddr, flags: number): number {
    const fd = this.#socket(dst.family);
    const src = this.sourceFor(dst);
    const segment = buildTransport({
      family: dst.family === AF_INET6 ? 6 : 4,
      src: formatAddress(src),
      dst: formatAddress(dst.addr),
      protocol: "tcp",
      srcPort: 32768 + (randomU32() % 28232),
      dstPort: dst.port,
      tcpFlags: flags,
      seq: randomU32(),
    });
    // Raw IPv6 sockets reject a port other than 0 or the protocol number; IPv4 ignores it.
    const to = new Uint8Array(dst.bytes);
    to[2] = 0;
    to[3] = 0;
    return this.#lib.sendto(fd, segment, { ...dst, bytes: to });
  }

  /** Closes the raw sockets. */
  close(): void {
    for (const fd of this.#fds.values()) this.#lib.closeFd(fd);
    this.#fds.clear();
  }
}

/**
 * `socket()`, with a failure (e.g. `EMFILE`, `ENOBUFS`) as a {@link RawSocketError} in std voice.
 *
 * @param lib The libc handle.
 * @param family The address family.
 * @param type The socket type, possibly or-ed with `SOCK_NONBLOCK`/`SOCK_CLOEXEC`.
 * @param protocol The protocol, 0 for the default.
 * @returns The file descriptor.
 * @throws {RawSocketError} `Cannot open socket: <strerror text>`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AF_INET, SOCK_CLOEXEC, SOCK_DGRAM, SocketLib } from "../../ffi/socket.ts";
 * import { openSocket } from "./raw.ts";
 * using lib = SocketLib.open();
 * const fd = openSocket(lib, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC);
 * assert(fd >= 0);
 * lib.closeFd(fd);
 * ```
 */
export function openSocket(lib: SocketLib, family: number, type: number, protocol = 0): number {
  try {
    return lib.socket(family, type, protocol);
  } catch (e) {
    if (!(e instanceof SocketError)) throw e;
    throw new RawSocketError(`Cannot open socket: ${lower(errText(e))}`);
  }
}

/**
 * Binds a socket to an interface, with the error in std voice.
 *
 * @param lib The libc handle.
 * @param fd The socket.
 * @param iface The interface name.
 * @throws {RawSocketError} When the interface does not exist or binding is not allowed.
 */
export function bindDevice(lib: SocketLib, fd: number, iface: string): void {
  try {
    lib.bindToDevice(fd, iface);
  } catch (e) {
    if (!(e instanceof SocketError)) throw e;
    throw new RawSocketError(`Cannot bind to interface "${iface}": ${lower(errText(e))}`);
  }
}

/**
 * Binds a socket to a source address (port 0), with the error in std voice.
 *
 * @param lib The libc handle.
 * @param fd The socket.
 * @param addr The address bytes (4 or 16).
 * @throws {RawSocketError} When the address is not local or binding fails.
 */
export function bindSource(lib: SocketLib, fd: number, addr: Uint8Array): void {
  try {
    lib.bind(fd, makeSockAddr(addr, 0));
  } catch (e) {
    if (!(e instanceof SocketError)) throw e;
    throw new RawSocketError(
      `Cannot bind to source "${formatAddress(addr)}": ${lower(errText(e))}`,
    );
  }
}

/** The strerror text of a libc failure, without the function name. */
function errText(e: SocketError): string {
  return e.message.replace(/^[a-z_]+: /, "");
}
