/**
 * Signals of `knocktool serve`: SIGTERM/SIGINT end the capture (exit status 15 or 2, as knockd),
 * a second SIGTERM or SIGINT stops waiting for running commands, SIGHUP reloads.
 *
 * @module
 */

/**
 * The serve process's signal handlers, installed by the constructor until {@link remove}.
 *
 * @example
 * ```ts
 * import { ServeSignals } from "./serve_signals.ts";
 * let reloads = 0;
 * const signals = new ServeSignals(() => reloads++);
 * try {
 *   if (signals.stop.aborted || signals.status !== 0) throw new Error("no signal yet");
 * } finally {
 *   signals.remove();
 * }
 * ```
 */
export class ServeSignals {
  readonly #stop = new AbortController();
  // A second SIGTERM/SIGINT: stop waiting for the commands (the pending stops are started first).
  readonly #force = new AbortController();
  #status = 0;
  readonly #handlers: [Deno.Signal, () => void][];

  /**
   * Installs the handlers.
   *
   * @param onHup Called on SIGHUP (reload).
   */
  constructor(onHup: () => void) {
    const onSignal = (name: "SIGTERM" | "SIGINT") => () => {
      if (this.#stop.signal.aborted) {
        this.#force.abort();
        return;
      }
      this.#status = name === "SIGTERM" ? 15 : 2;
      this.#stop.abort();
    };
    this.#handlers = [
      ["SIGTERM", onSignal("SIGTERM")],
      ["SIGINT", onSignal("SIGINT")],
      ["SIGHUP", onHup],
    ];
    for (const [s, h] of this.#handlers) Deno.addSignalListener(s, h);
  }

  /** Aborted by the first SIGTERM or SIGINT: stop capturing. */
  get stop(): AbortSignal {
    return this.#stop.signal;
  }

  /** Aborted by a second SIGTERM or SIGINT: stop waiting for running commands. */
  get force(): AbortSignal {
    return this.#force.signal;
  }

  /** The exit status the first signal asks for (15 for SIGTERM, 2 for SIGINT), 0 before one. */
  get status(): number {
    return this.#status;
  }

  /**
   * Removes the handlers. Call it last, so that a second SIGTERM during shutdown never meets the
   * default action (exit 143).
   */
  remove(): void {
    for (const [s, h] of this.#handlers) Deno.removeSignalListener(s, h);
  }
}
