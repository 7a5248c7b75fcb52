import assert from "node:assert/strict";
import {
  deriveSequence,
  importSecretKey,
  secretMessage,
  secretParamsProblem,
  secretStep,
  sequenceWords,
} from "./secret_derive.ts";
import {
  SECRET_VECTORS,
  VECTOR_BLOCK0,
  VECTOR_KEY,
  VECTOR_MESSAGE0,
} from "../../testing/secret_vectors.ts";

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("secret derive: every test vector of docs/SECRET-SEQUENCES.md §8", async () => {
  const key = await importSecretKey(new TextEncoder().encode(VECTOR_KEY));
  assert.equal(hex(secretMessage("ssh", 56666667, 0, 0)), VECTOR_MESSAGE0);
  const mac = await crypto.subtle.sign("HMAC", key, secretMessage("ssh", 56666667, 0, 0) as never);
  assert.equal(hex(new Uint8Array(mac)), VECTOR_BLOCK0);
  for (const v of SECRET_VECTORS) {
    const seq = await deriveSequence(key, v.params, v.door, v.step, v.slot);
    assert.equal(sequenceWords(seq), v.sequence);
  }
});

Deno.test("secret derive: slots, steps and doors give different sequences", async () => {
  const key = await importSecretKey(new TextEncoder().encode(VECTOR_KEY));
  const p = { length: 4, low: 1024, high: 65535, step: 30, protocols: "tcp" as const };
  const seen = new Set<string>();
  for (const door of ["ssh", "ssh2"]) {
    for (const step of [10, 11]) {
      for (let slot = 0; slot < 8; slot++) {
        seen.add(sequenceWords(await deriveSequence(key, p, door, step, slot)));
      }
    }
  }
  assert.equal(seen.size, 32);
});

Deno.test("secret derive: a range as small as the length yields each port once", async () => {
  const key = await importSecretKey(new TextEncoder().encode(VECTOR_KEY));
  const p = { length: 5, low: 9000, high: 9004, step: 30, protocols: "udp" as const };
  const seq = await deriveSequence(key, p, "d", 1, 0);
  assert.deepEqual(seq.map((k) => k.port).sort(), [9000, 9001, 9002, 9003, 9004]);
  assert.ok(seq.every((k) => k.protocol === "udp"));
});

Deno.test("secret derive: unusable parameters and fields are refused", async () => {
  const key = await importSecretKey(new TextEncoder().encode(VECTOR_KEY));
  const p = { length: 33, low: 1024, high: 65535, step: 30, protocols: "tcp" as const };
  await assert.rejects(
    () => deriveSequence(key, p, "d", 1, 0),
    new RangeError(`Cannot derive a sequence: length "33" must be an integer from 1 to 32`),
  );
  assert.equal(
    secretParamsProblem({ ...p, length: 4, low: 0 }),
    `port range "0-65535" must lie within 1-65535`,
  );
  assert.equal(
    secretParamsProblem({ ...p, length: 4, step: 0 }),
    `step "0" must be a positive whole number of seconds`,
  );
  assert.equal(secretParamsProblem({ ...p, length: 4 }), undefined);
  assert.throws(
    () => secretMessage("d", -1, 0, 0),
    new RangeError(`Cannot derive: step "-1" must be a non-negative integer`),
  );
  assert.throws(
    () => secretMessage("d", 1, 65536, 0),
    new RangeError(`Cannot derive: slot "65536" must be an integer from 0 to 65535`),
  );
});

Deno.test("secret derive: steps are floor(time / step)", () => {
  assert.equal(secretStep(59, 30), 1);
  assert.equal(secretStep(60, 30), 2);
  assert.equal(secretStep(0, 30), 0);
});
