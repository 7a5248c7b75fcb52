/**
 * Tiny assertions for the server's tests (JSR's `@std/assert` is unreachable here).
 *
 * @module
 */

/**
 * Throws unless `actual` and `expected` have the same JSON form.
 *
 * @param actual The value under test.
 * @param expected The expected value.
 * @param msg Context for the failure message.
 * @throws {Error} When they differ.
 *
 * @example
 * ```ts
 * import { assertEquals } from "./_assert.ts";
 * assertEquals([1, "a"], [1, "a"]);
 * ```
 */
export function assertEquals(actual: unknown, expected: unknown, msg = ""): void {
  const a = JSON.stringify(actual, null, 1);
  const e = JSON.stringify(expected, null, 1);
  if (a !== e) {
    throw new Error(`Values differ${msg ? ` (${msg})` : ""}:\nactual:   ${a}\nexpected: ${e}`);
  }
}

/**
 * Throws unless `cond` is true.
 *
 * @param cond The condition.
 * @param msg What was expected.
 * @throws {Error} When `cond` is false.
 *
 * @example
 * ```ts
 * import { assert } from "./_assert.ts";
 * assert(1 + 1 === 2, "arithmetic");
 * ```
 */
export function assert(cond: boolean, msg = "assertion failed"): asserts cond {
  if (!cond) throw new Error(msg);
}
