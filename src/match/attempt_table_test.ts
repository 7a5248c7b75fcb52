import assert from "node:assert/strict";
import { type Attempt, AttemptTable, newAttempt } from "./attempt_table.ts";
import { textKey } from "../wire/fields.ts";

let nextId = 1;
function attempt(
  src: string,
  seqStart: number,
  seqTimeout = 25,
  stage = 1,
  doorIndex = 0,
): Attempt {
  const a = newAttempt(nextId++, src, 4, doorIndex, seqStart, seqTimeout);
  a.stage = stage;
  return a;
}

Deno.test("AttemptTable indexes attempts by source in creation order", () => {
  const t = new AttemptTable(10);
  const a = attempt("192.0.2.1", 100, 25, 1, 0);
  const b = attempt("192.0.2.1", 100, 25, 1, 1);
  const c = attempt("192.0.2.2", 100);
  t.add(a);
  t.add(b);
  t.add(c);
  assert.deepEqual(t.forSource(textKey("192.0.2.1")), [a, b]);
  assert.equal(t.size, 3);
  t.remove(a);
  assert.deepEqual(t.forSource(textKey("192.0.2.1")), [b]);
  t.remove(b);
  assert.equal(t.forSource(textKey("192.0.2.1")), undefined);
  assert.deepEqual([...t.all()], [c]);
});

Deno.test("AttemptTable.remove never drops other attempts (knockd B1)", () => {
  const t = new AttemptTable(10);
  const all = [attempt("192.0.2.1", 100), attempt("192.0.2.2", 100), attempt("192.0.2.3", 101)];
  for (const a of all) t.add(a);
  t.remove(all[0] as Attempt);
  assert.equal(t.size, 2);
  assert.deepEqual(t.expire(200), [all[1], all[2]]);
});

Deno.test("AttemptTable.expire uses now >= seqStart + seqTimeout and returns creation order", () => {
  const t = new AttemptTable(10);
  const long = attempt("192.0.2.1", 95, 10); // due 105
  const short = attempt("192.0.2.2", 100, 3); // due 103
  t.add(long);
  t.add(short);
  assert.equal(t.nextDeadline(), 103);
  assert.deepEqual(t.expire(102), []);
  assert.deepEqual(t.expire(106), [long, short]);
  assert.equal(t.nextDeadline(), undefined);
});

Deno.test("AttemptTable.expire stays exact when the capture clock goes backwards", () => {
  const t = new AttemptTable(10);
  const future = attempt("192.0.2.1", 2000, 5);
  const past = attempt("192.0.2.2", 100, 5);
  t.add(future);
  t.add(past);
  assert.equal(t.nextDeadline(), 105);
  assert.deepEqual(t.expire(105), [past]);
  assert.equal(t.nextDeadline(), 2005);
  assert.deepEqual(t.expire(1000), []);
  assert.deepEqual(t.expire(2005), [future]);
});

Deno.test("AttemptTable.nextDeadline skips buckets emptied by removal", () => {
  const t = new AttemptTable(10);
  const a = attempt("192.0.2.1", 100, 5);
  const b = attempt("192.0.2.2", 101, 5);
  t.add(a);
  t.add(b);
  t.remove(a);
  assert.equal(t.nextDeadline(), 106);
  t.remove(b);
  assert.equal(t.nextDeadline(), undefined);
  assert.deepEqual(t.expire(1e9), []);
});

Deno.test("AttemptTable: attempts with an infinite timeout never expire", () => {
  const t = new AttemptTable(10);
  t.add(attempt("192.0.2.1", 100, Infinity));
  assert.equal(t.nextDeadline(), undefined);
  assert.deepEqual(t.expire(1e12), []);
  assert.equal(t.size, 1);
});

Deno.test("AttemptTable.evictionCandidate is the oldest attempt still at stage 1", () => {
  const t = new AttemptTable(4);
  const a = attempt("192.0.2.1", 100);
  const b = attempt("192.0.2.2", 100);
  const c = attempt("192.0.2.3", 100, 25, 2);
  t.add(a);
  t.add(b);
  t.add(c);
  assert.equal(t.evictionCandidate(), a);
  a.stage = 2;
  t.advanced(a);
  assert.equal(t.evictionCandidate(), b);
  t.remove(b);
  assert.equal(t.evictionCandidate(), undefined);
});

Deno.test("AttemptTable refuses to grow past its capacity", () => {
  const t = new AttemptTable(1);
  t.add(attempt("192.0.2.1", 100));
  assert.equal(t.full, true);
  assert.throws(
    () => t.add(attempt("192.0.2.2", 100)),
    new RangeError("Cannot add knock attempt: the table is full (1)"),
  );
  assert.throws(
    () => new AttemptTable(0),
    new RangeError(
      `Cannot create attempt table: "maxAttempts" must be a positive integer, got "0"`,
    ),
  );
});

Deno.test("AttemptTable: a large table expires exactly the due second's attempts per sweep", () => {
  const t = new AttemptTable(100_000);
  for (let i = 0; i < 50_000; i++) t.add(attempt(`10.0.${i >> 8}.${i & 255}`, 100 + (i % 10), 5));
  for (let now = 100; now <= 115; now++) {
    const out = t.expire(now);
    // Seconds 105..114 each hold 5,000 attempts; a sweep returns only those due now.
    assert.equal(out.length, now >= 105 && now <= 114 ? 5_000 : 0, `at ${now}`);
    for (const a of out) assert.equal(a.expiry, now);
    for (let i = 1; i < out.length; i++) {
      assert.ok((out[i - 1] as Attempt).id < (out[i] as Attempt).id);
    }
  }
  assert.equal(t.size, 0);
  assert.equal(t.expiryIndexSize, 0);
});

Deno.test("AttemptTable: the expiry index stays bounded with a huge Seq_Timeout", () => {
  const t = new AttemptTable(8);
  const live: Attempt[] = [];
  // One attempt per second for 20,000 seconds, each removed (completed) a few seconds later:
  // without freeing emptied buckets the index would hold one entry per second.
  for (let second = 0; second < 20_000; second++) {
    const a = attempt(`10.0.${(second >> 8) & 255}.${second & 255}`, second, 2 ** 31 - 1);
    t.add(a);
    live.push(a);
    if (live.length > 4) t.remove(live.shift() as Attempt);
    assert.ok(t.expiryIndexSize <= 3 * t.size + 64, `${t.expiryIndexSize} entries at ${second}`);
  }
  assert.equal(t.size, 4);
  assert.equal(t.nextDeadline(), 19_996 + 2 ** 31 - 1);
  assert.deepEqual(t.expire(2 ** 40), live);
});

Deno.test("AttemptTable: a bucket emptied and filled again still expires once", () => {
  const t = new AttemptTable(8);
  const a = attempt("192.0.2.1", 100, 5);
  t.add(a);
  t.remove(a);
  const b = attempt("192.0.2.2", 100, 5);
  t.add(b);
  assert.equal(t.nextDeadline(), 105);
  assert.deepEqual(t.expire(105), [b]);
  assert.deepEqual(t.expire(106), []);
  assert.equal(t.nextDeadline(), undefined);
});
