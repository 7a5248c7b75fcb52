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

Deno.test("parsePortSequence: a TCP step's third field in the notation is its flags", () => {
  const r = parsePortSequence("7000:tcp:syn, 110:TCP:FIN+urg+psh,110:tcp:none,110:tcp:any,8000");
  assert(r.ok);
  assert.deepEqual(r.knocks, [
    { port: 7000, protocol: "tcp", flags: 0x02 },
    { port: 110, protocol: "tcp", flags: 0x29 },
    { port: 110, protocol: "tcp", flags: 0 },
    { port: 110, protocol: "tcp", flags: "any" },
    { port: 8000, protocol: "tcp" },
  ]);
  assert.deepEqual(r.suffixes, []);
  assert.equal(
    formatSequence(r.knocks),
    "7000:tcp:syn,110:tcp:fin+psh+urg,110:tcp:none,110:tcp:any,8000:tcp",
  );
});

Deno.test("parsePortSequence: other third fields are ignored as knockd ignores them", () => {
  const r = parsePortSequence("1:tcp:udp,2:udp:x,3:udp:syn,4:tcp:syn:ack,5:tcp:syb");
  assert(r.ok);
  assert.deepEqual(r.knocks.map((k) => k.flags), [
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
  ]);
  assert.deepEqual(r.suffixes, [
    { index: 0, text: "udp" },
    { index: 1, text: "x" },
    { index: 2, text: "syn" },
    { index: 3, text: "syn:ack" },
    { index: 4, text: "syb" },
  ]);
});
