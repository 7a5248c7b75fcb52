import assert from "node:assert/strict";
import { AttemptTable, NO_SLOT } from "./attempt_table.ts";
import { keyText, textKey } from "../wire/fields.ts";

let nextId = 1;

/** Adds an attempt of `src` and returns its slot. */
function add(
  t: AttemptTable,
  src: string,
  seqStart: number,
  seqTimeout = 25,
  stage = 1,
  doorIndex = 0,
): number {
  const family = src.includes(":") ? 6 : 4;
  return t.add(nextId++, textKey(src), family, doorIndex, seqStart, seqTimeout, stage);
}

/** The source's attempts in list order, as slots. */
function listOf(t: AttemptTable, src: string): number[] {
  const out: number[] = [];
  for (let s = t.first(textKey(src)); s !== NO_SLOT; s = t.next(s)) out.push(s);
  return out;
}

/** Who expired, as "src/door/stage". */
function names(expired: readonly { src: string; doorIndex: number; stage: number }[]): string[] {
  return expired.map((e) => `${e.src}/${e.doorIndex}/${e.stage}`);
}

Deno.test("AttemptTable indexes attempts by source in creation order", () => {
  const t = new AttemptTable(10);
  const a = add(t, "192.0.2.1", 100, 25, 1, 0);
  const b = add(t, "192.0.2.1", 100, 25, 1, 1);
  const c = add(t, "192.0.2.2", 100);
  const d = add(t, "192.0.2.1", 100, 25, 1, 2);
  assert.deepEqual(listOf(t, "192.0.2.1"), [a, b, d]);
  assert.equal(t.size, 4);
  t.remove(b);
  assert.deepEqual(listOf(t, "192.0.2.1"), [a, d]);
  t.remove(a);
  assert.deepEqual(listOf(t, "192.0.2.1"), [d]);
  // The list's last element is still known after its first was removed.
  const e = add(t, "192.0.2.1", 100, 25, 1, 3);
  assert.deepEqual(listOf(t, "192.0.2.1"), [d, e]);
  t.remove(e);
  t.remove(d);
  assert.equal(t.first(textKey("192.0.2.1")), NO_SLOT);
  assert.equal(t.has(textKey("192.0.2.1")), false);
  assert.deepEqual(t.slots(), [c]);
  assert.equal(t.src(c), "192.0.2.2");
});

Deno.test("AttemptTable keeps each attempt's fields and formats its source on demand", () => {
  const t = new AttemptTable(10);
  const s = t.add(7, textKey("2001:db8::7"), 6, 3, 100, 2.5, 2);
  assert.deepEqual(
    [t.id(s), t.src(s), t.family(s), t.doorIndex(s), t.stage(s), t.expiry(s)],
    [7, "2001:db8::7", 6, 3, 2, 103],
  );
  assert.equal(t.hasIpv6Sources, true);
  assert.equal(keyText(t.key(s)), "2001:db8::7");
  t.setStage(s, 3);
  assert.equal(t.stage(s), 3);
  t.remove(s);
  assert.equal(t.hasIpv6Sources, false);
});

Deno.test("AttemptTable.remove never drops other attempts (knockd B1)", () => {
  const t = new AttemptTable(10);
  const a = add(t, "192.0.2.1", 100);
  add(t, "192.0.2.2", 100);
  add(t, "192.0.2.3", 101);
  t.remove(a);
  assert.equal(t.size, 2);
  assert.deepEqual(names(t.expire(200)), ["192.0.2.2/0/1", "192.0.2.3/0/1"]);
});

Deno.test("AttemptTable.expire uses now >= seqStart + seqTimeout and returns creation order", () => {
  const t = new AttemptTable(10);
  add(t, "192.0.2.1", 95, 10); // due 105
  add(t, "192.0.2.2", 100, 3); // due 103
  assert.equal(t.nextDeadline(), 103);
  assert.deepEqual(t.expire(102), []);
  assert.deepEqual(names(t.expire(106)), ["192.0.2.1/0/1", "192.0.2.2/0/1"]);
  assert.equal(t.nextDeadline(), undefined);
});

Deno.test("AttemptTable.expire stays exact when the capture clock goes backwards", () => {
  const t = new AttemptTable(10);
  add(t, "192.0.2.1", 2000, 5);
  add(t, "192.0.2.2", 100, 5);
  assert.equal(t.nextDeadline(), 105);
  assert.deepEqual(names(t.expire(105)), ["192.0.2.2/0/1"]);
  assert.equal(t.nextDeadline(), 2005);
  assert.deepEqual(t.expire(1000), []);
  assert.deepEqual(names(t.expire(2005)), ["192.0.2.1/0/1"]);
});

Deno.test("AttemptTable.nextDeadline skips buckets emptied by removal", () => {
  const t = new AttemptTable(10);
  const a = add(t, "192.0.2.1", 100, 5);
  const b = add(t, "192.0.2.2", 101, 5);
  t.remove(a);
  assert.equal(t.nextDeadline(), 106);
  t.remove(b);
  assert.equal(t.nextDeadline(), undefined);
  assert.deepEqual(t.expire(1e9), []);
});

Deno.test("AttemptTable: attempts with an infinite timeout never expire", () => {
  const t = new AttemptTable(10);
  add(t, "192.0.2.1", 100, Infinity);
  assert.equal(t.nextDeadline(), undefined);
  assert.deepEqual(t.expire(1e12), []);
  assert.equal(t.size, 1);
});

Deno.test("AttemptTable.evictionCandidate is the oldest attempt still at stage 1", () => {
  const t = new AttemptTable(4);
  const a = add(t, "192.0.2.1", 100);
  const b = add(t, "192.0.2.2", 100);
  add(t, "192.0.2.3", 100, 25, 2);
  assert.equal(t.evictionCandidate(), a);
  t.setStage(a, 2);
  assert.equal(t.evictionCandidate(), b);
  t.remove(b);
  assert.equal(t.evictionCandidate(), NO_SLOT);
});

Deno.test("AttemptTable refuses to grow past its capacity", () => {
  const t = new AttemptTable(1);
  add(t, "192.0.2.1", 100);
  assert.equal(t.full, true);
  assert.throws(
    () => add(t, "192.0.2.2", 100),
    new RangeError("Cannot add knock attempt: the table is full (1)"),
  );
  assert.throws(
    () => new AttemptTable(0),
    new RangeError(
      `Cannot create attempt table: "maxAttempts" must be a positive integer, got "0"`,
    ),
  );
});

Deno.test("AttemptTable reuses freed slots and allocates at most its capacity", () => {
  const t = new AttemptTable(100);
  assert.equal(t.allocatedSlots, 0);
  const slots = Array.from({ length: 100 }, (_, i) => add(t, `10.0.0.${i}`, 100));
  assert.equal(t.allocatedSlots, 100);
  assert.deepEqual(new Set(slots).size, 100);
  for (const s of slots.slice(0, 50)) t.remove(s);
  for (let i = 0; i < 50; i++) add(t, `10.0.1.${i}`, 100);
  assert.equal(t.allocatedSlots, 100);
  assert.equal(t.size, 100);
  // Removing a free slot again changes nothing.
  t.remove(slots[60] as number);
  t.remove(slots[60] as number);
  assert.equal(t.size, 99);
});

Deno.test("AttemptTable: a large table expires exactly the due second's attempts per sweep", () => {
  const t = new AttemptTable(100_000);
  for (let i = 0; i < 50_000; i++) add(t, `10.0.${i >> 8}.${i & 255}`, 100 + (i % 10), 5);
  for (let now = 100; now <= 115; now++) {
    const out = t.expire(now);
    // Seconds 105..114 each hold 5,000 attempts; a sweep returns only those due now.
    assert.equal(out.length, now >= 105 && now <= 114 ? 5_000 : 0, `at ${now}`);
    for (const a of out) assert.equal(a.expiry, now);
    for (let i = 1; i < out.length; i++) assert.ok(out[i - 1]!.id < out[i]!.id);
  }
  assert.equal(t.size, 0);
  assert.equal(t.expiryIndexSize, 0);
});

Deno.test("AttemptTable: the expiry index stays bounded with a huge Seq_Timeout", () => {
  const t = new AttemptTable(8);
  const live: number[] = [];
  // One attempt per second for 20,000 seconds, each removed (completed) a few seconds later:
  // without freeing emptied buckets the index would hold one entry per second.
  for (let second = 0; second < 20_000; second++) {
    live.push(add(t, `10.0.${(second >> 8) & 255}.${second & 255}`, second, 2 ** 31 - 1));
    if (live.length > 4) t.remove(live.shift() as number);
    assert.ok(t.expiryIndexSize <= 3 * t.size + 64, `${t.expiryIndexSize} entries at ${second}`);
  }
  assert.equal(t.size, 4);
  assert.equal(t.nextDeadline(), 19_996 + 2 ** 31 - 1);
  assert.deepEqual(
    t.expire(2 ** 40).map((e) => e.src),
    ["10.0.78.28", "10.0.78.29", "10.0.78.30", "10.0.78.31"],
  );
});

Deno.test("AttemptTable: a bucket emptied and filled again still expires once", () => {
  const t = new AttemptTable(8);
  t.remove(add(t, "192.0.2.1", 100, 5));
  add(t, "192.0.2.2", 100, 5);
  assert.equal(t.nextDeadline(), 105);
  assert.deepEqual(names(t.expire(105)), ["192.0.2.2/0/1"]);
  assert.deepEqual(t.expire(106), []);
  assert.equal(t.nextDeadline(), undefined);
});
