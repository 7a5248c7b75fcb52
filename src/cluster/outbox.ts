/**
 * The cluster's outbox: what this node has to tell the fleet, held in memory until the
 * connection can take it. Writers never wait (docs/CLUSTER.md, "No head-of-line blocking"): they
 * put an entry and return. Entries are keyed (bucket and key), so a newer write to a key replaces
 * the older one; the count is bounded, and when it is full an entry is dropped and counted: the
 * oldest grant or presence record first (losing one only leaves a door closed elsewhere, and a
 * knock flood can make many), a revocation or single-use mark only when nothing else is left
 * (losing one would leave a door open elsewhere, or a sequence usable again). Revocations and
 * marks are also sent first.
 *
 * @module
 */

/** One pending write: a value to put, or a delete. */
export interface OutboxEntry {
  /** Which bucket: `grants`, `nodes`, or `used` (written with an atomic create). */
  readonly bucket: "grants" | "nodes" | "used";
  /** The key within the bucket. */
  readonly key: string;
  /** The value to put (JSON text), or undefined for a delete. */
  readonly value: string | undefined;
  /** Drop the entry unsent after this time (ms since the epoch): a grant that has expired. */
  readonly expires: number | undefined;
}

/** A bounded, keyed, first-in first-out queue of {@link OutboxEntry}. */
export class Outbox {
  readonly #limit: number;
  /** Revocations and single-use marks: sent first, dropped last. */
  readonly #kept = new Map<string, OutboxEntry>();
  /** Grants and presence records, oldest first. */
  readonly #spare = new Map<string, OutboxEntry>();
  #dropped = 0;

  /**
   * @param limit Most entries held; at least 1.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Outbox } from "./outbox.ts";
   * const box = new Outbox(2);
   * box.put({ bucket: "grants", key: "a", value: "1", expires: undefined });
   * box.put({ bucket: "grants", key: "b", value: "2", expires: undefined });
   * box.put({ bucket: "grants", key: "a", value: "3", expires: undefined });
   * assert.deepEqual(box.peek(0)?.key, "b");
   * box.put({ bucket: "grants", key: "c", value: "4", expires: undefined });
   * assert.equal(box.size, 2);
   * assert.equal(box.dropped, 1);
   * ```
   */
  constructor(limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new RangeError(
        `Cannot create outbox: "limit" must be a positive integer, got "${limit}"`,
      );
    }
    this.#limit = limit;
  }

  /** Entries waiting. */
  get size(): number {
    return this.#kept.size + this.#spare.size;
  }

  /** Entries dropped because the outbox was full, since it was made. */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Adds an entry; one for the same bucket and key is replaced (and moves to the end). When the
   * outbox is full, the oldest grant or presence record makes room, else the oldest revocation
   * or single-use mark.
   *
   * @param entry The write.
   * @returns True when an older entry had to be dropped to make room.
   */
  put(entry: OutboxEntry): boolean {
    const id = `${entry.bucket}\n${entry.key}`;
    this.#kept.delete(id);
    this.#spare.delete(id);
    let dropped = false;
    if (this.size >= this.#limit) {
      const from = this.#spare.size > 0 ? this.#spare : this.#kept;
      const oldest = from.keys().next();
      if (!oldest.done) from.delete(oldest.value);
      this.#dropped++;
      dropped = true;
    }
    const kept = entry.bucket === "used" ||
      (entry.bucket === "grants" && entry.value === undefined);
    (kept ? this.#kept : this.#spare).set(id, entry);
    return dropped;
  }

  /**
   * The next entry worth sending (revocations and single-use marks first, then the oldest
   * grant or presence record), without removing it; expired entries ahead of it are removed.
   *
   * @param now The time, ms since the epoch.
   * @returns The entry, or undefined when the outbox is empty.
   */
  peek(now: number): OutboxEntry | undefined {
    for (const map of [this.#kept, this.#spare]) {
      for (const [id, entry] of map) {
        if (entry.expires === undefined || entry.expires > now) return entry;
        map.delete(id);
      }
    }
    return undefined;
  }

  /**
   * Removes `entry` once it has been sent, unless a newer write to its key replaced it meanwhile.
   *
   * @param entry The entry {@link peek} returned.
   */
  done(entry: OutboxEntry): void {
    const id = `${entry.bucket}\n${entry.key}`;
    if (this.#kept.get(id) === entry) this.#kept.delete(id);
    if (this.#spare.get(id) === entry) this.#spare.delete(id);
  }
}
