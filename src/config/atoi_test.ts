import assert from "node:assert/strict";
import { atoi, readAtoi } from "./atoi.ts";

Deno.test("atoi reads like glibc: spaces, sign, digits, junk", () => {
  assert.equal(atoi(""), 0);
  assert.equal(atoi("   "), 0);
  assert.equal(atoi("\t\v\f\r\n 42"), 42);
  assert.equal(atoi("+7"), 7);
  assert.equal(atoi("-7x"), -7);
  assert.equal(atoi("- 7"), 0);
  assert.equal(atoi("0x10"), 0);
  assert.equal(atoi("\u00a07"), 0); // no-break space is not isspace() in the C locale
  assert.equal(atoi("00000000000000000000000000012"), 12);
});

Deno.test("atoi saturates at 64 bits, then keeps the low 32", () => {
  assert.equal(atoi("2147483647"), 2147483647);
  assert.equal(atoi("2147483648"), -2147483648);
  assert.equal(atoi("4294967296"), 0);
  assert.equal(atoi("9223372036854775807"), -1);
  assert.equal(atoi("9223372036854775808"), -1);
  assert.equal(atoi("-9223372036854775809"), 0);
  assert.equal(atoi("9".repeat(100_000)), -1);
});

Deno.test("readAtoi notes empty, junk and overflow", () => {
  assert.deepEqual(readAtoi(" "), { value: 0, empty: true, junk: false, overflow: false });
  assert.deepEqual(readAtoi(" x"), { value: 0, empty: false, junk: true, overflow: false });
  assert.deepEqual(readAtoi("5 "), { value: 5, empty: false, junk: false, overflow: false });
  assert.deepEqual(readAtoi("5 6"), { value: 5, empty: false, junk: true, overflow: false });
  assert.deepEqual(readAtoi("-1"), { value: -1, empty: false, junk: false, overflow: false });
  assert.deepEqual(readAtoi("70000000000"), {
    value: 1280523264,
    empty: false,
    junk: false,
    overflow: true,
  });
});
