/**
 * libpcap through Deno FFI: the symbols knocktool uses, with their C prototypes.
 *
 * Loading tries, in order: `$KNOCKTOOL_LIBPCAP` (when set, only that), then `libpcap.so.0.8`
 * (Debian/Ubuntu), `libpcap.so.1` (Fedora, Arch, Alpine, OpenWrt), `libpcap.so` (needs the -dev
 * package), `libpcap.A.dylib` (macOS, from the dyld cache). When none loads, {@link PcapError}
 * lists every name tried with the loader's reason.
 *
 * Lifetimes (libpcap's rules, which Deno does not enforce):
 * - Header and data pointers from `pcap_next_ex` are valid only until the next call on the same
 *   handle; `Deno.UnsafePointerView.getArrayBuffer` aliases native memory, so copy what you keep.
 * - `pcap_geterr` text is valid until the next call on the handle: read it at once.
 * - Buffers passed to a `nonblocking: true` call are not kept alive by Deno: hold a reference
 *   until the promise settles. A handle must not be closed while such a call is pending.
 * - `pcap_freealldevs` frees every string and sockaddr reachable from the list.
 *
 * The library is opened lazily and reference-counted: pair {@link acquirePcap} with
 * {@link releasePcap}; the last release closes it (the resource sanitizer checks this).
 *
 * Over 400 lines because it is the whole libpcap binding: the symbol table with the C
 * prototypes, loading, and the helpers that must read libpcap's structs (device list, filter
 * compilation, link-type names). The batch reader and the open sequence are `pcap_batch.ts` and
 * `pcap_open.ts`.
 *
 * @module
 */
import { readEnv } from "../src/util/env.ts";
import { acquireLibc, cString, type Libc, releaseLibc, RTLD_LAZY, RTLD_NOLOAD } from "./libc.ts";

/** The names tried when `KNOCKTOOL_LIBPCAP` is not set, in order. */
export const PCAP_LIBRARY_NAMES: readonly string[] = [
  "libpcap.so.0.8",
  "libpcap.so.1",
  "libpcap.so",
  "libpcap.A.dylib",
];

/** `PCAP_ERRBUF_SIZE` from pcap/pcap.h. */
export const PCAP_ERRBUF_SIZE = 256;
/** `PCAP_NETMASK_UNKNOWN`: netmask for `pcap_compile` when it is not known. */
export const PCAP_NETMASK_UNKNOWN = 0xffffffff;
/** `pcap_if_t.flags`: loopback interface. */
export const PCAP_IF_LOOPBACK = 0x1;
/** `pcap_if_t.flags`: interface is up. */
export const PCAP_IF_UP = 0x2;
/** `pcap_if_t.flags`: interface is running. */
export const PCAP_IF_RUNNING = 0x4;
/** `pcap_if_t.flags`: interface is wireless. */
export const PCAP_IF_WIRELESS = 0x8;
/** `pcap_if_t.flags`: connection status mask (unknown, connected, disconnected, not applicable). */
export const PCAP_IF_CONNECTION_STATUS = 0x30;

const SYMBOLS = {
  /** `pcap_t *pcap_open_live(const char *device, int snaplen, int promisc, int to_ms, char *errbuf);` */
  pcap_open_live: { parameters: ["buffer", "i32", "i32", "i32", "buffer"], result: "pointer" },
  /** `pcap_t *pcap_create(const char *source, char *errbuf);` */
  pcap_create: { parameters: ["buffer", "buffer"], result: "pointer" },
  /** `int pcap_set_snaplen(pcap_t *p, int snaplen);` */
  pcap_set_snaplen: { parameters: ["pointer", "i32"], result: "i32" },
  /** `int pcap_set_promisc(pcap_t *p, int promisc);` */
  pcap_set_promisc: { parameters: ["pointer", "i32"], result: "i32" },
  /** `int pcap_set_timeout(pcap_t *p, int to_ms);` */
  pcap_set_timeout: { parameters: ["pointer", "i32"], result: "i32" },
  /** `int pcap_set_immediate_mode(pcap_t *p, int immediate_mode);` (libpcap ≥ 1.5) */
  pcap_set_immediate_mode: { parameters: ["pointer", "i32"], result: "i32", optional: true },
  /** `int pcap_set_buffer_size(pcap_t *p, int buffer_size);` (bytes of kernel ring) */
  pcap_set_buffer_size: { parameters: ["pointer", "i32"], result: "i32" },
  /** `int pcap_activate(pcap_t *p);` */
  pcap_activate: { parameters: ["pointer"], result: "i32" },
  /** `const char *pcap_statustostr(int error);` */
  pcap_statustostr: { parameters: ["i32"], result: "pointer" },
  /** `pcap_t *pcap_open_dead(int linktype, int snaplen);` */
  pcap_open_dead: { parameters: ["i32", "i32"], result: "pointer" },
  /** `pcap_t *pcap_open_offline(const char *fname, char *errbuf);` */
  pcap_open_offline: { parameters: ["buffer", "buffer"], result: "pointer" },
  /** `int pcap_compile(pcap_t *p, struct bpf_program *fp, const char *str, int optimize, bpf_u_int32 netmask);` */
  pcap_compile: { parameters: ["pointer", "buffer", "buffer", "i32", "u32"], result: "i32" },
  /** `int pcap_setfilter(pcap_t *p, struct bpf_program *fp);` */
  pcap_setfilter: { parameters: ["pointer", "buffer"], result: "i32" },
  /** `void pcap_freecode(struct bpf_program *fp);` */
  pcap_freecode: { parameters: ["buffer"], result: "void" },
  /** `int pcap_datalink(pcap_t *p);` */
  pcap_datalink: { parameters: ["pointer"], result: "i32" },
  /** `const char *pcap_datalink_val_to_name(int dlt);` */
  pcap_datalink_val_to_name: { parameters: ["i32"], result: "pointer" },
  /** `int pcap_snapshot(pcap_t *p);` */
  pcap_snapshot: { parameters: ["pointer"], result: "i32" },
  /** `int pcap_setnonblock(pcap_t *p, int nonblock, char *errbuf);` */
  pcap_setnonblock: { parameters: ["pointer", "i32", "buffer"], result: "i32" },
  /** `int pcap_get_selectable_fd(pcap_t *p);` (not on Windows) */
  pcap_get_selectable_fd: { parameters: ["pointer"], result: "i32", optional: true },
  /** `int pcap_next_ex(pcap_t *p, struct pcap_pkthdr **pkt_header, const u_char **pkt_data);` */
  pcap_next_ex: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  /** `int pcap_dispatch(pcap_t *p, int cnt, pcap_handler callback, u_char *user);` */
  pcap_dispatch: { parameters: ["pointer", "i32", "pointer", "pointer"], result: "i32" },
  /** `void pcap_dump(u_char *user, const struct pcap_pkthdr *h, const u_char *sp);` (a `pcap_handler`) */
  pcap_dump: { parameters: ["pointer", "pointer", "pointer"], result: "void" },
  /** `pcap_dumper_t *pcap_dump_fopen(pcap_t *p, FILE *fp);` */
  pcap_dump_fopen: { parameters: ["pointer", "pointer"], result: "pointer" },
  /** `int pcap_dump_flush(pcap_dumper_t *p);` */
  pcap_dump_flush: { parameters: ["pointer"], result: "i32" },
  /** `void pcap_dump_close(pcap_dumper_t *p);` (also `fclose`s the FILE) */
  pcap_dump_close: { parameters: ["pointer"], result: "void" },
  /** `int pcap_stats(pcap_t *p, struct pcap_stat *ps);` */
  pcap_stats: { parameters: ["pointer", "buffer"], result: "i32" },
  /** `int pcap_findalldevs(pcap_if_t **alldevsp, char *errbuf);` */
  pcap_findalldevs: { parameters: ["buffer", "buffer"], result: "i32" },
  /** `void pcap_freealldevs(pcap_if_t *alldevs);` */
  pcap_freealldevs: { parameters: ["pointer"], result: "void" },
  /** `char *pcap_geterr(pcap_t *p);` */
  pcap_geterr: { parameters: ["pointer"], result: "pointer" },
  /** `void pcap_breakloop(pcap_t *p);` */
  pcap_breakloop: { parameters: ["pointer"], result: "void" },
  /** `void pcap_close(pcap_t *p);` */
  pcap_close: { parameters: ["pointer"], result: "void" },
  /** `const char *pcap_lib_version(void);` */
  pcap_lib_version: { parameters: [], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The opened libpcap's symbols. */
export type PcapSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** An opened libpcap plus what the capture loop needs beside its symbols. */
export interface PcapLib {
  /** The symbols declared above. */
  readonly sym: PcapSymbols;
  /** libc, acquired together with libpcap. */
  readonly libc: Libc;
  /** Address of `pcap_dump`, usable as a `pcap_handler` for `pcap_dispatch`. */
  readonly pcapDumpFn: Deno.PointerObject;
  /** The name or path that loaded. */
  readonly name: string;
}

/** A libpcap failure; the message carries libpcap's own text. */
export class PcapError extends Error {
  /**
   * Creates the error.
   *
   * @param message The std-voice message, ending with libpcap's text.
   */
  constructor(message: string) {
    super(message);
    this.name = "PcapError";
  }
}

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;
let opened: PcapLib | undefined;
let dlHandle: Deno.PointerObject | null = null;
let users = 0;

/**
 * The library names that {@link acquirePcap} tries, honouring `KNOCKTOOL_LIBPCAP`.
 *
 * @returns The names in order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pcapLibraryCandidates } from "./libpcap.ts";
 * assert.notEqual(pcapLibraryCandidates().length, 0, "no candidates");
 * ```
 */
export function pcapLibraryCandidates(): readonly string[] {
  const override = readEnv("KNOCKTOOL_LIBPCAP");
  return override !== undefined && override !== "" ? [override] : PCAP_LIBRARY_NAMES;
}

/**
 * Opens libpcap (and libc) on first use; pair every call with {@link releasePcap}.
 *
 * @returns The library.
 * @throws {PcapError} When no candidate loads: `Cannot load libpcap: tried "a" (reason), …`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { acquirePcap, releasePcap } from "./libpcap.ts";
 * const p = acquirePcap();
 * try {
 *   assert.notEqual(p.name, "", "no library name");
 * } finally {
 *   releasePcap();
 * }
 * ```
 */
export function acquirePcap(): PcapLib {
  if (opened === undefined) {
    const libc = acquireLibc();
    try {
      const errors: string[] = [];
      let name = "";
      for (const candidate of pcapLibraryCandidates()) {
        try {
          lib = Deno.dlopen(candidate, SYMBOLS);
          name = candidate;
          break;
        } catch (e) {
          errors.push(`"${candidate}" (${firstLine(e)})`);
        }
      }
      if (lib === undefined) {
        throw new PcapError(`Cannot load libpcap: tried ${errors.join(", ")}`);
      }
      // The handler pointer: dlopen the already-loaded library again (RTLD_NOLOAD only bumps its
      // reference count) and look the symbol up; dlclose'd on the last release.
      dlHandle = libc.dlopen(cString(name), RTLD_LAZY | RTLD_NOLOAD);
      const fn = dlHandle === null ? null : libc.dlsym(dlHandle, cString("pcap_dump"));
      if (fn === null) {
        const why = libc.dlerror();
        if (dlHandle !== null) libc.dlclose(dlHandle);
        dlHandle = null;
        lib.close();
        lib = undefined;
        throw new PcapError(
          `Cannot find "pcap_dump" in "${name}": ${
            why === null ? "unknown error" : Deno.UnsafePointerView.getCString(why)
          }`,
        );
      }
      opened = { sym: lib.symbols, libc, pcapDumpFn: fn, name };
    } catch (e) {
      releaseLibc();
      throw e;
    }
  }
  users++;
  return opened;
}

/**
 * Releases one {@link acquirePcap}; the last release closes libpcap and libc.
 *
 * @example
 * ```ts
 * import { releasePcap } from "./libpcap.ts";
 * releasePcap(); // without a matching acquire this does nothing
 * ```
 */
export function releasePcap(): void {
  if (users <= 0) return;
  users--;
  if (users > 0 || opened === undefined) return;
  if (dlHandle !== null) opened.libc.dlclose(dlHandle);
  dlHandle = null;
  lib?.close();
  lib = undefined;
  opened = undefined;
  releaseLibc();
}

/**
 * Runs `f` with libpcap acquired, releasing it afterwards.
 *
 * @param f The work.
 * @returns What `f` returns.
 * @throws {PcapError} When libpcap cannot be loaded; whatever `f` throws.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { libVersion, withPcap } from "./libpcap.ts";
 * assert(withPcap(libVersion).startsWith("libpcap version "));
 * ```
 */
export function withPcap<T>(f: (p: PcapLib) => T): T {
  const p = acquirePcap();
  try {
    return f(p);
  } finally {
    releasePcap();
  }
}

function firstLine(e: unknown): string {
  const text = (e instanceof Error ? e.message : String(e)).replace(
    /^(Could not open library: )+/,
    "",
  );
  return text.split("\n")[0] ?? text;
}

/**
 * Reads a NUL-terminated string from a pointer that may be null.
 *
 * @param p The pointer.
 * @returns The text ("" for null).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cstr } from "./libpcap.ts";
 * assert.equal(cstr(null), "", "null is empty");
 * ```
 */
export function cstr(p: Deno.PointerValue): string {
  return p === null ? "" : Deno.UnsafePointerView.getCString(p);
}

/**
 * The text in a libpcap `errbuf` (up to its NUL).
 *
 * @param errbuf A `PCAP_ERRBUF_SIZE` buffer.
 * @returns The text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errbufText } from "./libpcap.ts";
 * assert.equal(errbufText(new Uint8Array([104, 105, 0, 120])), "hi");
 * ```
 */
export function errbufText(errbuf: Uint8Array): string {
  const end = errbuf.indexOf(0);
  return new TextDecoder().decode(errbuf.subarray(0, end < 0 ? errbuf.length : end));
}

/**
 * libpcap's version string, e.g. `libpcap version 1.10.3 (with TPACKET_V3)`.
 *
 * @param p The library.
 * @returns The text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { libVersion, withPcap } from "./libpcap.ts";
 * const v = withPcap(libVersion); // e.g. "libpcap version 1.10.3 (with TPACKET_V3)"
 * assert.match(v, /^libpcap version \d+\.\d+/);
 * ```
 */
export function libVersion(p: PcapLib): string {
  return cstr(p.sym.pcap_lib_version());
}

/**
 * The name libpcap gives a link type, e.g. `EN10MB`, or the number when it has none.
 *
 * @param p The library.
 * @param dlt The link type.
 * @returns The name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DLT } from "./dlt.ts";
 * import { linkTypeName, withPcap } from "./libpcap.ts";
 * assert.equal(withPcap((p) => linkTypeName(p, DLT.EN10MB)), "EN10MB");
 * assert.equal(withPcap((p) => linkTypeName(p, 65000)), "65000");
 * ```
 */
export function linkTypeName(p: PcapLib, dlt: number): string {
  const name = cstr(p.sym.pcap_datalink_val_to_name(dlt));
  return name === "" ? String(dlt) : name;
}

/** An address of an interface as `pcap_findalldevs` reports it. */
export interface DeviceAddress {
  /** Address family. */
  readonly family: 4 | 6;
  /** The address bytes (4 or 16). */
  readonly bytes: Uint8Array;
  /** IPv6 scope id (0 for IPv4 and global addresses). */
  readonly scopeId: number;
}

/** One entry of `pcap_findalldevs`. */
export interface Device {
  /** Interface name, e.g. `eth0`, `any`. */
  readonly name: string;
  /** libpcap's description, "" when none. */
  readonly description: string;
  /** `PCAP_IF_*` flags. */
  readonly flags: number;
  /** IPv4 and IPv6 addresses in the order libpcap lists them (getifaddrs order). */
  readonly addresses: readonly DeviceAddress[];
}

const AF_INET = 2;
const AF_INET6 = Deno.build.os === "darwin" ? 30 : Deno.build.os === "freebsd" ? 28 : 10;

/**
 * Lists capturable devices (`pcap_findalldevs`), copying everything out before freeing the list.
 *
 * `pcap_if_t` on LP64: `next` @0, `name` @8, `description` @16, `addresses` @24, `flags` u32 @32.
 * `pcap_addr_t`: `next` @0, `addr` @8 (then netmask, broadaddr, dstaddr). `sockaddr`: family u16
 * @0 on Linux (u8 @1 on BSD/macOS, after `sa_len`); `sockaddr_in` address @4; `sockaddr_in6`
 * address @8, scope id @24.
 *
 * @param p The library.
 * @returns The devices.
 * @throws {PcapError} `Cannot list interfaces: <libpcap text>`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findAllDevs, withPcap } from "./libpcap.ts";
 * const lo = withPcap(findAllDevs).find((d) => d.name === "lo");
 * assert(lo !== undefined);
 * assert(lo.addresses.some((a) => a.family === 4));
 * ```
 */
export function findAllDevs(p: PcapLib): Device[] {
  const head = new BigUint64Array(1);
  const errbuf = new Uint8Array(PCAP_ERRBUF_SIZE);
  if (p.sym.pcap_findalldevs(head, errbuf) !== 0) {
    throw new PcapError(`Cannot list interfaces: ${errbufText(errbuf)}`);
  }
  const first = Deno.UnsafePointer.create(head[0] ?? 0n);
  const out: Device[] = [];
  const bsd = Deno.build.os !== "linux";
  try {
    for (let dev = first; dev !== null;) {
      const v = new Deno.UnsafePointerView(dev);
      const addresses: DeviceAddress[] = [];
      for (let a = v.getPointer(24); a !== null;) {
        const av = new Deno.UnsafePointerView(a);
        const sa = av.getPointer(8);
        if (sa !== null) {
          const sv = new Deno.UnsafePointerView(sa);
          const family = bsd ? sv.getUint8(1) : sv.getUint16(0);
          if (family === AF_INET) {
            addresses.push({ family: 4, bytes: copy(sv, 4, 4), scopeId: 0 });
          } else if (family === AF_INET6) {
            addresses.push({ family: 6, bytes: copy(sv, 8, 16), scopeId: sv.getUint32(24) });
          }
        }
        a = av.getPointer(0);
      }
      out.push({
        name: cstr(v.getPointer(8)),
        description: cstr(v.getPointer(16)),
        flags: v.getUint32(32),
        addresses,
      });
      dev = v.getPointer(0);
    }
  } finally {
    if (first !== null) p.sym.pcap_freealldevs(first);
  }
  return out;
}

function copy(v: Deno.UnsafePointerView, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  v.copyInto(out, offset);
  return out;
}

/** The outcome of {@link compileFilter}. */
export type CompileResult =
  | { readonly ok: true; readonly instructions: number }
  | { readonly ok: false; readonly error: string };

/**
 * Compiles a filter expression for a link type without capturing (`pcap_open_dead` +
 * `pcap_compile` with the optimizer on, as a capture does) and counts its BPF instructions.
 *
 * @param p The library.
 * @param linkType The pcap link type (`DLT_*`).
 * @param text The expression ("" compiles to one instruction that accepts everything).
 * @param snaplen The snapshot length the program returns for accepted packets.
 * @returns The instruction count, or libpcap's error text.
 * @throws {PcapError} When libpcap cannot create a dead handle.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DLT } from "./dlt.ts";
 * import { compileFilter, withPcap } from "./libpcap.ts";
 * const r = withPcap((p) => compileFilter(p, DLT.EN10MB, "udp dst port 7000"));
 * assert(r.ok);
 * assert(r.instructions >= 2);
 * const bad = withPcap((p) => compileFilter(p, DLT.RAW, "vlan"));
 * assert(!bad.ok, "libpcap has no VLAN support for raw IP");
 * ```
 */
export function compileFilter(
  p: PcapLib,
  linkType: number,
  text: string,
  snaplen = 262144,
): CompileResult {
  const handle = p.sym.pcap_open_dead(linkType, snaplen);
  if (handle === null) throw new PcapError(`Cannot create a pcap handle for link type ${linkType}`);
  try {
    const prog = new Uint8Array(16); // struct bpf_program { u_int bf_len; struct bpf_insn *bf_insns; }
    if (p.sym.pcap_compile(handle, prog, cString(text), 1, PCAP_NETMASK_UNKNOWN) < 0) {
      return { ok: false, error: cstr(p.sym.pcap_geterr(handle)) };
    }
    const instructions = new Uint32Array(prog.buffer, 0, 1)[0] ?? 0;
    p.sym.pcap_freecode(prog);
    return { ok: true, instructions };
  } finally {
    p.sym.pcap_close(handle);
  }
}
