/**
 * One open live handle of the capture loop: opening it (handle + batch reader), and serving it
 * until abort or loss. Waiting and draining (docs/ARCHITECTURE.md, "Capture loop facts" §4):
 *
 * - Wait: `poll()` on `pcap_get_selectable_fd` plus a wake-up descriptor ({@link Waker}), as a
 *   `nonblocking: true` FFI call with a bounded timeout (≤ 1 s). Idle costs about one wake-up per
 *   second. Every wait is an event-loop turn, so timers, signals and child reaping run whether
 *   the link is idle or flooded.
 * - Drain synchronously in batches ({@link BatchReader}): at most {@link DRAIN_BUDGET} packets per
 *   wake-up, then back to the wait (the yield).
 *
 * @module
 */
import { cstr, type PcapLib } from "../../ffi/libpcap.ts";
import { POLLERR, POLLHUP, POLLIN, POLLNVAL } from "../../ffi/libc.ts";
import { BatchReader, type Frame } from "../../ffi/pcap_batch.ts";
import { type LiveHandleOptions, openLiveHandle } from "../../ffi/pcap_open.ts";
import { PollFds, type Waker } from "../../ffi/waker.ts";

/** Wait between drains while packets keep coming (see the "hot" loop in {@link runCapture}). */
const HOT_WAIT_MS = 1;

/**
 * Fewest packets in one drain that make the next wait a {@link HOT_WAIT_MS} timer. A smaller
 * drain (a knock, a short burst) goes straight back to `poll()`, so that the next knock is
 * delivered at once instead of after the timer (Deno's 1 ms timer fires after ~2 ms).
 */
const HOT_MIN_BATCH = 4;

/** Most packets drained per wake-up before the loop yields to the event loop again. */
export const DRAIN_BUDGET = 8192;

/** An open live handle and its reader. */
export interface Session {
  /** The `pcap_t *`. */
  readonly handle: Deno.PointerObject;
  /** Its selectable descriptor. */
  readonly fd: number;
  /** Its link type (`DLT_*`). */
  readonly linkType: number;
  /** Reads its packets in batches. */
  readonly reader: BatchReader;
}

/** What {@link openSession} gives: a session and libpcap's warning ("" for none), or its error. */
export type OpenSessionResult =
  | { readonly ok: true; readonly session: Session; readonly warning: string }
  | { readonly ok: false; readonly error: string };

/**
 * Opens a live interface for capture (non-blocking, descriptors close-on-exec) with its reader.
 *
 * @param p The library.
 * @param opts What to open.
 * @returns The session, or libpcap's error text.
 *
 * @example
 * ```ts
 * import { acquirePcap, releasePcap } from "../../ffi/libpcap.ts";
 * import { openSession } from "./capture_session.ts";
 * const p = acquirePcap();
 * try {
 *   const r = openSession(p, { iface: "kt-no-such-if1" });
 *   if (r.ok || !r.error.startsWith("kt-no-such-if1: ")) throw new Error("no such interface");
 * } finally {
 *   releasePcap();
 * }
 * ```
 */
export function openSession(p: PcapLib, opts: LiveHandleOptions): OpenSessionResult {
  const r = openLiveHandle(p, opts);
  if (!r.ok) return r;
  const { handle, fd, linkType } = r.live;
  let reader: BatchReader;
  try {
    reader = new BatchReader(p, handle);
  } catch (e) {
    p.sym.pcap_close(handle);
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
  return { ok: true, session: { handle, fd, linkType, reader }, warning: r.warning };
}

/**
 * Closes a session's reader, then its handle.
 *
 * @param p The library.
 * @param s The session.
 */
export function closeSession(p: PcapLib, s: Session): void {
  s.reader.close();
  p.sym.pcap_close(s.handle);
}

/** Options of {@link runCapture}. */
export interface RunCaptureOptions {
  /** The library. */
  readonly pcap: PcapLib;
  /** The open handle to serve. */
  readonly session: Session;
  /** Wakes the wait (abort, filter requests). */
  readonly waker: Waker;
  /** Ends the capture. */
  readonly signal: AbortSignal;
  /** Interval of the address re-read, ms. */
  readonly addressPollMs: number;
  /** Takes and clears a pending filter re-install request. */
  readonly takeRefilter: () => boolean;
  /** Hands a frame on; must not throw. */
  readonly deliver: (f: Frame) => void;
  /**
   * Re-reads the addresses and re-installs the filter when they changed or `force` is set.
   *
   * @returns False when the interface is gone.
   */
  readonly refresh: (force: boolean) => boolean;
}

/**
 * Serves one open handle until abort or loss.
 *
 * @param o What to serve, and where frames go.
 * @returns Undefined after an abort; libpcap's text when the handle was lost.
 *
 * @example
 * ```ts ignore
 * // Needs a live interface and capture permission.
 * import { acquirePcap, releasePcap } from "../../ffi/libpcap.ts";
 * import { Waker } from "../../ffi/waker.ts";
 * import { closeSession, openSession, runCapture } from "./capture_session.ts";
 * const p = acquirePcap();
 * const waker = new Waker(p.libc);
 * const r = openSession(p, { iface: "lo" });
 * if (!r.ok) throw new Error(r.error);
 * const lost = await runCapture({
 *   pcap: p,
 *   session: r.session,
 *   waker,
 *   signal: AbortSignal.timeout(1000),
 *   addressPollMs: 2000,
 *   takeRefilter: () => false,
 *   deliver: (f) => console.log(f.caplen),
 *   refresh: () => true,
 * });
 * if (lost !== undefined) throw new Error(lost);
 * closeSession(p, r.session);
 * waker.close();
 * releasePcap();
 * ```
 */
export async function runCapture(o: RunCaptureOptions): Promise<string | undefined> {
  const { pcap: p, session: s, waker: w, signal } = o;
  const fds = new PollFds([s.fd, w.fd]);
  let nextCheck = Date.now() + o.addressPollMs;
  let errorWakeups = 0;
  // "Hot": the last turn found at least HOT_MIN_BATCH packets (a flood). Then the next turn is a
  // HOT_WAIT_MS timer instead of a poll: a nonblocking FFI poll costs ~14 µs per wake-up (a
  // thread hop; docs/ARCHITECTURE.md, "Capture loop facts" §4), which under a flood wakes for a
  // handful of packets each time, while the synchronous drain costs ~0.1 µs per packet. The timer
  // still gives timers and signals their turn, and the first turn that finds fewer packets goes
  // back to poll, so an idle link costs nothing and the first packet after idle is delivered at
  // once. A turn with fewer packets (a knock) does not arm the timer: the timer fires after ~2 ms,
  // and a knock that came right after another one waited for it (docs/PERFORMANCE.md, "Knock to
  // grant (w5g)"); later packets of a flood wait ≤ ~2 ms.
  let hot = false;
  while (!signal.aborted) {
    const now = Date.now();
    const force = o.takeRefilter();
    if (force || now >= nextCheck) {
      if (!o.refresh(force)) return "the interface is no longer listed by pcap_findalldevs";
      nextCheck = now + o.addressPollMs;
    }
    let re = POLLIN;
    if (hot) {
      await new Promise((resolve) => setTimeout(resolve, HOT_WAIT_MS));
      if (signal.aborted) break;
    } else {
      fds.clear();
      // Deno keeps no reference to `fds` during the call: this frame holds it until it settles.
      await p.libc.poll(fds.buffer, fds.count, Math.max(0, Math.min(1000, nextCheck - now)));
      if ((fds.revents(1) & POLLIN) !== 0) w.drain();
      re = fds.revents(0);
      if (re === 0) continue;
    }
    let total = 0;
    while (total < DRAIN_BUDGET) {
      const n = s.reader.read(s.linkType, o.deliver);
      if (n === -2) break; // pcap_breakloop: nobody calls it, but it is not an error
      if (n < 0) return cstr(p.sym.pcap_geterr(s.handle)) || "unknown libpcap error";
      if (n === 0) break;
      total += n;
    }
    hot = total >= HOT_MIN_BATCH;
    if ((re & (POLLERR | POLLHUP | POLLNVAL)) !== 0 && total === 0) {
      // libpcap reports socket errors from pcap_dispatch; if it does not, do not spin on them.
      if (++errorWakeups >= 3) {
        return `poll reported condition 0x${re.toString(16)} on the capture socket`;
      }
    } else errorWakeups = 0;
  }
  return undefined;
}
