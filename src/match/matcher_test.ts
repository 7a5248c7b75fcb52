import assert from "node:assert/strict";
import type { Door, Knock } from "../config/model.ts";
import type { Packet } from "../wire/packet.ts";
import type { MatchEvent } from "./events.ts";
import { DEFAULT_MAX_ATTEMPTS, Matcher } from "./matcher.ts";
import { mulberry32 as rng } from "../../testing/prng.ts";
import { buildEthernet, buildIp } from "../wire/build.ts";
import { peekFrame } from "../wire/decode.ts";
import { FrameFields } from "../wire/fields.ts";

const SYN = 0x02;

function seq(text: string): Knock[] {
  return text.split(",").map((s) => {
    const [port, proto] = s.split(":");
    return { port: Number(port), protocol: proto === "udp" ? "udp" : "tcp" };
  });
}

function door(name: string, sequence: string, extra: Partial<Door> = {}): Door {
  return {
    name,
    line: 1,
    sequence: seq(sequence),
    seqTimeout: 25,
    cmdTimeout: 10,
    tcpFlags: {},
    ...extra,
  };
}

function k(
  t: number,
  src: string,
  port: number,
  protocol: "tcp" | "udp" = "tcp",
  flags = SYN,
): Packet {
  return {
    tsSec: t,
    tsUsec: 0,
    family: 4,
    src,
    dst: "192.0.2.1",
    protocol,
    srcPort: 40000,
    dstPort: port,
    tcpFlags: protocol === "tcp" ? flags : 0,
    wireLen: 60,
  };
}

const LOCAL = { localAddresses: ["192.0.2.1"] };

/** Events as knockd log lines; `removing ... knock attempt` debug lines (tested elsewhere) dropped. */
function lines(events: readonly MatchEvent[]): string[] {
  return events.filter((e) => e.kind !== "debug" || !e.message.startsWith("removing ")).map((e) =>
    e.kind === "debug"
      ? `D ${e.message}`
      : e.kind === "stage"
      ? `${e.src}: ${e.door.name}: Stage ${e.stage}`
      : e.kind === "open"
      ? `${e.src}: ${e.door.name}: OPEN SESAME`
      : `${e.src}: ${e.door.name}: sequence timeout (stage ${e.stage})`
  );
}

function floodSource(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

Deno.test("Matcher rejects a bad maxAttempts and a bad door index", () => {
  assert.throws(
    () => new Matcher([], { localAddresses: [], maxAttempts: 0 }),
    new RangeError(`Cannot create matcher: "maxAttempts" must be a positive integer, got "0"`),
  );
  assert.throws(
    () => new Matcher([], { localAddresses: [], maxAttempts: 1.5 }),
    new RangeError(`Cannot create matcher: "maxAttempts" must be a positive integer, got "1.5"`),
  );
  const m = new Matcher([door("A", "1")], LOCAL);
  assert.throws(
    () => m.setSequence(1, null),
    new RangeError(`Cannot set sequence of door "1": there are 1 doors`),
  );
  assert.equal(DEFAULT_MAX_ATTEMPTS, 65536);
});

Deno.test("Matcher: a first-port flood evicts only stage-1 attempts; a progressed knocker opens", () => {
  const m = new Matcher([door("A", "7000,8000,9000")], { ...LOCAL, maxAttempts: 4 });
  assert.deepEqual(lines(m.handle(k(100, "198.51.100.5", 7000))), ["198.51.100.5: A: Stage 1"]);
  assert.deepEqual(lines(m.handle(k(100, "198.51.100.5", 8000))), ["198.51.100.5: A: Stage 2"]);
  for (let i = 0; i < 100; i++) m.handle(k(100, floodSource(i), 7000));
  assert.equal(m.attemptCount, 4);
  assert.equal(m.evictions, 97);
  assert.equal(m.refusals, 0);
  assert.deepEqual(lines(m.handle(k(101, "198.51.100.5", 9000))), [
    "198.51.100.5: A: Stage 3",
    "198.51.100.5: A: OPEN SESAME",
  ]);
  // The three survivors are the newest flood attempts.
  assert.deepEqual(lines(m.handle(k(101, floodSource(96), 8000))), []);
  assert.deepEqual(lines(m.handle(k(101, floodSource(99), 8000))), [
    `${floodSource(99)}: A: Stage 2`,
  ]);
});

Deno.test("Matcher: eviction is reported as a debug event naming the victim", () => {
  const m = new Matcher([door("A", "7000,8000")], { ...LOCAL, maxAttempts: 1, debug: true });
  m.handle(k(100, "198.51.100.1", 7000));
  assert.deepEqual(lines(m.handle(k(100, "198.51.100.2", 7000))), [
    "D evicting knock attempt (198.51.100.1) for door A at stage 1: attempt table is full",
    "198.51.100.2: A: Stage 1",
  ]);
  assert.deepEqual(lines(m.handle(k(100, "198.51.100.1", 8000))), []);
});

Deno.test("Matcher refuses a new attempt rather than evict a progressed one", () => {
  const m = new Matcher([door("A", "7000,8000,9000")], { ...LOCAL, maxAttempts: 2, debug: true });
  for (const src of ["198.51.100.1", "198.51.100.2"]) {
    m.handle(k(100, src, 7000));
    m.handle(k(100, src, 8000));
  }
  assert.deepEqual(lines(m.handle(k(100, "198.51.100.3", 7000))), [
    "D cannot track knock attempt (198.51.100.3) for door A: all 2 tracked attempts are past stage 1",
  ]);
  assert.equal(m.refusals, 1);
  assert.equal(m.evictions, 0);
  assert.deepEqual(lines(m.handle(k(101, "198.51.100.2", 9000))), [
    "198.51.100.2: A: Stage 3",
    "198.51.100.2: A: OPEN SESAME",
  ]);
});

Deno.test("Matcher: single-knock doors never take a table slot", () => {
  const m = new Matcher([door("A", "7000,8000"), door("M", "5000:udp")], {
    ...LOCAL,
    maxAttempts: 1,
  });
  m.handle(k(100, "198.51.100.1", 7000));
  for (let i = 0; i < 5; i++) {
    assert.deepEqual(lines(m.handle(k(100, floodSource(i), 5000, "udp"))), [
      `${floodSource(i)}: M: Stage 1`,
      `${floodSource(i)}: M: OPEN SESAME`,
    ]);
  }
  assert.equal(m.evictions, 0);
  assert.deepEqual(lines(m.handle(k(100, "198.51.100.1", 8000))), [
    "198.51.100.1: A: Stage 2",
    "198.51.100.1: A: OPEN SESAME",
  ]);
});

Deno.test("Matcher.nextDeadline follows the earliest live attempt, one second of grace late", () => {
  const m = new Matcher([door("A", "7000,8000", { seqTimeout: 5 }), door("B", "6000,8000")], LOCAL);
  assert.equal(m.nextDeadline(), undefined);
  m.handle(k(100, "198.51.100.1", 6000));
  m.handle(k(102, "198.51.100.2", 7000));
  assert.equal(m.nextDeadline(), 108);
  m.handle(k(103, "198.51.100.2", 8000));
  assert.equal(m.nextDeadline(), 126);
  assert.deepEqual(lines(m.tick(125)), []);
  assert.deepEqual(lines(m.tick(126)), ["198.51.100.1: B: sequence timeout (stage 1)"]);
  assert.equal(m.nextDeadline(), undefined);
  assert.equal(m.attemptCount, 0);
});

Deno.test("Matcher: a capture clock that goes backwards expires each attempt on its own time", () => {
  const m = new Matcher([door("A", "7000,8000", { seqTimeout: 5 })], LOCAL);
  m.handle(k(5000, "198.51.100.1", 7000));
  m.handle(k(100, "198.51.100.2", 7000));
  assert.deepEqual(lines(m.tick(106)), ["198.51.100.2: A: sequence timeout (stage 1)"]);
  // knockd: now - seq_start < timeout, so the future-dated attempt is live and advances.
  assert.deepEqual(lines(m.handle(k(106, "198.51.100.1", 8000))), [
    "198.51.100.1: A: Stage 2",
    "198.51.100.1: A: OPEN SESAME",
  ]);
});

Deno.test("Matcher returns no events for packets the pre-filter drops, without sweeping", () => {
  const m = new Matcher([door("A", "7000,8000", { seqTimeout: 5 })], LOCAL);
  m.handle(k(100, "198.51.100.1", 7000));
  assert.deepEqual(m.handle(k(200, "198.51.100.9", 1234)), []);
  assert.equal(m.attemptCount, 1);
  assert.deepEqual(lines(m.handle(k(200, "198.51.100.9", 8000))), [
    "198.51.100.1: A: sequence timeout (stage 1)",
  ]);
});

// ---------------------------------------------------------------------------------------------
// Property: two real knockers always open, whatever noise from other sources is interleaved
// (knockd's docs/COMPATIBILITY.md B1 loses one of them whenever the oldest attempt is removed).

Deno.test("Matcher: 200 random interleavings of two real knockers and noise, both open", () => {
  const doors = [
    door("A", "7000,8000,9000", { seqTimeout: 10 }),
    door("B", "7000,5000:udp", { seqTimeout: 2 }),
    door("C", "9000,6000", { seqTimeout: 1, tcpFlags: { syn: "set" } }),
  ];
  const noisePorts = [7000, 8000, 9000, 6000, 1234];
  let noiseEvents = 0;
  for (let trial = 0; trial < 200; trial++) {
    const random = rng(trial + 1);
    const m = new Matcher(doors, { localAddresses: ["192.0.2.1"], maxAttempts: 64 });
    const queues: Packet[][] = [];
    for (const src of ["198.51.100.1", "198.51.100.2"]) {
      queues.push([7000, 8000, 9000].map((port) => k(0, src, port)));
    }
    const noise: Packet[] = [];
    const nNoise = Math.floor(random() * 40);
    for (let i = 0; i < nNoise; i++) {
      const src = `203.0.113.${1 + Math.floor(random() * 6)}`;
      const port = noisePorts[Math.floor(random() * noisePorts.length)] as number;
      const udp = random() < 0.3;
      noise.push(k(0, src, udp ? 5000 : port, udp ? "udp" : "tcp", random() < 0.8 ? SYN : 0x10));
    }
    queues.push(noise);
    const opened = new Set<string>();
    let t = 1000;
    while (queues.some((q) => q.length > 0)) {
      const live = queues.filter((q) => q.length > 0);
      const q = live[Math.floor(random() * live.length)] as Packet[];
      // Time advances up to 1 s per packet, but the real knockers finish within A's 10 s only if
      // the trial is short enough: cap the total at 9 s.
      if (random() < 0.2 && t < 1009) t++;
      const packet = { ...(q.shift() as Packet), tsSec: t };
      for (const e of m.handle(packet)) {
        if (e.kind === "open" && e.door.name === "A" && e.src.startsWith("198.")) opened.add(e.src);
        if (e.kind !== "debug" && e.src.startsWith("203.")) noiseEvents++;
      }
    }
    assert.deepEqual(
      [...opened].sort(),
      ["198.51.100.1", "198.51.100.2"],
      `trial ${trial} (seed ${trial + 1})`,
    );
  }
  // The noise really exercised the matcher (it starts, advances, opens and times out attempts).
  assert.ok(noiseEvents > 200, `only ${noiseEvents} noise events`);
});

Deno.test("Matcher creates no debug event without the debug option", () => {
  const doors = [door("A", "7000,8000", { tcpFlags: { syn: "set" } }), door("B", "7000")];
  for (const debug of [false, true]) {
    const m = new Matcher(doors, { ...LOCAL, maxAttempts: 1, debug });
    const kinds = [
      ...m.handle(k(100, "198.51.100.1", 7000)),
      ...m.handle(k(100, "198.51.100.1", 7000, "tcp", 0x10)),
      ...m.handle(k(100, "198.51.100.2", 7000)),
      ...m.handle(k(100, "198.51.100.1", 8000)),
      ...m.tick(200),
    ].filter((e) => e.kind === "debug").length;
    if (debug) assert.ok(kinds >= 4, `${kinds} debug events`);
    else assert.equal(kinds, 0);
  }
});

Deno.test("Matcher: the per-port door index gives the full scan's events, across rotations", () => {
  const base = [
    door("A", "7000,8000,9000", { seqTimeout: 5, tcpFlags: { syn: "set" } }),
    door("B", "7000,5000:udp", { seqTimeout: 3 }),
    door("C", "5000:udp,7000", { seqTimeout: 2, tcpFlags: { ack: "clear" } }),
    door("D", "8000,7000", { target: "192.0.2.9" }),
    door("E", "9000", { tcpFlags: { syn: "set", ack: "clear" } }),
  ];
  const ports = [5000, 7000, 8000, 9000, 6000];
  const rotations: (string | null)[] = ["6000,7000", "7000", null, "5000:udp,9000", "9000,8000"];
  let compared = 0;
  for (let trial = 0; trial < 100; trial++) {
    const random = rng(1000 + trial);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
    const options = { localAddresses: ["192.0.2.1"], maxAttempts: 6 };
    const quiet = new Matcher(base, options);
    const loud = new Matcher(base, { ...options, debug: true });
    let t = 100;
    for (let i = 0; i < 120; i++) {
      let a: readonly MatchEvent[];
      let b: readonly MatchEvent[];
      const r = random();
      if (r < 0.05) {
        const index = Math.floor(random() * base.length);
        const text = pick(rotations);
        quiet.setSequence(index, text === null ? null : seq(text));
        loud.setSequence(index, text === null ? null : seq(text));
        continue;
      } else if (r < 0.1) {
        a = quiet.tick(t + 1);
        b = loud.tick(t + 1);
      } else {
        if (random() < 0.3) t++;
        const udp = random() < 0.3;
        const packet: Packet = {
          ...k(t, `198.51.100.${1 + Math.floor(random() * 4)}`, pick(ports), udp ? "udp" : "tcp"),
          dst: random() < 0.8 ? "192.0.2.1" : "192.0.2.9",
          tcpFlags: udp ? 0 : pick([SYN, SYN, 0x10, 0x12, 0x01]),
        };
        a = quiet.handle(packet);
        b = loud.handle(packet);
      }
      assert.deepEqual(a.filter((e) => e.kind === "debug"), [], `trial ${trial} step ${i}`);
      assert.deepEqual(
        lines(a),
        lines(b.filter((e) => e.kind !== "debug")),
        `trial ${trial} step ${i}`,
      );
      compared += a.length;
    }
  }
  // The streams were not trivially empty.
  assert.ok(compared > 1000, `only ${compared} events compared`);
});

/** The kinds of a list of events. */
function kinds(events: readonly MatchEvent[]): string[] {
  return events.map((e) => e.kind);
}

/** The fields `peekFrame` would give for a packet (the fast path's input). */
function fieldsOf(p: Packet): FrameFields {
  const frame = buildEthernet(buildIp({ ...p, tcpFlags: p.tcpFlags }), p.family);
  const f = new FrameFields();
  assert.ok(peekFrame(1, frame, frame.length, p.tsSec, f));
  return f;
}

Deno.test("Matcher.wants declines only a packet that could change nothing", () => {
  const m = new Matcher(
    [door("a", "7000,8000,9000", { tcpFlags: { syn: "set" }, seqTimeout: 5 })],
    { localAddresses: ["192.0.2.1", "2001:db8::1"] },
  );
  const v6 = (t: number, port: number): Packet => ({
    ...k(t, "2001:db8::7", port),
    family: 6,
    dst: "2001:db8::1",
  });
  // Admitted by the pre-filter, but no attempt, no start on 8000, nothing due.
  assert.equal(m.wants(fieldsOf(k(100, "198.51.100.7", 8000))), false);
  // A port no door uses, or a flag the door refuses: the pre-filter drops it.
  assert.equal(m.wants(fieldsOf(k(100, "198.51.100.7", 1234))), false);
  assert.equal(m.wants(fieldsOf(k(100, "198.51.100.7", 8000, "tcp", 0x10))), false);
  // A door's first knock starts an attempt.
  assert.equal(m.wants(fieldsOf(k(100, "198.51.100.7", 7000))), true);
  assert.deepEqual(kinds(m.handle(k(100, "198.51.100.7", 7000))), ["stage"]);
  // The source has an attempt now: any admitted packet of it may advance or spoil it...
  assert.equal(m.wants(fieldsOf(k(101, "198.51.100.7", 9000))), true);
  // ... while another source's packet to the same port still changes nothing.
  assert.equal(m.wants(fieldsOf(k(101, "198.51.100.8", 9000))), false);
  // At the attempt's expiry second every admitted packet sweeps it.
  assert.equal(m.wants(fieldsOf(k(105, "198.51.100.8", 9000))), true);
  // IPv6: no IPv6 attempt yet, then one.
  assert.equal(m.wants(fieldsOf(v6(101, 8000))), false);
  assert.deepEqual(kinds(m.handle(v6(101, 7000))), ["stage"]);
  assert.equal(m.wants(fieldsOf(v6(102, 8000))), true);
  // With -D every admitted packet goes the full way (knockd's per-door debug lines).
  const debug = new Matcher([door("a", "7000,8000")], { ...LOCAL, debug: true });
  assert.equal(debug.wants(fieldsOf(k(100, "198.51.100.7", 8000))), true);
});

Deno.test("Matcher: a full table is told to onTableFull at most once a minute of capture time", () => {
  const told: string[] = [];
  const m = new Matcher([door("A", "7000,8000,9000")], {
    ...LOCAL,
    maxAttempts: 2,
    onTableFull: (w) => told.push(w),
  });
  for (let i = 0; i < 50; i++) m.handle(k(100, floodSource(i), 7000));
  assert.deepEqual(told, [
    "Evict the oldest knock attempts still at stage 1: 2 attempts are tracked (the limit)",
  ]);
  for (let i = 50; i < 60; i++) m.handle(k(159, floodSource(i), 7000));
  assert.equal(told.length, 1);
  for (const src of [floodSource(60), floodSource(61)]) {
    m.handle(k(159, src, 7000));
    m.handle(k(159, src, 8000));
  }
  assert.equal(told.length, 1);
  m.handle(k(160, floodSource(62), 7000));
  assert.deepEqual(told.slice(1), [
    "Refuse new knock attempts: all 2 tracked attempts are past stage 1 (the limit)",
  ]);
  assert.equal(m.refusals, 1);
});
