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
  readonly kind: "stage";
  readonly door: Door;
  /** Index of the door in the config. */
  readonly doorIndex: number;
  readonly src: string;
  readonly family: Family;
  /** 1-based number of knocks matched so far. */
  readonly stage: number;
}

/**
 * The sequence completed: knockd logs `<src>: <door>: OPEN SESAME`, then runs the start command
 * (and schedules the stop command), then rotates a one-time sequence.
 */
export interface OpenEvent {
  readonly kind: "open";
  readonly door: Door;
  readonly doorIndex: number;
  readonly src: string;
  readonly family: Family;
}

/** An attempt expired: knockd logs `<src>: <door>: sequence timeout (stage <stage>)`. */
export interface TimeoutEvent {
  readonly kind: "timeout";
  readonly door: Door;
  readonly doorIndex: number;
  readonly src: string;
  readonly family: Family;
  readonly stage: number;
}

/** Debug-only happenings (knockd's `-D` lines), e.g. `packet is not SYN, ignoring...`. */
export interface DebugEvent {
  readonly kind: "debug";
  readonly message: string;
}

/** Anything the matcher reports. */
export type MatchEvent = StageEvent | OpenEvent | TimeoutEvent | DebugEvent;
