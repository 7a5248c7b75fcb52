/**
 * The capture loop: frames from a live interface or a pcap file, through libpcap FFI, without
 * ever blocking the event loop (deno-libpcap-notes §4).
 *
 * Live capture, per handle:
 * 1. `pcap_open_live(iface, snaplen, 0, timeoutMs)` as knockd does (or `pcap_create` … with
 *    `pcap_set_immediate_mode` when `immediate` is set), non-blocking mode, `FD_CLOEXEC` on its
 *    descriptors, then the filter `opts.filter(addresses, linkType)`: the first of its candidates
 *    that compiles within the kernel's 4096 BPF instructions (a warning names the fallback).
 * 2. Wait: `poll()` on `pcap_get_selectable_fd` plus a wake-up descriptor (eventfd), as a
 *    `nonblocking: true` FFI call with a bounded timeout (≤ 1 s). Idle costs about one wake-up per
 *    second. Every wait is an event-loop turn, so timers, signals and child reaping run whether
 *    the link is idle or flooded.
 * 3. Drain synchronously in batches: `pcap_dispatch` with libpcap's own `pcap_dump` as callback
 *    writes up to `perCall` packets in pcap record format into an `fmemopen` buffer (no JavaScript
 *    per packet inside libpcap); TypeScript walks the 16-byte record headers and calls `onFrame`.
 *    At most {@link DRAIN_BUDGET} packets per wake-up, then back to step 2 (the yield).
 * 4. On any libpcap error (interface deleted or taken down: "The interface went down", …) the
 *    handle is closed, `onStatus` reports libpcap's text, and step 1 is retried every `retryMs`
 *    (knockd B6 fix). A missing or down interface at start is waited for the same way.
 * 5. Every `addressPollMs` (and on {@link CaptureControl.reinstallFilter}) the interface's
 *    addresses are re-read; on change `onAddresses` fires and the filter is re-installed
 *    (knockd B7 fix). With `-i any` the addresses are the union over every interface.
 *
 * Closing: aborting the signal wakes the pending `poll` through the eventfd; the handle is closed
 * only after that call has returned, so no nonblocking call is ever pending at `pcap_close`.
 *
 * @module
 */
import {
  acquirePcap,
  cstr,
  errbufText,
  linkTypeName,
  PCAP_ERRBUF_SIZE,
  PCAP_IF_UP,
  PCAP_NETMASK_UNKNOWN,
  PcapError,
  type PcapLib,
  releasePcap,
} from "../../ffi/libpcap.ts";
import {
  cString,
  type Libc,
  openDescriptors,
  POLLERR,
  POLLHUP,
  POLLIN,
  POLLNVAL,
  setCloexec,
} from "../../ffi/libc.ts";
import { type LocalAddresses, readAddresses, sameAddresses } from "./addresses.ts";
import { BPF_MAX_INSNS } from "../config/filter.ts";

export type { LocalAddresses } from "./addresses.ts";

/** One captured frame. */
export interface Frame {
  /** pcap link type (`DLT_*`) of the handle. */
  linkType: number;
  /** The captured bytes; a view of a reused buffer, valid only during the callback. */
  data: Uint8Array;
  /** Captured length (`data.length`). */
  caplen: number;
  /** Length on the wire. */
  wireLen: number;
  /** Capture time, seconds. */
  tsSec: number;
  /** Capture time, microseconds. */
  tsUsec: number;
}

/**
 * How much a capture status line matters: `info` (routine, `-D` only), `notice` (recovery after
 * a warning: the interface is back), `warning` (capture degraded or interrupted, retrying), `error`.
 */
export type StatusLevel = "info" | "notice" | "warning" | "error";

/**
 * What the capture reports. A throw from `onFrame` is caught, counted ({@link CaptureStats}) and
 * reported once through `onStatus`; a throw from `onStatus` or `onAddresses` ends the capture
 * (the promise rejects after everything is closed).
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
   * candidates from most to least exact. The first that compiles within {@link BPF_MAX_INSNS}
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
  readonly pcap?: { readonly recv: number; readonly drop: number; readonly ifdrop: number };
}

/** Wait between drains while packets keep coming (see the "hot" loop in `serve`). */
const HOT_WAIT_MS = 1;

/** Most packets drained per wake-up before the loop yields to the event loop again. */
export const DRAIN_BUDGET = 8192;
/**
 * Largest `pcap_dispatch` buffer (bytes) and packet count per call: with knockd's snaplen 65535
 * that is 63 packets per call in a 4 MiB buffer per handle; with snaplen 256, 1024 per call.
 */
const BATCH_BYTES = 4 << 20;
const BATCH_MAX = 1024;

const running = new Set<CaptureControl>();

/**
 * Controls a running {@link captureLive}: pass one in {@link LiveOptions.control}.
 *
 * @example
 * ```ts
 * import { CaptureControl } from "./capture.ts";
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

/**
 * Re-installs the filter of every running live capture (see {@link CaptureControl.reinstallFilter}).
 *
 * @example
 * ```ts
 * import { setFilterNow } from "./capture.ts";
 * setFilterNow(); // nothing running: does nothing
 * ```
 */
export function setFilterNow(): void {
  for (const c of running) c.reinstallFilter();
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Reads batches of packets from a handle: `pcap_dispatch` → `pcap_dump` → `fmemopen` buffer.
 * The buffer is owned here and lives as long as the FILE (closed by `pcap_dump_close`).
 */
class BatchReader {
  readonly #p: PcapLib;
  readonly #handle: Deno.PointerObject;
  readonly #buf: Uint8Array<ArrayBuffer>;
  readonly #view: DataView;
  readonly #file: Deno.PointerObject;
  #dumper: Deno.PointerObject | null;
  readonly perCall: number;

  constructor(p: PcapLib, handle: Deno.PointerObject) {
    this.#p = p;
    this.#handle = handle;
    const snap = Math.max(p.sym.pcap_snapshot(handle), 1);
    // fmemopen drops what does not fit, silently: size the buffer for perCall full records.
    this.perCall = Math.max(1, Math.min(BATCH_MAX, Math.floor(BATCH_BYTES / (16 + snap))));
    this.#buf = new Uint8Array(this.perCall * (16 + snap) + 64);
    this.#view = new DataView(this.#buf.buffer);
    const file = p.libc.fmemopen(this.#buf, BigInt(this.#buf.length), cString("w"));
    if (file === null) throw new PcapError("Cannot open a memory stream for packet batches");
    this.#file = file;
    this.#dumper = p.sym.pcap_dump_fopen(handle, file);
    if (this.#dumper === null) {
      const why = cstr(p.sym.pcap_geterr(handle));
      p.libc.fclose(file);
      throw new PcapError(`Cannot open a packet dumper: ${why}`);
    }
  }

  /**
   * Reads up to `perCall` packets and hands each to `deliver`.
   *
   * @returns The `pcap_dispatch` result: packets read, 0, -1 (error) or -2 (breakloop).
   */
  read(linkType: number, deliver: (f: Frame) => void): number {
    const { libc, sym, pcapDumpFn } = this.#p;
    libc.rewind(this.#file); // records start at 0: the 24-byte file header is overwritten
    const n = sym.pcap_dispatch(this.#handle, this.perCall, pcapDumpFn, this.#dumper);
    if (n <= 0) return n;
    libc.fflush(this.#file);
    const end = Math.min(Number(libc.ftell(this.#file)), this.#buf.length);
    const v = this.#view;
    let off = 0;
    for (let i = 0; i < n && off + 16 <= end; i++) {
      // struct pcap_sf_pkthdr in host byte order: ts_sec, ts_usec, caplen, len (all 32-bit).
      const caplen = v.getUint32(off + 8, LITTLE_ENDIAN);
      const start = off + 16;
      if (start + caplen > end) break; // cannot happen with the buffer sized for perCall records
      deliver({
        linkType,
        data: this.#buf.subarray(start, start + caplen),
        caplen,
        wireLen: v.getUint32(off + 12, LITTLE_ENDIAN),
        tsSec: v.getUint32(off, LITTLE_ENDIAN),
        tsUsec: v.getUint32(off + 4, LITTLE_ENDIAN),
      });
      off = start + caplen;
    }
    return n;
  }

  close(): void {
    if (this.#dumper !== null) this.#p.sym.pcap_dump_close(this.#dumper); // also fcloses the FILE
    this.#dumper = null;
  }
}

/** A descriptor the loop polls besides the pcap one, so that abort and requests wake it. */
class Waker {
  readonly #p: PcapLib;
  readonly fd: number;
  readonly #writeFd: number;
  readonly #one = new Uint8Array(8);
  readonly #sink = new Uint8Array(64);

  constructor(p: PcapLib) {
    this.#p = p;
    // EFD_CLOEXEC | EFD_NONBLOCK (Linux values)
    const efd = p.libc.eventfd?.(0, 0x80000 | 0x800) ?? -1;
    if (efd >= 0) {
      this.fd = efd;
      this.#writeFd = efd;
      new DataView(this.#one.buffer).setBigUint64(0, 1n, LITTLE_ENDIAN);
    } else {
      const fds = new Int32Array(2);
      if (p.libc.pipe(fds) !== 0) throw new PcapError("Cannot create a wake-up pipe");
      this.fd = fds[0] ?? -1;
      this.#writeFd = fds[1] ?? -1;
      setCloexec(p.libc, this.fd);
      setCloexec(p.libc, this.#writeFd);
    }
  }

  wake(): void {
    this.#p.libc.write(this.#writeFd, this.#one, BigInt(this.#writeFd === this.fd ? 8 : 1));
  }

  /** Consumes pending wake-ups; call only when poll reported the fd readable. */
  drain(): void {
    this.#p.libc.read(this.fd, this.#sink, BigInt(this.#sink.length));
  }

  /** Waits up to `ms` or until woken; an event-loop turn either way. */
  async sleep(ms: number): Promise<void> {
    const fds = pollfds([this.fd]);
    await this.#p.libc.poll(fds, 1n, Math.max(0, Math.round(ms)));
    if (revents(fds, 0) !== 0) this.drain();
  }

  close(): void {
    this.#p.libc.close(this.fd);
    if (this.#writeFd !== this.fd) this.#p.libc.close(this.#writeFd);
  }
}

function pollfds(fds: number[]): Uint8Array<ArrayBuffer> {
  // struct pollfd { int fd; short events; short revents; }
  const buf = new Uint8Array(8 * fds.length);
  const v = new DataView(buf.buffer);
  fds.forEach((fd, i) => {
    v.setInt32(i * 8, fd, LITTLE_ENDIAN);
    v.setInt16(i * 8 + 4, POLLIN, LITTLE_ENDIAN);
  });
  return buf;
}

function revents(buf: Uint8Array<ArrayBuffer>, i: number): number {
  return new DataView(buf.buffer).getInt16(i * 8 + 6, LITTLE_ENDIAN);
}

function clearRevents(buf: Uint8Array<ArrayBuffer>): void {
  const v = new DataView(buf.buffer);
  for (let i = 0; i * 8 < buf.length; i++) v.setInt16(i * 8 + 6, 0, LITTLE_ENDIAN);
}

/** Open descriptors, from libc (Deno refuses /proc/self without --allow-all). */
function openFds(libc: Libc): Set<number> {
  return new Set(openDescriptors(libc));
}

/** An open live handle. */
interface Session {
  handle: Deno.PointerObject;
  fd: number;
  linkType: number;
  reader: BatchReader;
}

type OpenResult = { ok: true; session: Session; warning: string } | { ok: false; error: string };

// pcap_activate results whose details are in pcap_geterr (pcap/pcap.h).
const PCAP_ERROR = -1;
const PCAP_ERROR_NO_SUCH_DEVICE = -5;
const PCAP_ERROR_PERM_DENIED = -8;
const PCAP_ERROR_PROMISC_PERM_DENIED = -11;

function openLive(p: PcapLib, opts: LiveOptions): OpenResult {
  const { sym, libc } = p;
  const errbuf = new Uint8Array(PCAP_ERRBUF_SIZE);
  const name = cString(opts.iface);
  const snaplen = opts.snaplen ?? 65535;
  const timeout = opts.timeoutMs ?? 50;
  const before = openFds(libc);
  let handle: Deno.PointerValue;
  let warning = "";
  if (opts.immediate === true && sym.pcap_set_immediate_mode !== null) {
    handle = sym.pcap_create(name, errbuf);
    if (handle === null) return { ok: false, error: errbufText(errbuf) };
    sym.pcap_set_snaplen(handle, snaplen);
    sym.pcap_set_promisc(handle, 0);
    sym.pcap_set_timeout(handle, timeout);
    sym.pcap_set_immediate_mode(handle, 1);
    if (opts.bufferBytes !== undefined) sym.pcap_set_buffer_size(handle, opts.bufferBytes);
    const rc = sym.pcap_activate(handle);
    const detail = cstr(sym.pcap_geterr(handle));
    if (rc < 0) {
      // The text pcap_open_live would give for the same failure.
      const withDetail = rc === PCAP_ERROR_NO_SUCH_DEVICE || rc === PCAP_ERROR_PERM_DENIED ||
        rc === PCAP_ERROR_PROMISC_PERM_DENIED;
      const error = rc === PCAP_ERROR
        ? `${opts.iface}: ${detail}`
        : withDetail && detail !== ""
        ? `${opts.iface}: ${cstr(sym.pcap_statustostr(rc))} (${detail})`
        : `${opts.iface}: ${cstr(sym.pcap_statustostr(rc))}`;
      sym.pcap_close(handle);
      return { ok: false, error };
    }
    if (rc > 0) warning = detail || cstr(sym.pcap_statustostr(rc));
  } else {
    handle = sym.pcap_open_live(name, snaplen, 0, timeout, errbuf);
    if (handle === null) return { ok: false, error: errbufText(errbuf) };
    warning = errbufText(errbuf);
  }
  const h = handle;
  const fail = (error: string): OpenResult => {
    sym.pcap_close(h);
    return { ok: false, error };
  };
  if (sym.pcap_setnonblock(h, 1, errbuf) < 0) return fail(errbufText(errbuf));
  const fd = sym.pcap_get_selectable_fd?.(h) ?? -1;
  if (fd < 0) return fail(`${opts.iface}: no selectable descriptor`);
  setCloexec(libc, fd);
  for (const other of openFds(libc)) if (!before.has(other)) setCloexec(libc, other);
  let reader: BatchReader;
  try {
    reader = new BatchReader(p, h);
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e));
  }
  return { ok: true, session: { handle: h, fd, linkType: sym.pcap_datalink(h), reader }, warning };
}

function closeSession(p: PcapLib, s: Session): void {
  s.reader.close();
  p.sym.pcap_close(s.handle);
}

/**
 * A filter expression for a message: short ones whole, long ones cut with their length, so that
 * a huge generated filter does not flood the log.
 *
 * @param text The expression.
 * @returns The quoted text.
 *
 * @example
 * ```ts
 * import { quoteFilter } from "./capture.ts";
 * if (quoteFilter("udp") !== `"udp"`) throw new Error("short filters stay whole");
 * if (quoteFilter("x".repeat(500)).length > 120) throw new Error("long filters are cut");
 * ```
 */
export function quoteFilter(text: string): string {
  return text.length <= 80
    ? JSON.stringify(text)
    : `${JSON.stringify(text.slice(0, 60))}... (${text.length} characters)`;
}

/** What {@link installFilter} did. */
interface InstallResult {
  /** An error message ("" when a candidate was installed). */
  readonly error: string;
  /** A warning about falling back to a coarser candidate ("" when the first one fit). */
  readonly warning: string;
}

/**
 * Compiles the candidates in order and installs the first that compiles within
 * {@link BPF_MAX_INSNS} instructions.
 */
function installFilter(
  p: PcapLib,
  handle: Deno.PointerObject,
  filter: string | readonly string[],
  where: string,
): InstallResult {
  // No candidate at all means "admit everything", like "".
  const candidates = typeof filter === "string" ? [filter] : filter.length === 0 ? [""] : filter;
  const problems: string[] = [];
  for (const [i, text] of candidates.entries()) {
    const prog = new Uint8Array(16); // struct bpf_program { u_int bf_len; struct bpf_insn *bf_insns; }
    if (p.sym.pcap_compile(handle, prog, cString(text), 1, PCAP_NETMASK_UNKNOWN) < 0) {
      problems.push(
        `Cannot compile filter ${quoteFilter(text)} for ${where}: ${
          cstr(p.sym.pcap_geterr(handle))
        }`,
      );
      continue;
    }
    const length = new Uint32Array(prog.buffer, 0, 1)[0] ?? 0;
    if (length > BPF_MAX_INSNS) {
      p.sym.pcap_freecode(prog);
      problems.push(
        `Cannot use filter ${
          quoteFilter(text)
        } for ${where}: it has ${length} BPF instructions, more than the kernel's ${BPF_MAX_INSNS}`,
      );
      continue;
    }
    const rc = p.sym.pcap_setfilter(handle, prog);
    const why = rc < 0 ? cstr(p.sym.pcap_geterr(handle)) : "";
    p.sym.pcap_freecode(prog);
    if (rc < 0) return { error: `Cannot install filter on ${where}: ${why}`, warning: "" };
    const warning = i === 0
      ? ""
      : `${problems.join("; ")}: using the coarser filter ${
        quoteFilter(text)
      } instead (the matcher still checks every packet exactly)`;
    return { error: "", warning };
  }
  return {
    error: problems.join("; ") || `Cannot install filter on ${where}: no filter`,
    warning: "",
  };
}

function readStats(p: PcapLib, handle: Deno.PointerObject): CaptureStats["pcap"] {
  const buf = new Uint32Array(4); // struct pcap_stat { u_int ps_recv, ps_drop, ps_ifdrop; }
  if (p.sym.pcap_stats(handle, buf) !== 0) return undefined;
  return { recv: buf[0] ?? 0, drop: buf[1] ?? 0, ifdrop: buf[2] ?? 0 };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
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
 * ```ts ignore
 * import { captureLive } from "./capture.ts";
 * const ac = new AbortController();
 * setTimeout(() => ac.abort(), 1000);
 * await captureLive({ iface: "lo", filter: () => "udp" }, {
 *   onFrame: (f) => console.log(f.caplen),
 *   onStatus: (m, level) => console.log(level, m),
 *   onAddresses: (a) => console.log(a),
 * }, ac.signal);
 * ```
 */
export async function captureLive(
  opts: LiveOptions,
  ev: CaptureEvents,
  signal: AbortSignal,
): Promise<void> {
  if (signal.aborted) return;
  const p = acquirePcap();
  let waker: Waker | undefined;
  const control = opts.control ?? new CaptureControl();
  let frames = 0;
  let callbackErrors = 0;
  let opens = 0;
  let session: Session | undefined;
  const onAbort = () => waker?.wake();
  try {
    waker = new Waker(p);
    const w = waker;
    signal.addEventListener("abort", onAbort);
    control.attach(() => w.wake(), () => {
      const pcap = session === undefined ? undefined : readStats(p, session.handle);
      return { frames, callbackErrors, opens, ...(pcap === undefined ? {} : { pcap }) };
    });
    running.add(control);
    const retryMs = opts.retryMs ?? 1000;
    const addressPollMs = opts.addressPollMs ?? 2000;
    const ipv4Only = opts.ipv4Only ?? false;
    const where = `interface "${opts.iface}"`;
    let lastAddrs: LocalAddresses | undefined;
    let lastOpenError = "";
    let lastUp: boolean | undefined;
    let lastFallback = "";
    const deliver = (f: Frame) => {
      frames++;
      try {
        ev.onFrame(f);
      } catch (e) {
        if (callbackErrors++ === 0) {
          ev.onStatus(`Cannot handle a frame, continuing: ${message(e)}`, "error");
        }
      }
    };

    /** Reads addresses, reports a change, re-installs the filter; false when the device is gone. */
    const refresh = (s: Session, force: boolean): boolean => {
      let state;
      try {
        state = readAddresses(p, opts.iface, ipv4Only);
      } catch (e) {
        ev.onStatus(`Cannot read the addresses of ${where}: ${message(e)}`, "warning");
        return true;
      }
      if (state.device === undefined && opts.iface !== "any") return false;
      // A link taken down keeps its socket: capture resumes when it comes up. Say so both ways.
      const up = state.device === undefined || (state.device.flags & PCAP_IF_UP) !== 0;
      if (up !== lastUp) {
        if (!up) {
          ev.onStatus(`Interface "${opts.iface}" is down: waiting for it to come up`, "warning");
        } else if (lastUp === false) ev.onStatus(`Interface "${opts.iface}" is up again`, "notice");
        lastUp = up;
      }
      const a = state.addresses;
      const changed = lastAddrs === undefined || !sameAddresses(lastAddrs, a);
      if (changed) {
        lastAddrs = a;
        if (a.v4.length === 0 && a.v6.length === 0 && opts.iface !== "any") {
          ev.onStatus(
            `Interface "${opts.iface}" has no address: doors without a Target cannot match until one is added`,
            "warning",
          );
        }
        ev.onAddresses(a);
      }
      if (changed || force) {
        let filter: string | readonly string[];
        try {
          filter = opts.filter(a, s.linkType);
        } catch (e) {
          ev.onStatus(`Cannot build the filter for ${where}: ${message(e)}`, "error");
          return true;
        }
        const r = installFilter(p, s.handle, filter, where);
        if (r.error !== "") ev.onStatus(r.error, "error");
        // A fallback is reported once, not at every re-install with the same outcome.
        if (r.warning !== lastFallback && r.warning !== "") ev.onStatus(r.warning, "warning");
        if (r.error === "") lastFallback = r.warning;
      }
      return true;
    };

    while (!signal.aborted) {
      const r = openLive(p, opts);
      if (!r.ok) {
        if (r.error !== lastOpenError) {
          ev.onStatus(
            `Cannot open ${where}, retrying every ${retryMs / 1000} s: ${r.error}`,
            "warning",
          );
          lastOpenError = r.error;
        }
        await w.sleep(retryMs);
        continue;
      }
      // A reopen after a loss or failed opens is news for whoever read the warning about it.
      const recovering = opens > 0 || lastOpenError !== "";
      lastOpenError = "";
      lastUp = undefined;
      session = r.session;
      const s = session;
      opens++;
      if (r.warning !== "") ev.onStatus(`Opened ${where} with a warning: ${r.warning}`, "warning");
      control.takeRefilter();
      refresh(s, true);
      ev.onStatus(
        `Listening on ${where} (link type ${linkTypeName(p, s.linkType)})`,
        recovering ? "notice" : "info",
      );
      ev.onOpen?.();
      const lost = await serve(p, s, w, control, signal, addressPollMs, deliver, refresh);
      session = undefined;
      closeSession(p, s);
      if (lost !== undefined) {
        ev.onStatus(`Lost ${where}, reopening: ${lost}`, "warning");
        await w.sleep(retryMs);
      }
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    running.delete(control);
    control.attach(undefined, () => ({ frames, callbackErrors, opens }));
    if (session !== undefined) closeSession(p, session);
    waker?.close();
    releasePcap();
  }
}

/**
 * Serves one open handle until abort (returns undefined) or loss (returns libpcap's text).
 */
async function serve(
  p: PcapLib,
  s: Session,
  w: Waker,
  control: CaptureControl,
  signal: AbortSignal,
  addressPollMs: number,
  deliver: (f: Frame) => void,
  refresh: (s: Session, force: boolean) => boolean,
): Promise<string | undefined> {
  const fds = pollfds([s.fd, w.fd]);
  let nextCheck = Date.now() + addressPollMs;
  let errorWakeups = 0;
  // "Hot": the last turn found packets. Then the next turn is a HOT_WAIT_MS timer instead of a
  // poll: a nonblocking FFI poll costs ~14 µs per wake-up (a thread hop; deno-libpcap-notes §4),
  // which under a flood wakes for a handful of packets each time, while the synchronous drain
  // costs ~0.1 µs per packet. The timer still gives timers and signals their turn, and the
  // first turn that finds the ring empty goes back to poll, so an idle link costs nothing and
  // the first packet after idle is delivered at once; later packets of a burst wait ≤ ~1 ms.
  let hot = false;
  while (!signal.aborted) {
    const now = Date.now();
    const force = control.takeRefilter();
    if (force || now >= nextCheck) {
      if (!refresh(s, force)) return "the interface is no longer listed by pcap_findalldevs";
      nextCheck = now + addressPollMs;
    }
    let re = POLLIN;
    if (hot) {
      await new Promise((resolve) => setTimeout(resolve, HOT_WAIT_MS));
      if (signal.aborted) break;
    } else {
      clearRevents(fds);
      // Deno keeps no reference to `fds` during the call: this frame holds it until it settles.
      await p.libc.poll(fds, 2n, Math.max(0, Math.min(1000, nextCheck - now)));
      if ((revents(fds, 1) & POLLIN) !== 0) w.drain();
      re = revents(fds, 0);
      if (re === 0) continue;
    }
    let total = 0;
    while (total < DRAIN_BUDGET) {
      const n = s.reader.read(s.linkType, deliver);
      if (n === -2) break; // pcap_breakloop: nobody calls it, but it is not an error
      if (n < 0) return cstr(p.sym.pcap_geterr(s.handle)) || "unknown libpcap error";
      if (n === 0) break;
      total += n;
    }
    hot = total > 0;
    if ((re & (POLLERR | POLLHUP | POLLNVAL)) !== 0 && total === 0) {
      // libpcap reports socket errors from pcap_dispatch; if it does not, do not spin on them.
      if (++errorWakeups >= 3) {
        return `poll reported condition 0x${re.toString(16)} on the capture socket`;
      }
    } else errorWakeups = 0;
  }
  return undefined;
}

/**
 * Reads a pcap file through libpcap (`pcap_open_offline`), applying `filter` as a live capture
 * would, and hands every frame that passes to `onFrame`. Yields to the event loop between
 * batches so timers run during long files.
 *
 * @param path The pcap (or pcapng) file.
 * @param filter BPF filter text ("" for none), or candidates from most to least exact (as for
 *   {@link LiveOptions.filter}).
 * @param ev Where frames go (`onStatus` only reports a fallback; `onAddresses` is not called).
 * @param signal Stops reading early.
 * @returns The number of frames delivered.
 * @throws {PcapError} `Cannot open capture file "x": <libpcap text>`, filter and read errors,
 *   or when libpcap cannot be loaded.
 *
 * @example
 * ```ts ignore
 * import { captureFile } from "./capture.ts";
 * const { frames } = await captureFile("knocks.pcap", "tcp", {
 *   onFrame: (f) => console.log(f.tsSec, f.caplen),
 *   onStatus: () => {},
 *   onAddresses: () => {},
 * });
 * ```
 */
export async function captureFile(
  path: string,
  filter: string | readonly string[],
  ev: CaptureEvents,
  signal?: AbortSignal,
): Promise<{ frames: number }> {
  const p = acquirePcap();
  try {
    const errbuf = new Uint8Array(PCAP_ERRBUF_SIZE);
    const before = openFds(p.libc);
    const handle = p.sym.pcap_open_offline(cString(path), errbuf);
    // libpcap fopen()s the file without close-on-exec: keep it out of door commands (B17).
    for (const fd of openFds(p.libc)) if (!before.has(fd)) setCloexec(p.libc, fd);
    if (handle === null) {
      throw new PcapError(`Cannot open capture file "${path}": ${errbufText(errbuf)}`);
    }
    let reader: BatchReader | undefined;
    try {
      const r = installFilter(p, handle, filter, `capture file "${path}"`);
      if (r.error !== "") throw new PcapError(r.error);
      if (r.warning !== "") ev.onStatus(r.warning, "warning");
      reader = new BatchReader(p, handle);
      const linkType = p.sym.pcap_datalink(handle);
      let frames = 0;
      let batches = 0;
      const deliver = (f: Frame) => {
        frames++;
        ev.onFrame(f);
      };
      while (signal?.aborted !== true) {
        const n = reader.read(linkType, deliver);
        if (n === 0 || n === -2) break;
        if (n < 0) {
          throw new PcapError(
            `Cannot read capture file "${path}": ${cstr(p.sym.pcap_geterr(handle))}`,
          );
        }
        if (++batches % 16 === 0) await new Promise((r) => setTimeout(r, 0));
      }
      return { frames };
    } finally {
      reader?.close();
      p.sym.pcap_close(handle);
    }
  } finally {
    releasePcap();
  }
}
