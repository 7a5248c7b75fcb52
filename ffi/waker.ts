/**
 * `poll()` for the capture loop: the `struct pollfd` array, and a wake-up descriptor (an
 * eventfd, or a pipe where there is none) that the loop polls beside the capture socket, so that
 * an abort or a request wakes a pending nonblocking `poll` at once.
 *
 * @module
 */
import { type Libc, POLLIN, setCloexec } from "./libc.ts";
import { PcapError } from "./libpcap.ts";

/** `EFD_CLOEXEC` (Linux). */
export const EFD_CLOEXEC = 0x80000;
/** `EFD_NONBLOCK` (Linux). */
export const EFD_NONBLOCK = 0x800;

/** Size of `struct pollfd { int fd; short events; short revents; }`. */
const POLLFD_SIZE = 8;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * A `struct pollfd` array asking for `POLLIN` on each descriptor. Pass {@link PollFds.buffer} to
 * `poll`; for a nonblocking call keep this object alive until the promise settles (Deno keeps
 * no reference to buffer arguments of nonblocking calls).
 *
 * @example
 * ```ts
 * import { PollFds } from "./waker.ts";
 * const fds = new PollFds([5, 9]);
 * if (fds.count !== 2n || fds.buffer.length !== 16) throw new Error("two 8-byte entries");
 * if (fds.revents(1) !== 0) throw new Error("nothing reported yet");
 * ```
 */
export class PollFds {
  /** The array, in host byte order. */
  readonly buffer: Uint8Array<ArrayBuffer>;
  /** Number of entries, as `poll`'s `nfds_t` argument. */
  readonly count: bigint;
  readonly #view: DataView;

  /**
   * Builds the array.
   *
   * @param fds The descriptors, in the order `revents` indexes them.
   */
  constructor(fds: readonly number[]) {
    this.buffer = new Uint8Array(POLLFD_SIZE * fds.length);
    this.count = BigInt(fds.length);
    this.#view = new DataView(this.buffer.buffer);
    fds.forEach((fd, i) => {
      this.#view.setInt32(i * POLLFD_SIZE, fd, LITTLE_ENDIAN);
      this.#view.setInt16(i * POLLFD_SIZE + 4, POLLIN, LITTLE_ENDIAN);
    });
  }

  /**
   * The events `poll` reported for entry `i`.
   *
   * @param i The entry.
   * @returns `revents` (`POLLIN`, `POLLERR`, …), 0 when nothing happened.
   */
  revents(i: number): number {
    return this.#view.getInt16(i * POLLFD_SIZE + 6, LITTLE_ENDIAN);
  }

  /** Zeroes every `revents`, before the next `poll`. */
  clear(): void {
    for (let i = 0; i * POLLFD_SIZE < this.buffer.length; i++) {
      this.#view.setInt16(i * POLLFD_SIZE + 6, 0, LITTLE_ENDIAN);
    }
  }
}

/**
 * A descriptor the capture loop polls besides the pcap one, so that abort and requests wake it.
 * Both ends are close-on-exec.
 *
 * @example
 * ```ts
 * import { acquireLibc, POLLIN, releaseLibc } from "./libc.ts";
 * import { PollFds, Waker } from "./waker.ts";
 * const libc = acquireLibc();
 * const w = new Waker(libc);
 * try {
 *   const fds = new PollFds([w.fd]);
 *   w.wake();
 *   await libc.poll(fds.buffer, fds.count, 0);
 *   if ((fds.revents(0) & POLLIN) === 0) throw new Error("a wake-up is readable");
 *   w.drain();
 *   fds.clear();
 *   await libc.poll(fds.buffer, fds.count, 0);
 *   if (fds.revents(0) !== 0) throw new Error("drained");
 * } finally {
 *   w.close();
 *   releaseLibc();
 * }
 * ```
 */
export class Waker {
  readonly #libc: Libc;
  /** The descriptor to poll for `POLLIN`. */
  readonly fd: number;
  readonly #writeFd: number;
  readonly #one = new Uint8Array(8);
  readonly #sink = new Uint8Array(64);

  /**
   * Opens an eventfd, or a pipe where eventfd is missing.
   *
   * @param libc The libc symbols.
   * @throws {PcapError} `Cannot create a wake-up pipe`.
   */
  constructor(libc: Libc) {
    this.#libc = libc;
    const efd = libc.eventfd?.(0, EFD_CLOEXEC | EFD_NONBLOCK) ?? -1;
    if (efd >= 0) {
      this.fd = efd;
      this.#writeFd = efd;
      new DataView(this.#one.buffer).setBigUint64(0, 1n, LITTLE_ENDIAN);
    } else {
      const fds = new Int32Array(2);
      if (libc.pipe(fds) !== 0) throw new PcapError("Cannot create a wake-up pipe");
      this.fd = fds[0] ?? -1;
      this.#writeFd = fds[1] ?? -1;
      setCloexec(libc, this.fd);
      setCloexec(libc, this.#writeFd);
    }
  }

  /** Makes {@link Waker.fd} readable (wakes a pending `poll`). */
  wake(): void {
    this.#libc.write(this.#writeFd, this.#one, BigInt(this.#writeFd === this.fd ? 8 : 1));
  }

  /** Consumes pending wake-ups; call only when poll reported the fd readable. */
  drain(): void {
    this.#libc.read(this.fd, this.#sink, BigInt(this.#sink.length));
  }

  /**
   * Waits up to `ms` or until woken; an event-loop turn either way.
   *
   * @param ms The longest wait, milliseconds.
   */
  async sleep(ms: number): Promise<void> {
    const fds = new PollFds([this.fd]);
    await this.#libc.poll(fds.buffer, fds.count, Math.max(0, Math.round(ms)));
    if (fds.revents(0) !== 0) this.drain();
  }

  /** Closes the descriptors. */
  close(): void {
    this.#libc.close(this.fd);
    if (this.#writeFd !== this.fd) this.#libc.close(this.#writeFd);
  }
}
