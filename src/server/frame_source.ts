/**
 * Where the daemon's frames come from: a live interface (capture_live.ts), a pcap file
 * (capture_file.ts) or a test's array, and what such a source reports back.
 *
 * @module
 */
import type { LocalAddresses } from "../config/filter.ts";
import type { StatusLevel } from "./capture_events.ts";

/** One captured frame (the capture loop's `Frame`). */
export interface SourceFrame {
  /** libpcap link type. */
  readonly linkType: number;
  /** Captured bytes (valid only during the callback). */
  readonly data: Uint8Array;
  /** Length on the wire. */
  readonly wireLen: number;
  /** Capture time, seconds. */
  readonly tsSec: number;
  /** Capture time, microseconds. */
  readonly tsUsec: number;
  /** When set with {@link offset} and {@link caplen}: the buffer `data` is a view of. */
  readonly buffer?: Uint8Array;
  /** Where the frame starts in {@link buffer}. */
  readonly offset?: number;
  /** Captured length. */
  readonly caplen?: number;
}

/** What a frame source reports to the daemon. */
export interface SourceEvents {
  /** One frame. */
  onFrame(f: SourceFrame): void;
  /** A status message of the capture layer. */
  onStatus(msg: string, level: StatusLevel): void;
  /** The local addresses changed (live capture). */
  onAddresses(a: LocalAddresses): void;
  /** The source is open and filtered: what it delivers from now on is seen (live capture). */
  onOpen?(): void;
}

/** Where frames come from: a live interface, a pcap file, or a test's array. */
export interface FrameSource {
  /** True when timestamps follow the wall clock (enables the timeout timer). */
  readonly live: boolean;
  /**
   * Delivers frames until the end of the input or until `signal` aborts.
   *
   * @param ev Callbacks.
   * @param signal Stops the source.
   * @param filter The current capture filter for the given local addresses and link type:
   *   candidates from most to least exact (install the first that compiles within 4096 BPF
   *   instructions); an empty list admits everything.
   */
  run(
    ev: SourceEvents,
    signal: AbortSignal,
    filter: (a: LocalAddresses, linkType: number) => readonly string[],
  ): Promise<void>;
  /** Re-installs the capture filter (after a one-time rotation or a reload). */
  refilter(): void;
}
