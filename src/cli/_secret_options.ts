/**
 * Derives the sequence the client's secret-sequence options ask for, for the runners of
 * `knocktool sequence` and `knocktool knock` (docs/SECRET-SEQUENCES.md): the secret file, the
 * door, the door's parameters (which must match the server's `Secret_*` directives) and the time
 * and slot. The options' parsers are in `_secret_args.ts`.
 *
 * @module
 */
import type { Knock, SecretParams } from "../config/model.ts";
import type { SecretClientOptions } from "./_secret_args.ts";
import { readSecretFile } from "../config/secret_file.ts";
import {
  DEFAULT_SECRET_HIGH,
  DEFAULT_SECRET_LENGTH,
  DEFAULT_SECRET_LOW,
  DEFAULT_SECRET_STEP,
} from "../config/defaults.ts";
import { parseSecretPorts } from "../config/secret_directives.ts";
import {
  deriveSequence,
  importSecretKey,
  SECRET_SLOTS,
  secretParamsProblem,
  secretStep,
} from "../match/secret_derive.ts";

/** What {@link clientSequence} derived. */
export interface ClientSequence {
  /** The knocks. */
  readonly knocks: Knock[];
  /** The step used. */
  readonly step: number;
  /** The slot used. */
  readonly slot: number;
}

/**
 * Reads the secret and derives the sequence the options ask for.
 *
 * @param file The secret file.
 * @param o The options.
 * @param now Wall clock in ms (default `Date.now`).
 * @returns The sequence, or an error message in std's voice.
 */
export async function clientSequence(
  file: string,
  o: SecretClientOptions,
  now: () => number = Date.now,
): Promise<ClientSequence | { error: string }> {
  if (o.door === undefined) return { error: `Cannot derive a sequence: give the door with --door` };
  const range = parseSecretPorts(o.portRange ?? `${DEFAULT_SECRET_LOW}-${DEFAULT_SECRET_HIGH}`);
  if ("error" in range) return { error: `Cannot use --ports "${o.portRange}": ${range.error}` };
  const params: SecretParams = {
    length: o.length ?? DEFAULT_SECRET_LENGTH,
    low: range.low,
    high: range.high,
    step: o.step ?? DEFAULT_SECRET_STEP,
    protocols: o.protocols ?? "tcp",
  };
  const problem = secretParamsProblem(params);
  if (problem !== undefined) return { error: `Cannot derive a sequence: ${problem}` };
  const secret = readSecretFile(file, o.door);
  if (!secret.ok) return { error: secret.message };
  const step = secretStep(o.at ?? Math.floor(now() / 1000), params.step);
  const slot = o.slot ?? crypto.getRandomValues(new Uint8Array(1))[0]! % SECRET_SLOTS;
  const key = await importSecretKey(secret.key);
  return { knocks: await deriveSequence(key, params, o.door, step, slot), step, slot };
}
