/**
 * The client's secret-sequence options as optique parsers, shared by `knocktool sequence` and
 * `knocktool knock` (docs/SECRET-SEQUENCES.md); `_secret_options.ts` derives the sequence from
 * them. Every command line loads this module, through `knock_args.ts` and `sequence_args.ts`.
 *
 * @module
 */
import { message } from "@optique/core/message";
import { optional, withDefault } from "@optique/core/modifiers";
import { option } from "@optique/core/primitives";
import { choice, integer, string } from "@optique/core/valueparser";
import type { SecretProtocols } from "../config/model.ts";
import {
  DEFAULT_SECRET_HIGH,
  DEFAULT_SECRET_LENGTH,
  DEFAULT_SECRET_LOW,
  DEFAULT_SECRET_STEP,
} from "../config/defaults.ts";
import { MAX_SECRET_LENGTH, SECRET_SLOTS } from "../match/secret_derive.ts";

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
