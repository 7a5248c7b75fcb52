/**
 * Timer sources for door actions and the daemon: injectable (tests need not sleep), and waiting
 * delays longer than one `setTimeout` can hold in steps.
 *
 * @module
 */

/** A timer source (injectable so that tests need not sleep). */
export interface Timers {
  /** Calls `fn` after `ms` milliseconds; returns a handle for {@link Timers.clear}. */
  set(fn: () => void, ms: number): unknown;
  /** Cancels a timer. */
  clear(id: unknown): void;
}

/** The longest delay one `setTimeout` can hold (2^31-1 ms, ~24.8 days); longer ones fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Wraps a timer source so that delays longer than `max` ms are waited in steps of at most `max`
 * (Deno's `setTimeout` fires after 1 ms when given more than 2^31-1 ms).
 *
 * @param base The timer source to wrap.
 * @param max The longest single step (default {@link MAX_TIMER_MS}).
 * @returns A timer source that waits the whole delay.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { longTimers, type Timers } from "./timers.ts";
 * const steps: number[] = [];
 * const fake: Timers = { set: (fn, ms) => (steps.push(ms), fn()), clear: () => {} };
 * longTimers(fake, 10).set(() => {}, 25);
 * assert.equal(steps.join(), "10,10,5");
 * ```
 */
export function longTimers(base: Timers, max: number = MAX_TIMER_MS): Timers {
  return {
    set(fn, ms) {
      const handle: { id: unknown } = { id: undefined };
      let left = Math.max(0, ms);
      const arm = (): void => {
        const step = Math.min(left, max);
        left -= step;
        handle.id = base.set(left > 0 ? arm : fn, step);
      };
      arm();
      return handle;
    },
    clear(handle) {
      base.clear((handle as { id: unknown }).id);
    },
  };
}

/** The real timers (delays beyond {@link MAX_TIMER_MS} waited in steps). */
export const realTimers: Timers = longTimers({
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
});
