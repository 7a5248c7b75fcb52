/**
 * Live capture: frames from an interface through libpcap FFI, without ever blocking the event
 * loop (docs/ARCHITECTURE.md, "Capture loop facts" §4).
 *
 * Per handle:
 * 1. Open (`capture_session.ts`): `pcap_open_live(iface, snaplen, 0, timeoutMs)` as knockd does
 *    (or `pcap_create` … with `pcap_set_immediate_mode` when `immediate` is set), non-blocking
 *    mode, `FD_CLOEXEC` on its descriptors, then the filter `opts.filter(addresses, linkType)`
 *    (`capture_filter.ts`): the first of its candidates that compiles within the kernel's 4096
 *    BPF instructions (a warning names the fallback).
 * 2. Wait and drain (`runCapture` in `capture_session.ts`): `poll()` with a wake-up descriptor,
 *    then `pcap_dispatch` batches, `onFrame` per packet.
 * 3. On any libpcap error (interface deleted or taken down: "The interface went down", …) the
 *    handle is closed, `onStatus` reports libpcap's text, and step 1 is retried every `retryMs`
 *    (docs/COMPATIBILITY.md B6). A missing or down interface at start is waited for the same way.
 * 4. Every `addressPollMs` (and on {@link CaptureControl.reinstallFilter}) the interface's
 *    addresses are re-read; on change `onAddresses` fires and the filter is re-installed
 *    (docs/COMPATIBILITY.md B7). With `-i any` the addresses are the union over every interface.
 *
 * Closing: aborting the signal wakes the pending `poll` through the wake-up descriptor; the
 * handle is closed only after that call has returned, so no nonblocking call is ever pending at
 * `pcap_close`.
 *
 * @module
 */
import {
  acquirePcap,
  linkTypeName,
  PCAP_IF_UP,
  type PcapLib,
  releasePcap,
} from "../../ffi/libpcap.ts";
import type { Frame } from "../../ffi/pcap_batch.ts";
import { type PcapStats, readPcapStats } from "../../ffi/pcap_open.ts";
import { Waker } from "../../ffi/waker.ts";
import { type LocalAddresses, readAddresses, sameAddresses } from "./addresses.ts";
import type { CaptureEvents } from "./capture_events.ts";
import { installFilter } from "./capture_filter.ts";
import { closeSession, openSession, runCapture, type Session } from "./capture_session.ts";

/** Options of {@link captureLive}. */
export interface LiveOptions {
  /** Interface name, or `any`. */
  iface: string;
  /** Snapshot length; default 65535 (knockd's). */
  snaplen?: number;
  /** libpcap read timeout in ms; default 50 (knockd's). Bounds the latency in buffered mode. */
  timeoutMs?: number;
  /**
   * Deliver packets at once (`pcap_set_immediate_mode`) instead of per ring block. On Linux this
   * makes libpcap use TPACKET_V2, whose ring slots are min(snaplen, MTU) bytes each: on `lo`
   * (MTU 65536) with snaplen 65535 the default 2 MB ring holds only 16 frames, and a burst of
   * 8 packets (each seen twice on `lo`) already drops. Pair it with a small snaplen there.
   */
  immediate?: boolean;
  /**
   * Kernel ring size in bytes (`pcap_set_buffer_size`), applied with `immediate`. With TPACKET_V2
   * each slot holds one frame of up to min(snaplen, MTU) bytes plus headers, so the ring holds
   * about `bufferBytes / (snaplen + 80)` frames before the kernel drops. Default: libpcap's 2 MB.
   */
  bufferBytes?: number;
  /**
   * The BPF filter for the current addresses and the handle's link type: one expression, or
   * candidates from most to least exact. The first that compiles within the kernel's 4096
   * instructions is installed; falling back is reported once as a warning, and when none fits
   * an error is reported and the previous filter stays (none on a fresh handle). "" (or no
   * candidate at all) admits everything.
   */
  filter: (a: LocalAddresses, linkType: number) => string | readonly string[];
  /** Leave IPv6 addresses out of the address set (`-4`). */
  ipv4Only?: boolean;
  /** Handle for re-installing the filter on demand and reading statistics. */
  control?: CaptureControl;
  /** Delay between attempts to (re)open the interface, ms; default 1000. */
  retryMs?: number;
  /** Interval of the address re-read, ms; default 2000. */
  addressPollMs?: number;
}

/** Counters of a live capture. */
export interface CaptureStats {
  /** Frames delivered to `onFrame` since the capture started. */
  readonly frames: number;
  /** `onFrame` calls that threw. */
  readonly callbackErrors: number;
  /** Times the interface was (re)opened. */
  readonly opens: number;
  /** `pcap_stats` of the current handle (`ps_drop` over-counts on `lo`: read it as "drops happened"). */
  readonly pcap?: PcapStats;
}

/**
 * Controls a running {@link captureLive}: pass one in {@link LiveOptions.control}.
 *
 * @example
 * ```ts
 * import { CaptureControl } from "./capture_live.ts";
 * const control = new CaptureControl();
 * control.reinstallFilter(); // harmless when no capture is attached
 * if (control.stats().frames !== 0) throw new Error("no frames yet");
 * ```
 */
export class CaptureControl {
  #refilter = false;
  #wake: (() => void) | undefined;
  #stats: () => CaptureStats = () => ({ frames: 0, callbackErrors: 0, opens: 0 });

  /**
   * Re-reads the addresses and re-installs the filter `opts.filter(addresses)` at the next turn
   * of the capture loop (one-time sequence rotation, reload). Safe to call at any time.
   */
  reinstallFilter(): void {
    this.#refilter = true;
    this.#wake?.();
  }

  /**
   * Counters of the capture this control is attached to.
   *
   * @returns The counters (zeros before the capture starts).
   */
  stats(): CaptureStats {
    return this.#stats();
  }

  /** @internal Called by the loop: takes and clears a pending re-install request. */
  takeRefilter(): boolean {
    const r = this.#refilter;
    this.#refilter = false;
    return r;
  }

  /** @internal Called by the loop. */
  attach(wake: (() => void) | undefined, stats: () => CaptureStats): void {
    this.#wake = wake;
    this.#stats = stats;
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The state of one {@link captureLive} call: counters, the open session, what was last reported. */
class LiveCapture {
  readonly #p: PcapLib;
  readonly #opts: LiveOptions;
  readonly #ev: CaptureEvents;
  readonly #where: string;
  frames = 0;
  callbackErrors = 0;
  opens = 0;
  session: Session | undefined;
  #lastAddrs: LocalAddresses | undefined;
  #lastOpenError = "";
  #lastUp: boolean | undefined;
  #lastFallback = "";

  constructor(p: PcapLib, opts: LiveOptions, ev: CaptureEvents) {
    this.#p = p;
    this.#opts = opts;
    this.#ev = ev;
    this.#where = `interface "${opts.iface}"`;
  }

  stats(): CaptureStats {
    const pcap = this.session === undefined
      ? undefined
      : readPcapStats(this.#p, this.session.handle);
    const { frames, callbackErrors, opens } = this;
    return { frames, callbackErrors, opens, ...(pcap === undefined ? {} : { pcap }) };
  }

  /** Hands a frame to `onFrame`; a throw is counted and reported once. */
  readonly deliver = (f: Frame): void => {
    this.frames++;
    try {
      this.#ev.onFrame(f);
    } catch (e) {
      if (this.callbackErrors++ === 0) {
        this.#ev.onStatus(`Cannot handle a frame, continuing: ${message(e)}`, "error");
      }
    }
  };

  /** Reads addresses, reports a change, re-installs the filter; false when the device is gone. */
  refresh(s: Session, force: boolean): boolean {
    const { iface } = this.#opts;
    const ev = this.#ev;
    let state;
    try {
      state = readAddresses(this.#p, iface, this.#opts.ipv4Only ?? false);
    } catch (e) {
      ev.onStatus(`Cannot read the addresses of ${this.#where}: ${message(e)}`, "warning");
      return true;
    }
    if (state.device === undefined && iface !== "any") return false;
    // A link taken down keeps its socket: capture resumes when it comes up. Say so both ways.
    const up = state.device === undefined || (state.device.flags & PCAP_IF_UP) !== 0;
    if (up !== this.#lastUp) {
      if (!up) {
        ev.onStatus(`Interface "${iface}" is down: waiting for it to come up`, "warning");
      } else if (this.#lastUp === false) ev.onStatus(`Interface "${iface}" is up again`, "notice");
      this.#lastUp = up;
    }
    const a = state.addresses;
    const changed = this.#lastAddrs === undefined || !sameAddresses(this.#lastAddrs, a);
    if (changed) {
      this.#lastAddrs = a;
      if (a.v4.length === 0 && a.v6.length === 0 && iface !== "any") {
        ev.onStatus(
          `Interface "${iface}" has no address: doors without a Target cannot match until one is added`,
          "warning",
        );
      }
      ev.onAddresses(a);
    }
    if (changed || force) {
      let filter: string | readonly string[];
      try {
        filter = this.#opts.filter(a, s.linkType);
      } catch (e) {
        ev.onStatus(`Cannot build the filter for ${this.#where}: ${message(e)}`, "error");
        return true;
      }
      const r = installFilter(this.#p, s.handle, filter, this.#where);
      if (r.error !== "") ev.onStatus(r.error, "error");
      // A fallback is reported once, not at every re-install with the same outcome.
      if (r.warning !== this.#lastFallback && r.warning !== "") ev.onStatus(r.warning, "warning");
      if (r.error === "") this.#lastFallback = r.warning;
    }
    return true;
  }

  /** Opens, serves, and reopens the interface until `signal` aborts. */
  async run(waker: Waker, control: CaptureControl, signal: AbortSignal): Promise<void> {
    const p = this.#p;
    const ev = this.#ev;
    const where = this.#where;
    const retryMs = this.#opts.retryMs ?? 1000;
    const addressPollMs = this.#opts.addressPollMs ?? 2000;
    while (!signal.aborted) {
      const r = openSession(p, this.#opts);
      if (!r.ok) {
        if (r.error !== this.#lastOpenError) {
          ev.onStatus(
            `Cannot open ${where}, retrying every ${retryMs / 1000} s: ${r.error}`,
            "warning",
          );
          this.#lastOpenError = r.error;
        }
        await waker.sleep(retryMs);
        continue;
      }
      // A reopen after a loss or failed opens is news for whoever read the warning about it.
      const recovering = this.opens > 0 || this.#lastOpenError !== "";
      this.#lastOpenError = "";
      this.#lastUp = undefined;
      const s = r.session;
      this.session = s;
      this.opens++;
      if (r.warning !== "") ev.onStatus(`Opened ${where} with a warning: ${r.warning}`, "warning");
      control.takeRefilter();
      this.refresh(s, true);
      ev.onStatus(
        `Listening on ${where} (link type ${linkTypeName(p, s.linkType)})`,
        recovering ? "notice" : "info",
      );
      ev.onOpen?.();
      const lost = await runCapture({
        pcap: p,
        session: s,
        waker,
        signal,
        addressPollMs,
        takeRefilter: () => control.takeRefilter(),
        deliver: this.deliver,
        refresh: (force) => this.refresh(s, force),
      });
      this.session = undefined;
      closeSession(p, s);
      if (lost !== undefined) {
        ev.onStatus(`Lost ${where}, reopening: ${lost}`, "warning");
        await waker.sleep(retryMs);
      }
    }
  }
}

/**
 * Captures from a live interface until `signal` aborts; never exits on interface trouble.
 *
 * A missing or down interface, or one that fails while serving, is reported through `onStatus`
 * (with libpcap's text) and retried every `retryMs`; once it opens, the addresses are read
 * (`onAddresses`), the filter is installed, and capture resumes.
 *
 * Status lines (level): `Listening on interface "eth0" (link type EN10MB)` (info),
 * `Cannot open interface "eth0", retrying every 1 s: <libpcap text>` (warning, once per distinct
 * text), `Lost interface "eth0", reopening: <libpcap text>` (warning), `Interface "eth0" has no
 * address: doors without a Target cannot match until one is added` (warning), filter errors
 * (error; the previous filter stays).
 *
 * @param opts What to capture.
 * @param ev Where frames and reports go.
 * @param signal Stops the capture; the promise resolves once everything is closed.
 * @returns Resolves when `signal` aborts.
 * @throws {PcapError} When libpcap cannot be loaded (the message lists every name tried).
 *
 * @example
 * ```ts
 * import { captureLive } from "./capture_live.ts";
 * // An aborted signal returns at once, without loading libpcap.
 * const ac = new AbortController();
 * ac.abort();
 * let seen = 0;
 * await captureLive({ iface: "lo", filter: () => "udp" }, {
 *   onFrame: () => seen++,
 *   onStatus: () => seen++,
 *   onAddresses: () => seen++,
 * }, ac.signal);
 * if (seen !== 0) throw new Error("nothing reported");
 * ```
 */
export async function captureLive(
  opts: LiveOptions,
  ev: CaptureEvents,
  signal: AbortSignal,
): Promise<void> {
  if (signal.aborted) return;
  const p = acquirePcap();
  const control = opts.control ?? new CaptureControl();
  const capture = new LiveCapture(p, opts, ev);
  let waker: Waker | undefined;
  const onAbort = () => waker?.wake();
  try {
    const w = new Waker(p.libc);
    waker = w;
    signal.addEventListener("abort", onAbort);
    control.attach(() => w.wake(), () => capture.stats());
    await capture.run(w, control, signal);
  } finally {
    signal.removeEventListener("abort", onAbort);
    const { frames, callbackErrors, opens } = capture;
    control.attach(undefined, () => ({ frames, callbackErrors, opens }));
    if (capture.session !== undefined) closeSession(p, capture.session);
    waker?.close();
    releasePcap();
  }
}
