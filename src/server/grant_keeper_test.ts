import assert from "node:assert/strict";
import { DoorActions, RecordingRunner, type Timers } from "./actions.ts";
import { type GrantDoor, GrantKeeper } from "./grant_keeper.ts";
import { GrantState } from "./grant_state.ts";
import { ServerLog } from "./log.ts";
import type { SetWriter } from "./nft_sets.ts";
import type { NftSetRef } from "../config/model.ts";

/** Timers driven by hand: `advance(ms)` fires what falls due. */
class FakeClock implements Timers {
  now = 1_000_000;
  #next = 0;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();
  set(fn: () => void, ms: number): unknown {
    const id = ++this.#next;
    this.#timers.set(id, { at: this.now + ms, fn });
    return id;
  }
  clear(id: unknown): void {
    this.#timers.delete(id as number);
  }
  async advance(ms: number): Promise<void> {
    this.now += ms;
    for (const [id, t] of [...this.#timers].sort((a, b) => a[1].at - b[1].at)) {
      if (t.at <= this.now && this.#timers.delete(id)) t.fn();
    }
    await new Promise((r) => setTimeout(r, 0));
  }
}

class FakeSets implements SetWriter {
  readonly calls: string[] = [];
  add(ref: NftSetRef, address: string, timeoutSec: number): string | undefined {
    this.calls.push(`add ${ref.set} ${address} ${timeoutSec}`);
    return undefined;
  }
  remove(ref: NftSetRef, address: string): string | undefined {
    this.calls.push(`remove ${ref.set} ${address}`);
    return undefined;
  }
}

const SET: NftSetRef = { family: "inet", table: "kt", set: "allow4", line: 3 };
const CMD_DOOR: GrantDoor = {
  name: "ssh",
  cmdTimeout: 10,
  startCommand: "open %IP%",
  stopCommand: "close %IP%",
};

function setup(stateDir?: string) {
  const clock = new FakeClock();
  const runner = new RecordingRunner();
  const log = new ServerLog();
  const actions = new DoorActions({ runner, log, timers: clock });
  const sets = new FakeSets();
  const keeper = new GrantKeeper({
    actions,
    log,
    sets,
    timers: clock,
    now: () => clock.now,
    ...(stateDir !== undefined ? { state: new GrantState(stateDir) } : {}),
  });
  return { clock, runner, actions, sets, keeper };
}

Deno.test("GrantKeeper: a refresh moves the stop command, which then runs once", async () => {
  const { clock, runner, actions, keeper } = setup();
  assert.equal(keeper.open(CMD_DOOR, "192.0.2.2", 4), "opened");
  await clock.advance(8_000);
  assert.equal(keeper.open(CMD_DOOR, "192.0.2.2", 4), "refreshed");
  await clock.advance(8_000); // 16 s after the first open, 8 s after the refresh
  assert.deepEqual(runner.commands, ["open 192.0.2.2"]);
  assert.equal(keeper.list().length, 1);
  await clock.advance(2_000);
  await actions.idle();
  assert.deepEqual(runner.commands, ["open 192.0.2.2", "close 192.0.2.2"]);
  assert.equal(keeper.list().length, 0);
  assert.deepEqual(
    { ...keeper.counters },
    {
      opened: 1,
      refreshed: 1,
      expired: 1,
      revoked: 0,
      cooldownSkips: 0,
      setErrors: 0,
      stateErrors: 0,
    },
  );
});

Deno.test("GrantKeeper: set grants refresh the element and revoke removes it", async () => {
  const { sets, keeper, runner } = setup();
  const door: GrantDoor = { name: "web", cmdTimeout: 30, nftSet: SET };
  assert.equal(keeper.open(door, "192.0.2.2", 4), "opened");
  assert.equal(keeper.open(door, "192.0.2.2", 4, { forSec: 60 }), "refreshed");
  assert.equal(keeper.open(door, "2001:db8::2", 6), "nothing", "no Nft_Set_6, no command");
  assert.deepEqual(keeper.revoke("192.0.2.2").map((g) => g.door), ["web"]);
  assert.deepEqual(keeper.revoke("192.0.2.2"), []);
  assert.deepEqual(sets.calls, [
    "add allow4 192.0.2.2 30",
    "add allow4 192.0.2.2 60",
    "remove allow4 192.0.2.2",
  ]);
  assert.deepEqual(runner.commands, []);
  await keeper.shutdown();
});

Deno.test("GrantKeeper: cooldown keeps the start command from running again", async () => {
  const { clock, runner, actions, keeper } = setup();
  const door: GrantDoor = { name: "udp", cmdTimeout: 1, startCommand: "hit %IP%", cooldown: 60 };
  // Each hit comes after the 1 s grant has ended: only the cooldown keeps the command back.
  for (let i = 0; i < 50; i++) {
    keeper.open(door, "192.0.2.2", 4);
    await clock.advance(1_100);
  }
  await actions.idle();
  assert.deepEqual(runner.commands, ["hit 192.0.2.2"]);
  assert.equal(keeper.counters.cooldownSkips, 49);
  await clock.advance(10_000);
  assert.equal(keeper.open(door, "192.0.2.2", 4), "opened");
  await actions.idle();
  assert.deepEqual(runner.commands, ["hit 192.0.2.2", "hit 192.0.2.2"]);
  await keeper.shutdown();
});

Deno.test("GrantKeeper: the state file is written before the start command; restore runs overdue stops", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const a = setup(dir);
    let seenAtStart = "";
    const runner = new RecordingRunner((cmd) => {
      if (cmd.startsWith("open")) seenAtStart = Deno.readTextFileSync(`${dir}/grants.json`);
    });
    const keeper = new GrantKeeper({
      actions: new DoorActions({ runner, log: new ServerLog(), timers: a.clock }),
      log: new ServerLog(),
      timers: a.clock,
      now: () => a.clock.now,
      state: new GrantState(dir),
    });
    keeper.open(CMD_DOOR, "192.0.2.2", 4);
    keeper.open({ ...CMD_DOOR, name: "later", cmdTimeout: 100 }, "192.0.2.3", 4);
    await new Promise((r) => setTimeout(r, 0));
    assert.match(seenAtStart, /"stop":"close 192\.0\.2\.2"/);
    // "Crash": a new keeper reads the file 20 s later.
    const b = setup(dir);
    b.clock.now = a.clock.now + 20_000;
    assert.deepEqual(b.keeper.restore(), { ranStops: 1, rescheduled: 1 });
    await b.actions.idle();
    assert.deepEqual(b.runner.commands, ["close 192.0.2.2"]);
    assert.deepEqual(b.keeper.list().map((g) => `${g.door} ${g.address} ${g.via}`), [
      "later 192.0.2.3 restored",
    ]);
    await b.clock.advance(80_000);
    await b.actions.idle();
    assert.deepEqual(b.runner.commands, ["close 192.0.2.2", "close 192.0.2.3"]);
    const stored = JSON.parse(Deno.readTextFileSync(`${dir}/grants.json`));
    assert.deepEqual(stored, { version: 1, grants: [] });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("GrantKeeper: a set grant is written off the event loop; a newer write is never replaced by it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { clock, keeper } = setup(dir);
    const setDoor: GrantDoor = { name: "web", cmdTimeout: 30, nftSet: SET };
    assert.equal(keeper.open(setDoor, "192.0.2.7", 4), "opened");
    await clock.advance(100); // the coalesced write starts, off the loop
    // A command grant is written at once (synchronously) while that write is in progress; the
    // older write, which has only 192.0.2.7, must not replace the file when it ends.
    assert.equal(keeper.open(CMD_DOOR, "192.0.2.8", 4), "opened");
    await new Promise((r) => setTimeout(r, 100));
    const addresses = () =>
      JSON.parse(Deno.readTextFileSync(`${dir}/grants.json`)).grants.map(
        (g: { address: string }) => g.address,
      );
    assert.deepEqual(addresses(), ["192.0.2.7", "192.0.2.8"]);
    await keeper.shutdown(); // closes the command grant
    assert.deepEqual(addresses(), ["192.0.2.7"]);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["grants.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("GrantKeeper: the coalesced write off the loop lands in the file", async () => {
  const dir = await Deno.makeTempDir();
  const { clock, keeper } = setup(dir);
  try {
    assert.equal(
      keeper.open({ name: "web", cmdTimeout: 30, nftSet: SET }, "192.0.2.9", 4),
      "opened",
    );
    await clock.advance(100);
    const text = () => {
      try {
        return Deno.readTextFileSync(`${dir}/grants.json`);
      } catch {
        return ""; // not written yet
      }
    };
    for (let i = 0; i < 400 && !text().includes("192.0.2.9"); i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const stored = JSON.parse(text());
    assert.deepEqual(stored.grants.map((g: { address: string }) => g.address), ["192.0.2.9"]);
  } finally {
    await keeper.shutdown(); // waits for a write still in progress
    await Deno.remove(dir, { recursive: true });
  }
});
