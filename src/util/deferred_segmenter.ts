/**
 * Defers ICU's grapheme data until text is really measured. `@optique/core` builds an
 * `Intl.Segmenter` when its modules load (to measure help text in terminal columns); creating one
 * loads ICU's break-iterator data, ~2.5 MiB of resident memory in every knocktool process
 * (docs/PERFORMANCE.md, "Which modules cost what"), although `serve` prints help text only on a
 * usage error.
 *
 * Importing this module replaces `Intl.Segmenter` with {@link DeferredSegmenter}, which creates
 * the real segmenter on its first use; main.ts imports it before anything else and calls
 * {@link restoreSegmenter} once every module is loaded, so only segmenters made while modules load
 * are deferred and everything later gets the real constructor.
 *
 * @module
 */

const Real = Intl.Segmenter;

/** An `Intl.Segmenter` that creates the real one, with the same arguments, on its first use. */
export class DeferredSegmenter {
  readonly #args: ConstructorParameters<typeof Intl.Segmenter>;
  #real: Intl.Segmenter | undefined;

  /**
   * Keeps the arguments for later.
   *
   * @param args What `new Intl.Segmenter(...)` was given.
   */
  constructor(...args: ConstructorParameters<typeof Intl.Segmenter>) {
    this.#args = args;
  }

  /**
   * `Intl.Segmenter.prototype.segment`, on the real segmenter.
   *
   * @param input The text.
   * @returns Its segments.
   */
  segment(input: string): Intl.Segments {
    return this.#get().segment(input);
  }

  /**
   * `Intl.Segmenter.prototype.resolvedOptions`, on the real segmenter.
   *
   * @returns The options.
   */
  resolvedOptions(): Intl.ResolvedSegmenterOptions {
    return this.#get().resolvedOptions();
  }

  #get(): Intl.Segmenter {
    return this.#real ??= new Real(...this.#args);
  }
}

function install(ctor: unknown): void {
  Object.defineProperty(Intl, "Segmenter", { value: ctor, writable: true, configurable: true });
}

install(DeferredSegmenter);

/**
 * Puts the real `Intl.Segmenter` back; segmenters made before stay deferred.
 *
 * @example
 * ```ts
 * import { DeferredSegmenter, restoreSegmenter } from "./deferred_segmenter.ts";
 * const early = new Intl.Segmenter(undefined, { granularity: "grapheme" });
 * restoreSegmenter();
 * if (!(early instanceof DeferredSegmenter)) throw new Error("made while loading: deferred");
 * if ([...early.segment("ab")].length !== 2) throw new Error("two graphemes");
 * if (new Intl.Segmenter() instanceof DeferredSegmenter) throw new Error("later: the real one");
 * ```
 */
export function restoreSegmenter(): void {
  install(Real);
}
