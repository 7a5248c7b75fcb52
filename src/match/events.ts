/**
 * What the matcher decides: a list of events per packet or per clock tick. The matcher never
 * logs, runs or sleeps; the server turns these into knockd's log lines and commands.
 *
 * @module
 */

import type { Door } from "../config/model.ts";
import type { Family } from "../wire/packet.ts";

/** A knock step was accepted: knockd logs `<src>: <door>: Stage <stage>`. */
export interface StageEvent {
  /** Discriminant. */
  readonly kind: "stage";
  /** The door, with its current sequence (a copy after a one-time rotation). */
  readonly door: Door;
  /** Index of the door in the config. */
  readonly doorIndex: number;
  /** The knocker's source address (canonical text). */
  readonly src: string;
  /** IP version of the packet that started the attempt. */
  readonly family: Family;
  /** 1-based number of knocks matched so far. */
  readonly stage: number;
}

/**
 * The sequence completed: knockd logs `<src>: <door>: OPEN SESAME`, then runs the start command
 * (and schedules the stop command), then rotates a one-time sequence.
 */
export interface OpenEvent {
  /** Discriminant. */
  readonly kind: "open";
  /** The door, with its current sequence (a copy after a one-time rotation). */
  readonly door: Door;
  /** Index of the door in the config. */
  readonly doorIndex: number;
  /** The knocker's source address (canonical text): `%IP%` in the commands. */
  readonly src: string;
  /** IP version of the knocks: selects `Start_Command_6`/`Stop_Command_6` for 6. */
  readonly family: Family;
}

/** An attempt expired: knockd logs `<src>: <door>: sequence timeout (stage <stage>)`. */
export interface TimeoutEvent {
  /** Discriminant. */
  readonly kind: "timeout";
  /** The door, with its current sequence (a copy after a one-time rotation). */
  readonly door: Door;
  /** Index of the door in the config. */
  readonly doorIndex: number;
  /** The knocker's source address (canonical text). */
  readonly src: string;
  /** IP version of the packet that started the attempt. */
  readonly family: Family;
  /** Number of knocks matched before the attempt expired. */
  readonly stage: number;
}

/**
 * Debug-only happenings (knockd's `-D` lines), e.g. `packet is not SYN, ignoring...`; produced
 * only when the matcher was created with `debug: true`.
 */
export interface DebugEvent {
  /** Discriminant. */
  readonly kind: "debug";
  /** knockd's `-D` text, without a trailing newline. */
  readonly message: string;
}

/** Anything the matcher reports. */
export type MatchEvent = StageEvent | OpenEvent | TimeoutEvent | DebugEvent;
