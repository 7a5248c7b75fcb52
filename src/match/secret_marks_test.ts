import assert from "node:assert/strict";
import { UsedMarks } from "./secret_marks.ts";

Deno.test("used marks: JSON round trip, pruning per door, bad input refused", () => {
  const m = new UsedMarks();
  m.add("ssh", 12, 7);
  m.add("ssh", 10, 0);
  m.add("web", 3, 1);
  const json = m.toJSON();
  assert.deepEqual(json, { version: 1, used: { ssh: { 10: [0], 12: [7] }, web: { 3: [1] } } });
  const back = UsedMarks.fromJSON(JSON.parse(JSON.stringify(json)));
  assert.ok(back instanceof UsedMarks);
  assert.ok(back.has("ssh", 12, 7) && back.has("web", 3, 1) && !back.has("ssh", 12, 6));
  back.prune("ssh", 11);
  assert.deepEqual(back.toJSON().used, { ssh: { 12: [7] }, web: { 3: [1] } });
  assert.ok(UsedMarks.fromJSON(undefined) instanceof UsedMarks);
  assert.deepEqual(UsedMarks.fromJSON([]), { error: `expected {"version": 1, "used": {...}}` });
  assert.deepEqual(UsedMarks.fromJSON({ version: 1, used: { ssh: { x: [1] } } }), {
    error: `bad step "x" of "ssh"`,
  });
  assert.deepEqual(UsedMarks.fromJSON({ version: 1, used: { ssh: { 5: ["a"] } } }), {
    error: `bad slot in step "5" of "ssh"`,
  });
});

Deno.test("used marks: rename merges one name's marks into another; names lists them", () => {
  const m = new UsedMarks();
  m.add("old", 5, 1);
  m.add("new", 5, 2);
  m.rename("old", "new");
  m.rename("absent", "new");
  assert.deepEqual(m.names(), ["new"]);
  assert.deepEqual(m.toJSON(), { version: 1, used: { new: { 5: [1, 2] } } });
});
