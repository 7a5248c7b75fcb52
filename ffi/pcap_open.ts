/**
 * Opening libpcap handles for the capture loop: a live interface (knockd's `pcap_open_live`, or
 * `pcap_create` … `pcap_activate` for immediate mode) in non-blocking mode, or a pcap file; every
 * descriptor libpcap opens on the way is marked close-on-exec, so that door commands never
 * inherit a capture socket or file (docs/COMPATIBILITY.md B17).
 *
 * @module
 */
import { cstr, errbufText, PCAP_ERRBUF_SIZE, PcapError, type PcapLib } from "./libpcap.ts";
import { cString, type Libc, openDescriptors, setCloexec } from "./libc.ts";

/** `pcap_activate` result: generic error, details in `pcap_geterr` (pcap/pcap.h). */
export const PCAP_ERROR = -1;
/** `pcap_activate` result: no such device. */
export const PCAP_ERROR_NO_SUCH_DEVICE = -5;
/** `pcap_activate` result: no permission to capture. */
export const PCAP_ERROR_PERM_DENIED = -8;
/** `pcap_activate` result: no permission for promiscuous mode. */
export const PCAP_ERROR_PROMISC_PERM_DENIED = -11;

/** How to open a live interface. */
export interface LiveHandleOptions {
  /** Interface name, or `any`. */
  readonly iface: string;
  /** Snapshot length; default 65535 (knockd's). */
  readonly snaplen?: number | undefined;
  /** libpcap read timeout in ms; default 50 (knockd's). */
  readonly timeoutMs?: number | undefined;
  /** `pcap_set_immediate_mode` (through `pcap_create` … `pcap_activate`). */
  readonly immediate?: boolean | undefined;
  /** Kernel ring size in bytes (`pcap_set_buffer_size`), applied with `immediate`. */
  readonly bufferBytes?: number | undefined;
}

/** An open, non-blocking live handle. */
export interface LiveHandle {
  /** The `pcap_t *`. */
  readonly handle: Deno.PointerObject;
  /** Its selectable descriptor, for `poll`. */
  readonly fd: number;
  /** Its link type (`DLT_*`). */
  readonly linkType: number;
}

/** What {@link openLiveHandle} gives: a handle and libpcap's warning ("" for none), or its error. */
export type OpenLiveResult =
  | { readonly ok: true; readonly live: LiveHandle; readonly warning: string }
  | { readonly ok: false; readonly error: string };

/**
 * Marks every descriptor opened during `fn` close-on-exec (libpcap opens sockets and files
 * without `FD_CLOEXEC`). Open descriptors come from libc: Deno refuses /proc/self without
 * `--allow-all`.
 *
 * @param libc The libc symbols.
 * @param fn What opens descriptors.
 * @returns What `fn` returns.
 *
 * @example
 * ```ts
 * import { acquireLibc, FD_CLOEXEC, F_GETFD, releaseLibc } from "./libc.ts";
 * import { cloexecNewDescriptors } from "./pcap_open.ts";
 * const libc = acquireLibc();
 * try {
 *   const fds = new Int32Array(2);
 *   cloexecNewDescriptors(libc, () => libc.pipe(fds));
 *   for (const fd of fds) {
 *     if ((libc.fcntl(fd, F_GETFD, 0) & FD_CLOEXEC) === 0) throw new Error("not close-on-exec");
 *     libc.close(fd);
 *   }
 * } finally {
 *   releaseLibc();
 * }
 * ```
 */
export function cloexecNewDescriptors<T>(libc: Libc, fn: () => T): T {
  const before = new Set(openDescriptors(libc));
  try {
    return fn();
  } finally {
    for (const fd of openDescriptors(libc)) if (!before.has(fd)) setCloexec(libc, fd);
  }
}

/**
 * Opens a live interface, non-blocking, with its descriptors close-on-exec. Failures are data:
 * libpcap's text, as `pcap_open_live` would word it (`eth9: No such device exists (…)`).
 *
 * @param p The library.
 * @param opts What to open.
 * @returns The handle, or the error text.
 *
 * @example
 * ```ts
 * import { acquirePcap, releasePcap } from "./libpcap.ts";
 * import { openLiveHandle } from "./pcap_open.ts";
 * const p = acquirePcap();
 * try {
 *   const r = openLiveHandle(p, { iface: "kt-no-such-if0" });
 *   if (r.ok) throw new Error("an interface that does not exist cannot open");
 *   if (!r.error.startsWith("kt-no-such-if0: ")) throw new Error(r.error);
 * } finally {
 *   releasePcap();
 * }
 * ```
 */
export function openLiveHandle(p: PcapLib, opts: LiveHandleOptions): OpenLiveResult {
  return cloexecNewDescriptors(p.libc, () => openLive(p, opts));
}

function openLive(p: PcapLib, opts: LiveHandleOptions): OpenLiveResult {
  const { sym } = p;
  const errbuf = new Uint8Array(PCAP_ERRBUF_SIZE);
  const name = cString(opts.iface);
  const snaplen = opts.snaplen ?? 65535;
  const timeout = opts.timeoutMs ?? 50;
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
  const fail = (error: string): OpenLiveResult => {
    sym.pcap_close(h);
    return { ok: false, error };
  };
  if (sym.pcap_setnonblock(h, 1, errbuf) < 0) return fail(errbufText(errbuf));
  const fd = sym.pcap_get_selectable_fd?.(h) ?? -1;
  if (fd < 0) return fail(`${opts.iface}: no selectable descriptor`);
  return { ok: true, live: { handle: h, fd, linkType: sym.pcap_datalink(h) }, warning };
}

/**
 * Opens a pcap (or pcapng) file with its descriptor close-on-exec.
 *
 * @param p The library.
 * @param path The file.
 * @returns The `pcap_t *`.
 * @throws {PcapError} `Cannot open capture file "x": <libpcap text>`.
 *
 * @example
 * ```ts
 * import { acquirePcap, PcapError, releasePcap } from "./libpcap.ts";
 * import { openOfflineHandle } from "./pcap_open.ts";
 * const p = acquirePcap();
 * try {
 *   openOfflineHandle(p, "/nonexistent/x.pcap");
 *   throw new Error("a missing file cannot open");
 * } catch (e) {
 *   if (!(e instanceof PcapError)) throw e;
 *   const want = `Cannot open capture file "/nonexistent/x.pcap": /nonexistent/x.pcap: No such file or directory`;
 *   if (e.message !== want) throw new Error(e.message);
 * } finally {
 *   releasePcap();
 * }
 * ```
 */
export function openOfflineHandle(p: PcapLib, path: string): Deno.PointerObject {
  const errbuf = new Uint8Array(PCAP_ERRBUF_SIZE);
  // libpcap fopen()s the file without close-on-exec: keep it out of door commands.
  const handle = cloexecNewDescriptors(
    p.libc,
    () => p.sym.pcap_open_offline(cString(path), errbuf),
  );
  if (handle === null) {
    throw new PcapError(`Cannot open capture file "${path}": ${errbufText(errbuf)}`);
  }
  return handle;
}

/** `struct pcap_stat` of a live handle. */
export interface PcapStats {
  /** Packets received. */
  readonly recv: number;
  /** Packets dropped by the kernel (over-counts on `lo`: read it as "drops happened"). */
  readonly drop: number;
  /** Packets dropped by the interface. */
  readonly ifdrop: number;
}

/**
 * `pcap_stats` of a handle.
 *
 * @param p The library.
 * @param handle A live handle.
 * @returns The counters, or undefined when libpcap has none (offline handles).
 *
 * @example
 * ```ts
 * import { acquirePcap, releasePcap } from "./libpcap.ts";
 * import { readPcapStats } from "./pcap_open.ts";
 * const p = acquirePcap();
 * try {
 *   const dead = p.sym.pcap_open_dead(1, 65535);
 *   if (dead === null) throw new Error("pcap_open_dead failed");
 *   try {
 *     if (readPcapStats(p, dead) !== undefined) throw new Error("a dead handle has no stats");
 *   } finally {
 *     p.sym.pcap_close(dead);
 *   }
 * } finally {
 *   releasePcap();
 * }
 * ```
 */
export function readPcapStats(p: PcapLib, handle: Deno.PointerObject): PcapStats | undefined {
  const buf = new Uint32Array(4); // struct pcap_stat { u_int ps_recv, ps_drop, ps_ifdrop; }
  if (p.sym.pcap_stats(handle, buf) !== 0) return undefined;
  return { recv: buf[0] ?? 0, drop: buf[1] ?? 0, ifdrop: buf[2] ?? 0 };
}
