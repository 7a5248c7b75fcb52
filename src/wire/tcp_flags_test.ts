import assert from "node:assert/strict";
import {
  formatStepFlags,
  parseStepFlags,
  parseTportknockdFlags,
  SIX_FLAGS_MASK,
  stepFlagsMatch,
  TCP_FLAG_BITS,
  TCP_FLAG_NAMES,
  TCP_FLAGS,
} from "./tcp_flags.ts";

Deno.test("tcp_flags: one table: names, bits and the header byte agree", () => {
  assert.deepEqual(TCP_FLAG_NAMES.map((n) => TCP_FLAG_BITS[n]), [1, 2, 4, 8, 16, 32]);
  assert.deepEqual(
    TCP_FLAG_NAMES.map((n) => TCP_FLAGS[n.toUpperCase() as keyof typeof TCP_FLAGS]),
    [1, 2, 4, 8, 16, 32],
  );
  assert.equal(SIX_FLAGS_MASK, 0x3f);
});

Deno.test("tcp_flags: the notation round-trips every one of the 64 flag sets", () => {
  for (let bits = 0; bits < 64; bits++) {
    const text = formatStepFlags(bits);
    assert.deepEqual(parseStepFlags(text), { ok: true, flags: bits }, text);
  }
  assert.deepEqual(parseStepFlags(" Syn + ACK "), { ok: true, flags: 0x12 });
  assert.deepEqual(parseStepFlags("syn+syn"), { ok: true, flags: 0x02 });
});

Deno.test("tcp_flags: notation errors name the bad part", () => {
  assert.deepEqual(parseStepFlags("syn+ece"), {
    ok: false,
    error:
      `unknown TCP flag "ece" in "syn+ece" (use fin, syn, rst, psh, ack, urg joined by "+", or "none", or "any")`,
  });
  assert.deepEqual(parseStepFlags("syn,ack"), {
    ok: false,
    error:
      `unknown TCP flag "syn,ack" in "syn,ack" (use fin, syn, rst, psh, ack, urg joined by "+", or "none", or "any")`,
  });
  assert.equal(parseStepFlags("").ok, false);
  assert.equal(parseStepFlags("syn+").ok, false);
});

Deno.test("tcp_flags: a step matches exactly its six flags; ECE and CWR are not compared", () => {
  assert.equal(stepFlagsMatch(0, 0), true);
  assert.equal(stepFlagsMatch(0, 0xc0), true);
  assert.equal(stepFlagsMatch(0, 0x10), false);
  assert.equal(stepFlagsMatch(0x29, 0x29), true);
  assert.equal(stepFlagsMatch(0x29, 0x2b), false);
  assert.equal(stepFlagsMatch(0x29, 0x28), false);
  for (let b = 0; b < 256; b++) assert.equal(stepFlagsMatch("any", b), true);
});

Deno.test("tcp_flags: tportknockd's letters", () => {
  const flags = (t: string) => {
    const r = parseTportknockdFlags(t);
    return r.ok ? r.flags : r.error;
  };
  assert.equal(flags("f"), 0x01);
  assert.equal(flags("s"), 0x02);
  assert.equal(flags("r"), 0x04);
  assert.equal(flags("p"), 0x08);
  assert.equal(flags("a"), 0x10);
  assert.equal(flags("u"), 0x20);
  assert.equal(flags("frap"), 0x1d);
  assert.equal(flags("up"), 0x28);
  assert.equal(flags("x"), 0x3f);
  assert.equal(flags("xs"), 0x3f);
  assert.equal(flags("n"), 0);
  assert.equal(flags("i"), "any");
  assert.equal(flags("sn"), `flag "n" in "sn" must stand alone`);
  assert.equal(flags("ii"), `flag "i" in "ii" must stand alone`);
  assert.equal(flags("S"), `unknown flag "S" in "S" (use letters from fsrpauxni)`);
  assert.equal(flags(""), "flags are empty (use letters from fsrpauxni)");
});
