/**
 * Secret-derived knock sequences: the derivation of docs/SECRET-SEQUENCES.md, byte for byte.
 * HMAC-SHA-256 through WebCrypto; pure (no clock, no files): the caller gives the key, the door
 * name, the step and the slot.
 *
 * @module
 */
import type { Knock, Protocol, SecretParams } from "../config/model.ts";

/** The label that starts every message (docs/SECRET-SEQUENCES.md §2), ASCII. */
export const SECRET_LABEL = "knocktool-secret-sequence-v1";

/** Slots per step: a client picks one of 0..SECRET_SLOTS-1; the server accepts them all. */
export const SECRET_SLOTS = 8;

/** Steps the server accepts around its own: the previous, its own and the next. */
export const SECRET_SKEW_STEPS = 1;

/** Most knocks a sequence may have (knockd's limit, docs/COMPATIBILITY.md §2.4). */
export const MAX_SECRET_LENGTH = 32;

/** Blocks drawn before the derivation gives up (never reached with a sane port range). */
const MAX_BLOCKS = 4096;

const encoder = new TextEncoder();

/**
 * The time step of a Unix time: `floor(unixSec / stepSec)`.
 *
 * @param unixSec Seconds since the epoch.
 * @param stepSec Seconds per step (`Secret_Step`).
 * @returns The step number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { secretStep } from "./secret_derive.ts";
 * assert.equal(secretStep(1_700_000_029, 30), 56_666_667);
 * ```
 */
export function secretStep(unixSec: number, stepSec: number): number {
  return Math.floor(unixSec / stepSec);
}

/**
 * The HMAC message for one block (docs/SECRET-SEQUENCES.md §2): label, 0x00, door name length
 * (u16 BE), door name (UTF-8), step (u64 BE), slot (u16 BE), block counter (u32 BE).
 *
 * @param door The door name exactly as in the config's section header.
 * @param step The step number (≥ 0).
 * @param slot The slot, 0..{@link SECRET_SLOTS}-1.
 * @param counter The block counter, from 0.
 * @returns The message bytes.
 * @throws {RangeError} When a value does not fit its field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { secretMessage } from "./secret_derive.ts";
 * const m = secretMessage("ssh", 1, 2, 3);
 * assert.equal(m.length, 28 + 1 + 2 + 3 + 8 + 2 + 4);
 * assert.deepEqual([...m.slice(29, 34)], [0, 3, 0x73, 0x73, 0x68]);
 * ```
 */
export function secretMessage(
  door: string,
  step: number,
  slot: number,
  counter: number,
): Uint8Array {
  const name = encoder.encode(door);
  if (name.length > 0xffff) throw new RangeError(`Cannot derive: door name is too long`);
  if (!Number.isSafeInteger(step) || step < 0) {
    throw new RangeError(`Cannot derive: step "${step}" must be a non-negative integer`);
  }
  if (!Number.isInteger(slot) || slot < 0 || slot > 0xffff) {
    throw new RangeError(`Cannot derive: slot "${slot}" must be an integer from 0 to 65535`);
  }
  const label = encoder.encode(SECRET_LABEL);
  const out = new Uint8Array(label.length + 1 + 2 + name.length + 8 + 2 + 4);
  const view = new DataView(out.buffer);
  out.set(label, 0);
  let at = label.length;
  out[at++] = 0;
  view.setUint16(at, name.length);
  at += 2;
  out.set(name, at);
  at += name.length;
  view.setBigUint64(at, BigInt(step));
  at += 8;
  view.setUint16(at, slot);
  at += 2;
  view.setUint32(at, counter);
  return out;
}

/**
 * Imports a secret (the key bytes, see `secretKey` in src/config/secret_file.ts) as an
 * HMAC-SHA-256 key.
 *
 * @param key The key bytes.
 * @returns A WebCrypto key for signing.
 */
export function importSecretKey(key: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "raw",
    key as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
}

/**
 * Checks parameters as the derivation needs them; returns the problem in std's voice, or
 * undefined when they are usable.
 *
 * @param p The parameters.
 * @returns The problem, or undefined.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { secretParamsProblem } from "./secret_derive.ts";
 * const p = { length: 4, low: 7000, high: 7001, step: 30, protocols: "tcp" as const };
 * assert.equal(secretParamsProblem(p), `port range "7000-7001" has fewer than 4 ports`);
 * ```
 */
export function secretParamsProblem(p: SecretParams): string | undefined {
  if (!Number.isInteger(p.length) || p.length < 1 || p.length > MAX_SECRET_LENGTH) {
    return `length "${p.length}" must be an integer from 1 to ${MAX_SECRET_LENGTH}`;
  }
  if (!Number.isInteger(p.low) || !Number.isInteger(p.high) || p.low < 1 || p.high > 65535) {
    return `port range "${p.low}-${p.high}" must lie within 1-65535`;
  }
  if (p.high - p.low + 1 < p.length) {
    return `port range "${p.low}-${p.high}" has fewer than ${p.length} ports`;
  }
  if (!Number.isInteger(p.step) || p.step < 1) {
    return `step "${p.step}" must be a positive whole number of seconds`;
  }
  return undefined;
}

/**
 * Derives the sequence of one door, step and slot (docs/SECRET-SEQUENCES.md §3): 16-bit chunks of
 * the HMAC blocks, rejection sampling for an unbiased port, no port twice, and under `both` the
 * low bit of the next chunk for the protocol.
 *
 * @param key The HMAC key (see {@link importSecretKey}).
 * @param params Length, port range and protocols.
 * @param door The door name.
 * @param step The step number.
 * @param slot The slot.
 * @returns The knocks.
 * @throws {RangeError} When the parameters are unusable (see {@link secretParamsProblem}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deriveSequence, importSecretKey } from "./secret_derive.ts";
 * const key = await importSecretKey(new TextEncoder().encode("0123456789abcdef"));
 * const p = { length: 4, low: 1024, high: 65535, step: 30, protocols: "both" as const };
 * const seq = await deriveSequence(key, p, "ssh", 56_666_667, 0);
 * assert.equal(seq.length, 4);
 * assert.equal(new Set(seq.map((k) => k.port)).size, 4);
 * assert.deepEqual(await deriveSequence(key, p, "ssh", 56_666_667, 0), seq);
 * ```
 */
export async function deriveSequence(
  key: CryptoKey,
  params: SecretParams,
  door: string,
  step: number,
  slot: number,
): Promise<Knock[]> {
  const problem = secretParamsProblem(params);
  if (problem !== undefined) throw new RangeError(`Cannot derive a sequence: ${problem}`);
  const range = params.high - params.low + 1;
  const limit = 65536 - (65536 % range);
  let counter = 0;
  let block: DataView | undefined;
  let offset = 32;
  const next = async (): Promise<number> => {
    if (offset >= 32) {
      if (counter >= MAX_BLOCKS) {
        throw new RangeError(`Cannot derive a sequence: no result after ${MAX_BLOCKS} blocks`);
      }
      const mac = await crypto.subtle.sign(
        "HMAC",
        key,
        secretMessage(door, step, slot, counter++) as Uint8Array<ArrayBuffer>,
      );
      block = new DataView(mac);
      offset = 0;
    }
    const v = (block as DataView).getUint16(offset);
    offset += 2;
    return v;
  };
  const knocks: Knock[] = [];
  const used = new Set<number>();
  while (knocks.length < params.length) {
    const v = await next();
    if (v >= limit) continue;
    const port = params.low + (v % range);
    if (used.has(port)) continue;
    used.add(port);
    let protocol: Protocol = params.protocols === "udp" ? "udp" : "tcp";
    if (params.protocols === "both") protocol = ((await next()) & 1) === 0 ? "tcp" : "udp";
    knocks.push({ port, protocol });
  }
  return knocks;
}

/**
 * Formats knocks as `PORT:PROTO` words, the form `knocktool sequence` prints.
 *
 * @param knocks The sequence.
 * @returns The words joined by spaces.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sequenceWords } from "./secret_derive.ts";
 * assert.equal(sequenceWords([{ port: 7000, protocol: "udp" }]), "7000:udp");
 * ```
 */
export function sequenceWords(knocks: readonly Knock[]): string {
  return knocks.map((k) => `${k.port}:${k.protocol}`).join(" ");
}
