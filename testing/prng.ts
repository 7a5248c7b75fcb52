/**
 * A small seeded PRNG for reproducible random tests: every case is replayed from its seed.
 *
 * @module
 */

/**
 * mulberry32: 32 bits of state, uniform doubles in [0, 1).
 *
 * @param seed Any number; its low 32 bits are the state.
 * @returns A function that returns the next number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mulberry32 } from "./prng.ts";
 * const a = mulberry32(7), b = mulberry32(7);
 * assert.equal(a(), b(), "the same seed gives the same sequence");
 * ```
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
