/**
 * What a capture (live: `capture_live.ts`, file replay: `capture_file.ts`) reports to the server.
 *
 * @module
 */
import type { Frame } from "../../ffi/pcap_batch.ts";
import type { LocalAddresses } from "./addresses.ts";

export type { Frame } from "../../ffi/pcap_batch.ts";
export type { LocalAddresses } from "./addresses.ts";

/**
 * How much a capture status line matters: `info` (routine, `-D` only), `notice` (recovery after
 * a warning: the interface is back), `warning` (capture degraded or interrupted, retrying),
 * `error`.
 */
export type StatusLevel = "info" | "notice" | "warning" | "error";

/**
 * What the capture reports. A throw from `onFrame` is caught, counted and reported once through
 * `onStatus` (live capture); a throw from `onStatus` or `onAddresses` ends the capture (the
 * promise rejects after everything is closed).
 */
export interface CaptureEvents {
  /** A frame passed the filter. */
  onFrame(f: Frame): void;
  /** A state change: opened, lost, waiting, filter problems. */
  onStatus(msg: string, level: StatusLevel): void;
  /** The interface's addresses, on the first open and whenever they change. */
  onAddresses(a: LocalAddresses): void;
  /**
   * The interface is open and its filter installed: packets from now on are seen (each (re)open).
   * knockd logs `starting up, listening on IFACE` at this point.
   */
  onOpen?(): void;
}
