/**
 * The fleet's waits: every background wait can be ended at once when the fleet closes, and the
 * outbox pump's wait also when a write arrives (a kick).
 *
 * @module
 */

/** Timed waits that {@link Sleeper.endAll} ends, and {@link Sleeper.kick} ends when kickable. */
export class Sleeper {
  #wake: (() => void) | undefined;
  readonly #sleepers = new Set<() => void>();

  /** Waits `ms`; {@link endAll} ends every wait, and {@link kick} ends a `kickable` one. */
  sleep(ms: number, kickable: boolean): Promise<void> {
    return new Promise((resolve) => {
      const end = () => {
        clearTimeout(timer);
        this.#sleepers.delete(end);
        if (this.#wake === end) this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(end, ms);
      this.#sleepers.add(end);
      if (kickable) this.#wake = end;
    });
  }

  /** Ends the latest kickable wait, if any. */
  kick(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Ends every wait. */
  endAll(): void {
    for (const end of [...this.#sleepers]) end();
  }
}
