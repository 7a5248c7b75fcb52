/**
 * The daemon's secret-sequence hooks (docs/SECRET-SEQUENCES.md): moving the secret doors' window
 * at every step boundary, and turning a virtual door's open into an open or a refused replay.
 * `SecretDoors` (secret_doors.ts) holds the keys, the window and the used marks.
 *
 * @module
 */
import { MAX_TIMER_MS } from "./timers.ts";
import { claimThen } from "./_daemon_cluster.ts";
import { openDoor } from "./_daemon_grants.ts";
import type { DaemonContext } from "./_daemon_types.ts";

/**
 * A secret door's derived sequence completed: open once, refuse a replay (docs/SECRET-SEQUENCES.md
 * §5). The mark is on disk before the command starts.
 *
 * @param ctx The daemon.
 * @param index The virtual door's index in the matcher.
 * @param src The source address.
 * @param family Its family.
 */
export function secretOpen(ctx: DaemonContext, index: number, src: string, family: 4 | 6): void {
  const log = ctx.opts.log;
  const r = ctx.secrets().spend(index);
  if (r === undefined) return;
  const name = r.door.name;
  if (r.kind === "error") {
    log.emit("secret-state", r.message, "LE", { door: name, src });
    return;
  }
  if (r.kind === "replay") {
    log.emit(
      "replay",
      `${ctx.who(src)}: ${name}: replayed sequence refused (step ${r.step}, slot ${r.slot})`,
      "LV",
      { door: name, src },
    );
    return;
  }
  const open = () => {
    ctx.counters.opens++;
    ctx.doorCount(name).opens++;
    log.emit("open", `${ctx.who(src)}: ${name}: OPEN SESAME`, "LV", { door: name, src });
    openDoor(ctx, r.door, src, family);
  };
  if (ctx.singleUse() !== undefined) claimThen(ctx, name, r.mark, src, open);
  else open();
}

/** Moves the secret doors' window: derivations one after another, and the step-boundary timer. */
export class SecretSteps {
  readonly #ctx: DaemonContext;
  #stepTimer: ReturnType<typeof setTimeout> | undefined;
  /** Serialises window refreshes (each derives asynchronously). */
  #refreshing: Promise<void> = Promise.resolve();

  /** @param ctx The daemon. */
  constructor(ctx: DaemonContext) {
    this.#ctx = ctx;
  }

  /**
   * Moves the secret doors' window to `nowMs`: derives the sequences of the steps now acceptable,
   * hands them to the matcher and rebuilds the capture filter.
   *
   * @param nowMs The time, ms.
   * @returns Settles when this derivation (and those before it) is done; never rejects.
   */
  refresh(nowMs: number): Promise<void> {
    const ctx = this.#ctx;
    const secrets = ctx.secrets();
    const next = this.#refreshing.then(async () => {
      if (!secrets.any) return;
      const changes = await secrets.window(Math.floor(nowMs / 1000));
      // A reload may have replaced the set while this one derived.
      if (secrets !== ctx.secrets() || changes.length === 0) return;
      for (const c of changes) {
        // null first: attempts on the step being replaced are dropped, not carried over.
        ctx.matcher().setSequence(c.index, null);
        ctx.matcher().setSequence(c.index, c.knocks);
      }
      ctx.refilter();
      ctx.opts.log.emit(
        "debug",
        `secret sequences: ${changes.length} derived, filter rebuilt`,
        "D",
      );
    }).catch((e) => {
      ctx.counters.internalErrors++;
      ctx.opts.log.emit(
        "internal",
        `Cannot derive secret sequences: ${e instanceof Error ? e.message : String(e)}`,
        "E",
      );
    });
    this.#refreshing = next;
    return next;
  }

  /** Re-arms the step-boundary timer of the secret doors (live sources). */
  schedule(): void {
    const ctx = this.#ctx;
    if (this.#stepTimer !== undefined) clearTimeout(this.#stepTimer);
    this.#stepTimer = undefined;
    if (!ctx.running()) return;
    const ms = ctx.secrets().untilNextStep(ctx.now());
    if (ms === undefined) return;
    // A few ms late, so that floor(now / step) has moved on.
    this.#stepTimer = setTimeout(() => {
      this.#stepTimer = undefined;
      void this.refresh(ctx.now()).then(() => this.schedule());
    }, Math.min(MAX_TIMER_MS, ms + 5));
  }

  /** Stops the step-boundary timer. */
  clear(): void {
    if (this.#stepTimer !== undefined) clearTimeout(this.#stepTimer);
    this.#stepTimer = undefined;
  }
}
