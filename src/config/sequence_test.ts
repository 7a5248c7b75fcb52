import assert from "node:assert/strict";
import { formatSequence, parsePortSequence } from "./sequence.ts";

Deno.test("parsePortSequence: knockd's edge cases (docs/COMPATIBILITY.md §2.4)", () => {
  const r = parsePortSequence("abc, -1 ,,  7:UdP , 8 : tcp,");
  assert(r.ok);
  assert.equal(formatSequence(r.knocks), "0:tcp,65535:tcp,0:tcp,7:udp,8:tcp,0:tcp");
  assert.deepEqual(r.notes, [
    { index: 0, text: "abc", kind: "junk", port: 0 },
    { index: 1, text: "-1", kind: "wrapped", port: 65535 },
    { index: 2, text: "", kind: "empty", port: 0 },
    { index: 5, text: "", kind: "empty", port: 0 },
  ]);
});

Deno.test("parsePortSequence: problems in knockd's order (port before protocol, count first)", () => {
  assert.deepEqual(parsePortSequence("70000:icmp"), {
    ok: false,
    problem: { kind: "invalid-port", portText: "70000", value: 70000 },
  });
  assert.deepEqual(parsePortSequence("1: icmp ,70000"), {
    ok: false,
    problem: { kind: "unknown-protocol", protocolText: " icmp", element: "1: icmp" },
  });
  const many = Array.from({ length: 32 }, (_, i) => i + 1).join(",");
  assert.equal(parsePortSequence(many).ok, true);
  assert.deepEqual(parsePortSequence(many + ",70000"), {
    ok: false,
    problem: { kind: "too-many" },
  });
});
