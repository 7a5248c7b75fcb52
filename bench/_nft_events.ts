/**
 * Sees an nftables set element appear without looking: a netlink socket subscribed to the
 * nftables notification group (`NFNLGRP_NFTABLES`), which the kernel sends every committed change
 * to, as `nft monitor` does. The benches use it to time knock → element without a busy loop of
 * `list set` dumps next to the daemon they measure (docs/PERFORMANCE.md, "Knock to grant (w5g)").
 *
 * The wait is a `nonblocking` FFI `recv`, so the bench process sleeps while it waits; the figure
 * includes that thread's wake-up (~0.3 ms at p50 on the test machines).
 *
 * @module
 */
import { RealtimeClock } from "./_clock.ts";

const symbols = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  recvWait: {
    name: "recv",
    parameters: ["i32", "buffer", "usize", "i32"],
    result: "isize",
    nonblocking: true,
  },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
} as const;

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const NETLINK_NETFILTER = 12;
/** `NFNLGRP_NFTABLES`: bit (7 - 1) of `nl_groups`. */
const NFNLGRP_NFTABLES = 7;
const SOL_SOCKET = 1;
const SO_RCVTIMEO = 20;
const MSG_DONTWAIT = 0x40;
/** `(NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWSETELEM`. */
const NEWSETELEM = (10 << 8) | 12;

/** A subscription to nftables change notifications in the current network namespace. */
export class NftEvents implements Disposable {
  readonly #lib = Deno.dlopen("libc.so.6", symbols);
  readonly #fd: number;
  readonly #buf = new Uint8Array(65536);
  readonly #clock = new RealtimeClock();

  /**
   * Opens and subscribes the socket.
   *
   * @param waitLimitMs How long one {@link waitNewElement} may block (`SO_RCVTIMEO`).
   * @throws {Error} When the socket cannot be made or bound.
   */
  constructor(waitLimitMs = 2000) {
    const s = this.#lib.symbols;
    this.#fd = s.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
    if (this.#fd < 0) {
      this.#lib.close();
      this.#clock.close();
      throw new Error("Cannot open a netfilter netlink socket");
    }
    // struct sockaddr_nl { u16 family; u16 pad; u32 pid; u32 groups; }
    const sa = new DataView(new ArrayBuffer(12));
    sa.setUint16(0, AF_NETLINK, true);
    sa.setUint32(8, 1 << (NFNLGRP_NFTABLES - 1), true);
    const tv = new BigInt64Array([
      BigInt(Math.floor(waitLimitMs / 1000)),
      BigInt((waitLimitMs % 1000) * 1000),
    ]);
    if (
      s.bind(this.#fd, new Uint8Array(sa.buffer), 12) !== 0 ||
      s.setsockopt(this.#fd, SOL_SOCKET, SO_RCVTIMEO, new Uint8Array(tv.buffer), 16) !== 0
    ) {
      this.close();
      throw new Error("Cannot subscribe to nftables notifications");
    }
  }

  /** Discards every notification received so far. */
  drain(): void {
    while (
      Number(this.#lib.symbols.recv(this.#fd, this.#buf, BigInt(this.#buf.length), MSG_DONTWAIT)) >
        0
    );
  }

  /**
   * Waits for the next "new set element" notification.
   *
   * @returns `CLOCK_REALTIME` in nanoseconds when it was received, or null after the wait limit.
   */
  async waitNewElement(): Promise<bigint | null> {
    for (;;) {
      const n = Number(
        await this.#lib.symbols.recvWait(this.#fd, this.#buf, BigInt(this.#buf.length), 0),
      );
      if (n <= 0) return null;
      const at = this.#clock.nowNs();
      const v = new DataView(this.#buf.buffer, 0, n);
      for (let off = 0; off + 16 <= n;) {
        const len = v.getUint32(off, true);
        if (v.getUint16(off + 4, true) === NEWSETELEM) return at;
        if (len < 16) break;
        off += (len + 3) & ~3;
      }
    }
  }

  /** Closes the socket. */
  close(): void {
    this.#lib.symbols.close(this.#fd);
    this.#lib.close();
    this.#clock.close();
  }

  /** Same as {@link close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}
