/**
 * The matcher's attempt store: knock attempts keyed by (source address, door) with constant work
 * per packet however many are live.
 *
 * - **By source**: a `Map` from the source's {@link SourceKey} (a number for IPv4, so a lookup
 *   neither formats nor allocates) to that source's attempts in creation order (knockd's step B
 *   only ever looks at one source).
 * - **By expiry**: attempts sit in buckets keyed by their expiry second (`seqStart +
 *   seqTimeout`), with a min-heap of bucket keys. An expiry sweep pops only due buckets, so it
 *   costs nothing when nothing is due, and stays exact if the capture clock goes backwards (an
 *   attempt expires when `now >= seqStart + seqTimeout`, exactly knockd's `now - seq_start >=
 *   seq_timeout`, whatever order attempts were created in). A bucket is deleted as soon as its
 *   last attempt leaves it, and the heap is rebuilt when most of its keys are stale, so the index
 *   holds O(attempts held) entries even with a huge `Seq_Timeout`.
 * - **By stage**: attempts still at stage 1 are kept in a FIFO list for eviction.
 *
 * Eviction policy (the table holds at most `capacity` attempts): a new attempt may only evict the
 * oldest attempt still at stage 1; if every tracked attempt has progressed past stage 1 the new
 * attempt is refused instead. A spoofed-source flood of first-port hits therefore only ever
 * displaces other stage-1 attempts (mostly its own), never a knocker who has sent a second correct
 * knock. Limits: a real knocker's attempt can still be evicted between its first and second knock
 * if more than `capacity` new attempts arrive in that gap; and a flood by someone who knows a
 * door's first two knocks can fill the table with progressed attempts, so new attempts are
 * refused until those expire (within the door's `Seq_Timeout`).
 *
 * @module
 */

import { type SourceKey, textKey } from "../wire/fields.ts";

/** One knock attempt: a source working through one door's sequence. */
export interface Attempt {
  /** Creation number; knockd's global attempt list is in creation order. */
  readonly id: number;
  /** Source address (canonical text). */
  readonly src: string;
  /** The source as a map key. */
  readonly key: SourceKey;
  /** IP version of the packet that created the attempt. */
  readonly family: 4 | 6;
  /** Index of the door in config order. */
  readonly doorIndex: number;
  /** Number of knocks matched so far. */
  stage: number;
  /** Capture second of the first knock. */
  readonly seqStart: number;
  /** First second at which the attempt has timed out (`seqStart + seqTimeout`, rounded up). */
  readonly expiry: number;
  /** @internal Expiry bucket links. */
  bucket: Bucket | null;
  /** @internal */
  bPrev: Attempt | null;
  /** @internal */
  bNext: Attempt | null;
  /** @internal Stage-1 list links; `inStage1` says whether the attempt is on that list. */
  inStage1: boolean;
  /** @internal */
  sPrev: Attempt | null;
  /** @internal */
  sNext: Attempt | null;
}

/** @internal A doubly linked list of attempts that expire in the same second. */
export interface Bucket {
  readonly expiry: number;
  head: Attempt | null;
  tail: Attempt | null;
}

/**
 * Creates an attempt record (not yet in any table).
 *
 * @param id Creation number (strictly increasing).
 * @param src Source address.
 * @param family IP version.
 * @param doorIndex Door index.
 * @param seqStart Capture second of the first knock.
 * @param seqTimeout The door's `Seq_Timeout` in seconds.
 * @param key The source's key (default: computed from `src`).
 * @returns The attempt at stage 0.
 */
export function newAttempt(
  id: number,
  src: string,
  family: 4 | 6,
  doorIndex: number,
  seqStart: number,
  seqTimeout: number,
  key: SourceKey = textKey(src),
): Attempt {
  return {
    id,
    src,
    key,
    family,
    doorIndex,
    stage: 0,
    seqStart,
    expiry: Math.ceil(seqStart + seqTimeout),
    bucket: null,
    bPrev: null,
    bNext: null,
    inStage1: false,
    sPrev: null,
    sNext: null,
  };
}

/**
 * The attempt store (see the module documentation for structure and eviction policy).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { AttemptTable, newAttempt } from "./attempt_table.ts";
 *
 * const table = new AttemptTable(10);
 * const attempt = newAttempt(1, "192.0.2.7", 4, 0, 100, 25);
 * attempt.stage = 1;
 * table.add(attempt);
 * assert.equal(table.nextDeadline(), 125);
 * assert.deepEqual(table.expire(124), []);
 * assert.deepEqual(table.expire(125), [attempt]);
 * assert.equal(table.size, 0);
 * ```
 */
export class AttemptTable {
  readonly #capacity: number;
  readonly #bySource = new Map<SourceKey, Attempt[]>();
  /** Sources in {@link #bySource} with an IPv6 key. */
  #v6Sources = 0;
  readonly #buckets = new Map<number, Bucket>();
  /**
   * Min-heap of bucket keys: every key of {@link #buckets} at least once, plus stale keys of
   * deleted buckets (skipped when popped; compacted by {@link #compactHeap}).
   */
  #heap: number[] = [];
  #s1Head: Attempt | null = null;
  #s1Tail: Attempt | null = null;
  #size = 0;

  /**
   * Creates an empty table.
   *
   * @param capacity Most attempts held at once.
   * @throws {RangeError} If `capacity` is not a positive integer.
   */
  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(
        `Cannot create attempt table: "maxAttempts" must be a positive integer, got "${capacity}"`,
      );
    }
    this.#capacity = capacity;
  }

  /** Number of attempts held. */
  get size(): number {
    return this.#size;
  }

  /**
   * Entries in the expiry index (buckets plus heap keys). It stays within a small multiple of
   * {@link size} (at most `3 * size + 64`), whatever the timeouts.
   */
  get expiryIndexSize(): number {
    return this.#buckets.size + this.#heap.length;
  }

  /** Whether the table is at capacity. */
  get full(): boolean {
    return this.#size >= this.#capacity;
  }

  /**
   * The attempts of one source in creation order (a live view: do not mutate; copy before
   * removing while iterating).
   *
   * @param key The source's key.
   * @returns The attempts, or undefined if the source has none.
   */
  forSource(key: SourceKey): readonly Attempt[] | undefined {
    return this.#bySource.get(key);
  }

  /** Whether any attempt has an IPv6 source (if not, no IPv6 key needs to be made). */
  get hasIpv6Sources(): boolean {
    return this.#v6Sources > 0;
  }

  /** Every attempt held, in no particular order (for rare whole-table operations). */
  *all(): IterableIterator<Attempt> {
    for (const list of this.#bySource.values()) yield* list;
  }

  /**
   * The attempt a new one would evict: the oldest attempt still at stage 1.
   *
   * @returns The victim, or undefined if every attempt has progressed past stage 1.
   */
  evictionCandidate(): Attempt | undefined {
    return this.#s1Head ?? undefined;
  }

  /**
   * Adds an attempt whose stage is already set (≥ 1). The caller makes room first.
   *
   * @param attempt The attempt.
   * @throws {RangeError} If the table is full.
   */
  add(attempt: Attempt): void {
    if (this.full) {
      throw new RangeError(`Cannot add knock attempt: the table is full (${this.#capacity})`);
    }
    const list = this.#bySource.get(attempt.key);
    if (list === undefined) {
      this.#bySource.set(attempt.key, [attempt]);
      if (typeof attempt.key === "string") this.#v6Sources++;
    } else list.push(attempt);
    if (Number.isFinite(attempt.expiry)) this.#bucketAdd(attempt);
    if (attempt.stage === 1) this.#s1Add(attempt);
    this.#size++;
  }

  /**
   * Records that an attempt advanced (its `stage` was incremented by the caller).
   *
   * @param attempt An attempt held by this table.
   */
  advanced(attempt: Attempt): void {
    if (attempt.inStage1 && attempt.stage !== 1) this.#s1Remove(attempt);
  }

  /**
   * Removes an attempt. Removing one never touches any other (knockd's docs/COMPATIBILITY.md B1 is
   * not reproduced).
   *
   * @param attempt An attempt held by this table.
   */
  remove(attempt: Attempt): void {
    const list = this.#bySource.get(attempt.key);
    if (list === undefined) return;
    const at = list.indexOf(attempt);
    if (at < 0) return;
    if (list.length === 1) {
      this.#bySource.delete(attempt.key);
      if (typeof attempt.key === "string") this.#v6Sources--;
    } else list.splice(at, 1);
    if (attempt.bucket !== null) this.#bucketRemove(attempt);
    if (attempt.inStage1) this.#s1Remove(attempt);
    this.#size--;
  }

  /**
   * Removes and returns every attempt with `expiry <= now`, in creation order.
   *
   * @param now Current capture second.
   * @returns The expired attempts.
   */
  expire(now: number): Attempt[] {
    const out: Attempt[] = [];
    let buckets = 0;
    while (this.#heap.length > 0 && (this.#heap[0] as number) <= now) {
      const key = this.#heapPop();
      const bucket = this.#buckets.get(key);
      this.#buckets.delete(key);
      if (bucket === undefined || bucket.head === null) continue;
      buckets++;
      // Unlink the bucket wholesale, then detach each attempt from the other indexes.
      for (let a: Attempt | null = bucket.head; a !== null;) {
        const next: Attempt | null = a.bNext;
        a.bucket = null;
        a.bPrev = null;
        a.bNext = null;
        out.push(a);
        this.remove(a);
        a = next;
      }
    }
    // Each bucket is in creation order already; several buckets need merging.
    if (buckets > 1) out.sort((x, y) => x.id - y.id);
    return out;
  }

  /**
   * The earliest second at which {@link expire} would return something.
   *
   * @returns That second, or undefined if no attempt can expire.
   */
  nextDeadline(): number | undefined {
    while (this.#heap.length > 0) {
      const key = this.#heap[0] as number;
      if (this.#buckets.has(key)) return key;
      // A stale key (its bucket emptied and was deleted).
      this.#heapPop();
    }
    return undefined;
  }

  #bucketAdd(a: Attempt): void {
    let bucket = this.#buckets.get(a.expiry);
    if (bucket === undefined) {
      bucket = { expiry: a.expiry, head: null, tail: null };
      this.#buckets.set(a.expiry, bucket);
      this.#heapPush(a.expiry);
    }
    a.bucket = bucket;
    a.bPrev = bucket.tail;
    a.bNext = null;
    if (bucket.tail === null) bucket.head = a;
    else bucket.tail.bNext = a;
    bucket.tail = a;
  }

  #bucketRemove(a: Attempt): void {
    const bucket = a.bucket as Bucket;
    if (a.bPrev === null) bucket.head = a.bNext;
    else a.bPrev.bNext = a.bNext;
    if (a.bNext === null) bucket.tail = a.bPrev;
    else a.bNext.bPrev = a.bPrev;
    a.bucket = null;
    a.bPrev = null;
    a.bNext = null;
    if (bucket.head === null) {
      this.#buckets.delete(bucket.expiry);
      this.#compactHeap();
    }
  }

  /** Rebuilds the heap from the live bucket keys once stale keys outnumber live ones. */
  #compactHeap(): void {
    if (this.#heap.length <= 2 * this.#buckets.size + 64) return;
    const keys = [...this.#buckets.keys()].sort((x, y) => x - y);
    // A sorted array is a valid min-heap.
    this.#heap = keys;
  }

  #s1Add(a: Attempt): void {
    a.inStage1 = true;
    a.sPrev = this.#s1Tail;
    a.sNext = null;
    if (this.#s1Tail === null) this.#s1Head = a;
    else this.#s1Tail.sNext = a;
    this.#s1Tail = a;
  }

  #s1Remove(a: Attempt): void {
    if (a.sPrev === null) this.#s1Head = a.sNext;
    else a.sPrev.sNext = a.sNext;
    if (a.sNext === null) this.#s1Tail = a.sPrev;
    else a.sNext.sPrev = a.sPrev;
    a.inStage1 = false;
    a.sPrev = null;
    a.sNext = null;
  }

  #heapPush(key: number): void {
    const h = this.#heap;
    let i = h.length;
    h.push(key);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pk = h[parent] as number;
      if (pk <= key) break;
      h[i] = pk;
      i = parent;
    }
    h[i] = key;
  }

  #heapPop(): number {
    const h = this.#heap;
    const top = h[0] as number;
    const last = h.pop() as number;
    if (h.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && (h[r] as number) < (h[l] as number) ? r : l;
      if ((h[c] as number) >= last) break;
      h[i] = h[c] as number;
      i = c;
    }
    h[i] = last;
    return top;
  }
}
