/**
 * The matcher's attempt store: knock attempts keyed by (source, door) with constant work per packet
 * however many are live, kept as a struct of typed arrays (one slot per attempt, freed slots on a
 * free list) rather than an object per attempt: about 90 bytes per attempt instead of ~330
 * (docs/PERFORMANCE.md, "The attempt table"). An attempt is named by its slot number while it
 * lives; a slot is reused only after {@link AttemptTable.remove} or {@link AttemptTable.expire}.
 *
 * - **By source**: a `Map` from the source's {@link SourceKey} (a number for IPv4, so a lookup
 *   neither formats nor allocates) to the first of that source's attempts; the others follow in
 *   creation order through `srcNext` (knockd's step B only ever looks at one source).
 * - **By expiry**: attempts sit in buckets keyed by their expiry second (`seqStart +
 *   seqTimeout`), with a min-heap of bucket keys. An expiry sweep pops only due buckets, so it
 *   costs nothing when nothing is due, and stays exact if the capture clock goes backwards (an
 *   attempt expires when `now >= seqStart + seqTimeout`, exactly knockd's `now - seq_start >=
 *   seq_timeout`, whatever order attempts were created in). A bucket is freed as soon as its last
 *   attempt leaves it, and the heap is rebuilt when most of its keys are stale, so the index
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
 * The arrays start small and double as attempts arrive, up to `capacity` slots; they do not
 * shrink.
 *
 * Over 400 lines because the three indexes share the slot arrays and must be updated together on
 * every add and remove; splitting them would spread one invariant over several files.
 *
 * @module
 */

import { keyText, type SourceKey } from "../wire/fields.ts";

/** No slot (end of a list, or no attempt). */
export const NO_SLOT = -1;

/** What {@link AttemptTable.expire} returns for each expired attempt. */
export interface ExpiredAttempt {
  /** Creation number. */
  readonly id: number;
  /** Source address (canonical text). */
  readonly src: string;
  /** IP version of the packet that created the attempt. */
  readonly family: 4 | 6;
  /** Index of the door in config order. */
  readonly doorIndex: number;
  /** Knocks matched before it expired. */
  readonly stage: number;
  /** The second it expired at (`seqStart + seqTimeout`, rounded up). */
  readonly expiry: number;
}

const INITIAL_SLOTS = 64;

/**
 * The attempt store (see the module documentation for structure and eviction policy).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { AttemptTable } from "./attempt_table.ts";
 * import { textKey } from "../wire/fields.ts";
 *
 * const table = new AttemptTable(10);
 * const slot = table.add(1, textKey("192.0.2.7"), 4, 0, 100, 25, 1);
 * assert.equal(table.src(slot), "192.0.2.7");
 * assert.equal(table.nextDeadline(), 125);
 * assert.deepEqual(table.expire(124), []);
 * assert.deepEqual(table.expire(125).map((a) => a.src), ["192.0.2.7"]);
 * assert.equal(table.size, 0);
 * ```
 */
export class AttemptTable {
  readonly #capacity: number;
  #slots = 0;
  /** Creation number per slot. */
  #id = new Float64Array(0);
  #expiry = new Float64Array(0);
  /** Door index per slot; {@link NO_SLOT} for a free slot. */
  #door = new Int32Array(0);
  #stage = new Int32Array(0);
  /** IP version per slot (4 or 6). */
  #family = new Uint8Array(0);
  /** Whether the slot is on the stage-1 list. */
  #inStage1 = new Uint8Array(0);
  #keys: SourceKey[] = [];
  /** Per-source list (creation order); `#srcLast` is valid at the list's first slot only. */
  #srcNext = new Int32Array(0);
  #srcPrev = new Int32Array(0);
  #srcLast = new Int32Array(0);
  /** Expiry bucket links; `#bucketOf` is the bucket number, {@link NO_SLOT} when in none. */
  #bucketOf = new Int32Array(0);
  #bNext = new Int32Array(0);
  #bPrev = new Int32Array(0);
  /** Stage-1 list links. */
  #sNext = new Int32Array(0);
  #sPrev = new Int32Array(0);
  /** Free slots, a stack (next free slot per free slot). */
  #freeHead = NO_SLOT;
  /** Slots ever used: slots at or above are free and not on the free list. */
  #highWater = 0;
  readonly #bySource = new Map<SourceKey, number>();
  /** Sources in {@link #bySource} with an IPv6 key. */
  #v6Sources = 0;
  /** Expiry second → bucket number. */
  readonly #buckets = new Map<number, number>();
  #bHead: number[] = [];
  #bTail: number[] = [];
  #bExpiry: number[] = [];
  #bFree: number[] = [];
  /**
   * Min-heap of bucket keys: every key of {@link #buckets} at least once, plus stale keys of
   * freed buckets (skipped when popped; compacted by {@link #compactHeap}).
   */
  #heap: number[] = [];
  #s1Head = NO_SLOT;
  #s1Tail = NO_SLOT;
  #size = 0;

  /**
   * Creates an empty table.
   *
   * @param capacity Most attempts held at once.
   * @throws {RangeError} If `capacity` is not a positive integer.
   */
  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1 || capacity > 2 ** 30) {
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

  /** Slots allocated (the arrays' length): at most the capacity. */
  get allocatedSlots(): number {
    return this.#slots;
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

  /** Whether any attempt has an IPv6 source (if not, no IPv6 key needs to be made). */
  get hasIpv6Sources(): boolean {
    return this.#v6Sources > 0;
  }

  /**
   * The first attempt of a source; the others follow through {@link next}, in creation order.
   *
   * @param key The source's key.
   * @returns Its slot, or {@link NO_SLOT} if the source has no attempt.
   */
  first(key: SourceKey): number {
    return this.#bySource.get(key) ?? NO_SLOT;
  }

  /**
   * Whether a source has an attempt.
   *
   * @param key The source's key.
   * @returns True if it has one.
   */
  has(key: SourceKey): boolean {
    return this.#bySource.has(key);
  }

  /**
   * The next attempt of the same source (read it before removing `slot`).
   *
   * @param slot A live attempt.
   * @returns The next one's slot, or {@link NO_SLOT}.
   */
  next(slot: number): number {
    return this.#srcNext[slot] as number;
  }

  /** Creation number of a live attempt. */
  id(slot: number): number {
    return this.#id[slot] as number;
  }

  /** Door index of a live attempt. */
  doorIndex(slot: number): number {
    return this.#door[slot] as number;
  }

  /** Knocks matched so far by a live attempt. */
  stage(slot: number): number {
    return this.#stage[slot] as number;
  }

  /** IP version of a live attempt's source. */
  family(slot: number): 4 | 6 {
    return this.#family[slot] === 6 ? 6 : 4;
  }

  /** Expiry second of a live attempt (`Infinity` when it never expires). */
  expiry(slot: number): number {
    return this.#expiry[slot] as number;
  }

  /** Source key of a live attempt. */
  key(slot: number): SourceKey {
    return this.#keys[slot] as SourceKey;
  }

  /** Source address of a live attempt, formatted (canonical text). */
  src(slot: number): string {
    return keyText(this.#keys[slot] as SourceKey);
  }

  /** Every live attempt's slot, in no particular order (for rare whole-table operations). */
  slots(): number[] {
    const out: number[] = [];
    for (let s = 0; s < this.#highWater; s++) if (this.#door[s] !== NO_SLOT) out.push(s);
    return out;
  }

  /**
   * The attempt a new one would evict: the oldest attempt still at stage 1.
   *
   * @returns Its slot, or {@link NO_SLOT} if every attempt has progressed past stage 1.
   */
  evictionCandidate(): number {
    return this.#s1Head;
  }

  /**
   * Adds an attempt (the caller makes room first).
   *
   * @param id Creation number (strictly increasing).
   * @param key The source's key.
   * @param family IP version.
   * @param doorIndex Door index (≥ 0).
   * @param seqStart Capture second of the first knock.
   * @param seqTimeout The door's `Seq_Timeout` in seconds.
   * @param stage Knocks matched so far (≥ 1).
   * @returns The attempt's slot.
   * @throws {RangeError} If the table is full.
   */
  add(
    id: number,
    key: SourceKey,
    family: 4 | 6,
    doorIndex: number,
    seqStart: number,
    seqTimeout: number,
    stage: number,
  ): number {
    if (this.full) {
      throw new RangeError(`Cannot add knock attempt: the table is full (${this.#capacity})`);
    }
    let slot = this.#freeHead;
    if (slot !== NO_SLOT) {
      this.#freeHead = this.#srcNext[slot] as number;
    } else {
      if (this.#highWater === this.#slots) this.#grow();
      slot = this.#highWater++;
    }
    const expiry = Math.ceil(seqStart + seqTimeout);
    this.#id[slot] = id;
    this.#expiry[slot] = expiry;
    this.#door[slot] = doorIndex;
    this.#stage[slot] = stage;
    this.#family[slot] = family;
    this.#keys[slot] = key;
    this.#srcNext[slot] = NO_SLOT;
    const head = this.#bySource.get(key);
    if (head === undefined) {
      this.#bySource.set(key, slot);
      if (typeof key === "string") this.#v6Sources++;
      this.#srcPrev[slot] = NO_SLOT;
      this.#srcLast[slot] = slot;
    } else {
      const last = this.#srcLast[head] as number;
      this.#srcNext[last] = slot;
      this.#srcPrev[slot] = last;
      this.#srcLast[head] = slot;
    }
    this.#bucketOf[slot] = NO_SLOT;
    if (Number.isFinite(expiry)) this.#bucketAdd(slot, expiry);
    this.#inStage1[slot] = 0;
    if (stage === 1) this.#s1Add(slot);
    this.#size++;
    return slot;
  }

  /**
   * Sets a live attempt's stage (an advance); it leaves the stage-1 list once past stage 1.
   *
   * @param slot A live attempt.
   * @param stage The new stage.
   */
  setStage(slot: number, stage: number): void {
    this.#stage[slot] = stage;
    if (this.#inStage1[slot] === 1 && stage !== 1) this.#s1Remove(slot);
  }

  /**
   * Removes a live attempt and frees its slot. Removing one never touches any other (knockd's
   * docs/COMPATIBILITY.md B1 is not reproduced).
   *
   * @param slot A live attempt.
   */
  remove(slot: number): void {
    if (slot < 0 || slot >= this.#highWater || this.#door[slot] === NO_SLOT) return;
    const key = this.#keys[slot] as SourceKey;
    const prev = this.#srcPrev[slot] as number;
    const next = this.#srcNext[slot] as number;
    if (prev === NO_SLOT) {
      // The source's first attempt: the next one (if any) becomes first.
      if (next === NO_SLOT) {
        this.#bySource.delete(key);
        if (typeof key === "string") this.#v6Sources--;
      } else {
        this.#bySource.set(key, next);
        this.#srcPrev[next] = NO_SLOT;
        this.#srcLast[next] = this.#srcLast[slot] as number;
      }
    } else {
      this.#srcNext[prev] = next;
      if (next !== NO_SLOT) this.#srcPrev[next] = prev;
      else this.#srcLast[this.#bySource.get(key) as number] = prev;
    }
    if (this.#bucketOf[slot] !== NO_SLOT) this.#bucketRemove(slot);
    if (this.#inStage1[slot] === 1) this.#s1Remove(slot);
    this.#door[slot] = NO_SLOT;
    this.#keys[slot] = 0;
    this.#srcNext[slot] = this.#freeHead;
    this.#freeHead = slot;
    this.#size--;
  }

  /**
   * Removes every attempt with `expiry <= now` and describes them, in creation order.
   *
   * @param now Current capture second.
   * @returns The expired attempts.
   */
  expire(now: number): ExpiredAttempt[] {
    const out: ExpiredAttempt[] = [];
    let buckets = 0;
    while (this.#heap.length > 0 && (this.#heap[0] as number) <= now) {
      const key = this.#heapPop();
      const bucket = this.#buckets.get(key);
      if (bucket === undefined) continue;
      buckets++;
      // Detach the bucket wholesale first, then remove each attempt from the other indexes.
      let slot = this.#bHead[bucket] as number;
      this.#bucketFree(bucket);
      while (slot !== NO_SLOT) {
        const next = this.#bNext[slot] as number;
        this.#bucketOf[slot] = NO_SLOT;
        out.push({
          id: this.#id[slot] as number,
          src: this.src(slot),
          family: this.family(slot),
          doorIndex: this.#door[slot] as number,
          stage: this.#stage[slot] as number,
          expiry: this.#expiry[slot] as number,
        });
        this.remove(slot);
        slot = next;
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
      // A stale key (its bucket emptied and was freed).
      this.#heapPop();
    }
    return undefined;
  }

  /** Doubles the slot arrays (up to the capacity). */
  #grow(): void {
    const n = Math.min(this.#capacity, Math.max(INITIAL_SLOTS, this.#slots * 2));
    const f64 = (a: Float64Array) => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    const i32 = (a: Int32Array) => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    const u8 = (a: Uint8Array) => {
      const b = new Uint8Array(n);
      b.set(a);
      return b;
    };
    this.#id = f64(this.#id);
    this.#expiry = f64(this.#expiry);
    this.#door = i32(this.#door);
    this.#door.fill(NO_SLOT, this.#slots);
    this.#stage = i32(this.#stage);
    this.#family = u8(this.#family);
    this.#inStage1 = u8(this.#inStage1);
    this.#srcNext = i32(this.#srcNext);
    this.#srcPrev = i32(this.#srcPrev);
    this.#srcLast = i32(this.#srcLast);
    this.#bucketOf = i32(this.#bucketOf);
    this.#bNext = i32(this.#bNext);
    this.#bPrev = i32(this.#bPrev);
    this.#sNext = i32(this.#sNext);
    this.#sPrev = i32(this.#sPrev);
    this.#slots = n;
  }

  #bucketAdd(slot: number, expiry: number): void {
    let bucket = this.#buckets.get(expiry);
    if (bucket === undefined) {
      bucket = this.#bFree.pop() ?? this.#bHead.length;
      this.#bHead[bucket] = NO_SLOT;
      this.#bTail[bucket] = NO_SLOT;
      this.#bExpiry[bucket] = expiry;
      this.#buckets.set(expiry, bucket);
      this.#heapPush(expiry);
    }
    const tail = this.#bTail[bucket] as number;
    this.#bucketOf[slot] = bucket;
    this.#bPrev[slot] = tail;
    this.#bNext[slot] = NO_SLOT;
    if (tail === NO_SLOT) this.#bHead[bucket] = slot;
    else this.#bNext[tail] = slot;
    this.#bTail[bucket] = slot;
  }

  #bucketRemove(slot: number): void {
    const bucket = this.#bucketOf[slot] as number;
    const prev = this.#bPrev[slot] as number;
    const next = this.#bNext[slot] as number;
    if (prev === NO_SLOT) this.#bHead[bucket] = next;
    else this.#bNext[prev] = next;
    if (next === NO_SLOT) this.#bTail[bucket] = prev;
    else this.#bPrev[next] = prev;
    this.#bucketOf[slot] = NO_SLOT;
    if (this.#bHead[bucket] === NO_SLOT) {
      this.#bucketFree(bucket);
      this.#compactHeap();
    }
  }

  /** Forgets a bucket (its key may stay in the heap, stale). */
  #bucketFree(bucket: number): void {
    this.#buckets.delete(this.#bExpiry[bucket] as number);
    this.#bHead[bucket] = NO_SLOT;
    this.#bTail[bucket] = NO_SLOT;
    this.#bFree.push(bucket);
  }

  /** Rebuilds the heap from the live bucket keys once stale keys outnumber live ones. */
  #compactHeap(): void {
    if (this.#heap.length <= 2 * this.#buckets.size + 64) return;
    const keys = [...this.#buckets.keys()].sort((x, y) => x - y);
    // A sorted array is a valid min-heap.
    this.#heap = keys;
  }

  #s1Add(slot: number): void {
    this.#inStage1[slot] = 1;
    this.#sPrev[slot] = this.#s1Tail;
    this.#sNext[slot] = NO_SLOT;
    if (this.#s1Tail === NO_SLOT) this.#s1Head = slot;
    else this.#sNext[this.#s1Tail] = slot;
    this.#s1Tail = slot;
  }

  #s1Remove(slot: number): void {
    const prev = this.#sPrev[slot] as number;
    const next = this.#sNext[slot] as number;
    if (prev === NO_SLOT) this.#s1Head = next;
    else this.#sNext[prev] = next;
    if (next === NO_SLOT) this.#s1Tail = prev;
    else this.#sPrev[next] = prev;
    this.#inStage1[slot] = 0;
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
