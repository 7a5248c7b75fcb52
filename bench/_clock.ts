/**
 * The wall clock in nanoseconds (`clock_gettime(CLOCK_REALTIME)` through libc FFI), comparable
 * with `date +%s%N` run by a knock command in another process. `Date.now()` has only
 * millisecond resolution, and `performance.timeOrigin + performance.now()` may drift from the
 * system clock.
 *
 * @module
 */

const symbols = {
  // int clock_gettime(clockid_t clk, struct timespec *tp);
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
} as const;

/** `CLOCK_REALTIME`. */
const CLOCK_REALTIME = 0;

/** A loaded libc clock; close it when done. */
export class RealtimeClock implements Disposable {
  #lib: Deno.DynamicLibrary<typeof symbols> | null;
  #buf = new BigInt64Array(2);

  /** Loads libc. */
  constructor() {
    this.#lib = Deno.dlopen("libc.so.6", symbols);
  }

  /**
   * Reads the clock.
   *
   * @returns Nanoseconds since the epoch.
   * @throws {Error} When the clock is closed or the call fails.
   */
  nowNs(): bigint {
    if (this.#lib === null) throw new Error("Cannot read the clock: it is closed");
    if (this.#lib.symbols.clock_gettime(CLOCK_REALTIME, this.#buf) !== 0) {
      throw new Error("Cannot read the clock: clock_gettime failed");
    }
    return this.#buf[0]! * 1_000_000_000n + this.#buf[1]!;
  }

  /** Unloads libc; later reads throw. */
  close(): void {
    this.#lib?.close();
    this.#lib = null;
  }

  /** Same as {@link close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
