import assert from "node:assert/strict";
import type { Door } from "../config/model.ts";
import type { Packet } from "../wire/packet.ts";
import { Matcher } from "./matcher.ts";

const DOOR: Door = {
  name: "d",
  line: 1,
  sequence: [
    { port: 7000, protocol: "tcp" },
    { port: 8000, protocol: "tcp" },
    { port: 9000, protocol: "tcp" },
  ],
  seqTimeout: 25,
  cmdTimeout: 10,
  tcpFlags: {},
};

function hit(tsSec: number, src: string, dstPort: number): Packet {
  return {
    tsSec,
    tsUsec: 0,
    family: 4,
    src,
    dst: "192.0.2.1",
    protocol: "tcp",
    srcPort: 40000,
    dstPort,
    tcpFlags: 0x02,
    wireLen: 60,
  };
}

Deno.test("Matcher: maxStartsPerMinute caps one source's starts per minute, not others'", () => {
  const m = new Matcher([DOOR], { localAddresses: ["192.0.2.1"], maxStartsPerMinute: 2 });
  const starts = (t: number, src: string) =>
    m.handle(hit(t, src, 7000)).filter((e) => e.kind === "stage").length;
  // Each first knock after a wrong one starts a new attempt.
  const opened: number[] = [];
  for (let i = 0; i < 5; i++) {
    opened.push(starts(120 + i, "198.51.100.7"));
    m.handle(hit(120 + i, "198.51.100.7", 9000)); // 9000 is not the next step: the attempt ends
  }
  assert.deepEqual(opened, [1, 1, 0, 0, 0]);
  assert.equal(m.rateLimitDrops, 3);
  assert.equal(starts(125, "198.51.100.8"), 1, "another source is not limited");
  assert.equal(starts(180, "198.51.100.7"), 1, "a new minute starts a new count");
  assert.equal(m.invalidations, 2);
});

Deno.test("Matcher: without maxStartsPerMinute nothing is capped (knockd)", () => {
  const m = new Matcher([DOOR], { localAddresses: ["192.0.2.1"] });
  let stages = 0;
  for (let i = 0; i < 50; i++) {
    stages += m.handle(hit(60, "198.51.100.7", 7000)).filter((e) => e.kind === "stage").length;
    m.handle(hit(60, "198.51.100.7", 9000));
  }
  assert.equal(stages, 50);
  assert.equal(m.rateLimitDrops, 0);
  assert.equal(m.invalidations, 50);
});
