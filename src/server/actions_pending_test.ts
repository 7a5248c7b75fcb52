import assert from "node:assert/strict";
import { DoorActions, RecordingRunner } from "./actions.ts";
import { ServerLog } from "./log.ts";

Deno.test("DoorActions: pending stop commands are listed and can be run early, by address", async () => {
  const runner = new RecordingRunner();
  const actions = new DoorActions({ runner, log: new ServerLog() });
  const door = { name: "A", cmdTimeout: 600, startCommand: "open %IP%", stopCommand: "close %IP%" };
  const a = actions.open(door, "192.0.2.2", 4);
  const b = actions.open({ ...door, name: "B" }, "192.0.2.2", 4);
  const c = actions.open(door, "192.0.2.3", 4);
  await new Promise((r) => setTimeout(r, 10));
  const list = actions.pendingStopList();
  assert.deepEqual(list.map((p) => `${p.door} ${p.src}`), [
    "A 192.0.2.2",
    "B 192.0.2.2",
    "A 192.0.2.3",
  ]);
  assert.ok(list.every((p) => p.due - p.since === 600_000));
  assert.deepEqual(actions.firePendingStops("192.0.2.2", "B").map((p) => p.door), ["B"]);
  await b;
  assert.deepEqual(actions.firePendingStops("192.0.2.9"), []);
  assert.deepEqual(actions.firePendingStops("192.0.2.2").map((p) => p.door), ["A"]);
  await a;
  assert.deepEqual(actions.pendingStopList().map((p) => p.src), ["192.0.2.3"]);
  await actions.shutdown();
  await c;
  assert.deepEqual(runner.commands.filter((x) => x.startsWith("close")), [
    "close 192.0.2.2",
    "close 192.0.2.2",
    "close 192.0.2.3",
  ]);
});
