/**
 * The client's secret-sequence options, shared by `knocktool sequence` and `knocktool knock`
 * (docs/SECRET-SEQUENCES.md): the secret file, the door, the door's parameters (which must match
 * the server's `Secret_*` directives) and the time and slot.
 *
 * @module
 */
import { message } from "@optique/core/message";
import { optional, withDefault } from "@optique/core/modifiers";
import { option } from "@optique/core/primitives";
import { choice, integer, string } from "@optique/core/valueparser";
import type { Knock, SecretParams, SecretProtocols } from "../config/model.ts";
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
  MAX_SECRET_LENGTH,
  SECRET_SLOTS,
  secretParamsProblem,
  secretStep,
} from "../match/secret_derive.ts";

/** The option parsers (spread into a command's `object`). */
export const secretOptionParsers = {
  door: optional(
    option("--door", string({ metavar: "NAME" }), {
      description: message`Door name, exactly as the section header in the server's config.`,
    }),
  ),
  length: withDefault(
    option("--length", integer({ min: 1, max: MAX_SECRET_LENGTH, metavar: "N" }), {
      description: message`Knocks per sequence (the door's ${"Secret_Length"}).`,
    }),
    DEFAULT_SECRET_LENGTH,
  ),
  portRange: withDefault(
    option("--ports", string({ metavar: "LOW-HIGH" }), {
      description: message`Port range (the door's ${"Secret_Ports"}).`,
    }),
    `${DEFAULT_SECRET_LOW}-${DEFAULT_SECRET_HIGH}`,
  ),
  step: withDefault(
    option("--step", integer({ min: 1, metavar: "SECONDS" }), {
      description: message`Seconds per time step (the door's ${"Secret_Step"}).`,
    }),
    DEFAULT_SECRET_STEP,
  ),
  protocols: withDefault(
    option("--protocols", choice(["tcp", "udp", "both"]), {
      description: message`Protocols (the door's ${"Secret_Protocols"}).`,
    }),
    "tcp" as const,
  ),
  at: optional(
    option("--at", integer({ min: 0, metavar: "UNIXTIME" }), {
      description: message`Derive for this Unix time instead of now.`,
    }),
  ),
  slot: optional(
    option("--slot", integer({ min: 0, max: SECRET_SLOTS - 1, metavar: "N" }), {
      description: message`Slot from 0 to 7 (default: a random one).`,
    }),
  ),
};

/** The parsed secret options. */
export interface SecretClientOptions {
  /** `--door NAME`. */
  readonly door?: string | undefined;
  /** `--length N`. */
  readonly length?: number;
  /** `--ports LOW-HIGH`. */
  readonly portRange?: string;
  /** `--step SECONDS`. */
  readonly step?: number;
  /** `--protocols`. */
  readonly protocols?: SecretProtocols;
  /** `--at UNIXTIME`. */
  readonly at?: number | undefined;
  /** `--slot N`. */
  readonly slot?: number | undefined;
}

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
