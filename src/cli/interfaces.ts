/**
 * `knocktool interfaces [--json]`: the interfaces libpcap can capture on, with their link type,
 * flags and addresses, to pick a value for `-i` / `Interface=`.
 *
 * The link type is only known once a handle is activated, so each interface is opened briefly
 * (`pcap_create` + `pcap_activate`, snaplen 64, not promiscuous); that needs root or CAP_NET_RAW.
 * An interface that cannot be opened (down, no permission) is listed with link type `?` and
 * libpcap's reason.
 *
 * @module
 */
import type { Io } from "../util/io.ts";
import {
  acquirePcap,
  cstr,
  type Device,
  errbufText,
  findAllDevs,
  linkTypeName,
  PCAP_ERRBUF_SIZE,
  PCAP_IF_CONNECTION_STATUS,
  PCAP_IF_LOOPBACK,
  PCAP_IF_RUNNING,
  PCAP_IF_UP,
  PCAP_IF_WIRELESS,
  PcapError,
  type PcapLib,
  releasePcap,
} from "../../ffi/libpcap.ts";
import { cString, LibcError } from "../../ffi/libc.ts";
import { addressText } from "../server/addresses.ts";
import type { InterfacesOptions } from "./interfaces_args.ts";

/** One listed interface (the `--json` element). */
export interface InterfaceInfo {
  /** Name to give to `-i`. */
  readonly name: string;
  /** libpcap's description, "" when none. */
  readonly description: string;
  /** pcap link type (`DLT_*`), null when the interface could not be opened. */
  readonly linkType: number | null;
  /** libpcap's name for the link type, e.g. `EN10MB`; null when unknown. */
  readonly linkTypeName: string | null;
  /** Flag words: `up`, `running`, `loopback`, `wireless`, `connected`, `disconnected`. */
  readonly flags: readonly string[];
  /** Addresses in canonical text, in libpcap's order (IPv6 without zone). */
  readonly addresses: { readonly v4: readonly string[]; readonly v6: readonly string[] };
  /** Why the link type is unknown (libpcap's text). */
  readonly error?: string;
}

function flagWords(flags: number): string[] {
  const out: string[] = [];
  if (flags & PCAP_IF_UP) out.push("up");
  if (flags & PCAP_IF_RUNNING) out.push("running");
  if (flags & PCAP_IF_LOOPBACK) out.push("loopback");
  if (flags & PCAP_IF_WIRELESS) out.push("wireless");
  const status = flags & PCAP_IF_CONNECTION_STATUS;
  if (status === 0x10) out.push("connected");
  if (status === 0x20) out.push("disconnected");
  return out;
}

function probeLinkType(p: PcapLib, name: string): { dlt: number } | { error: string } {
  const errbuf = new Uint8Array(PCAP_ERRBUF_SIZE);
  const h = p.sym.pcap_create(cString(name), errbuf);
  if (h === null) return { error: errbufText(errbuf) };
  try {
    p.sym.pcap_set_snaplen(h, 64);
    p.sym.pcap_set_promisc(h, 0);
    p.sym.pcap_set_timeout(h, 1);
    const rc = p.sym.pcap_activate(h);
    if (rc < 0) {
      const detail = cstr(p.sym.pcap_geterr(h));
      const status = cstr(p.sym.pcap_statustostr(rc));
      // pcap_open_live's wording: the status, with libpcap's detail where it adds something.
      const withDetail = rc === -5 || rc === -8 || rc === -11;
      return {
        error: rc === -1 ? detail : withDetail && detail ? `${status} (${detail})` : status,
      };
    }
    return { dlt: p.sym.pcap_datalink(h) };
  } finally {
    p.sym.pcap_close(h);
  }
}

/**
 * Lists the capturable interfaces.
 *
 * @param p The library.
 * @returns One entry per interface, in libpcap's order.
 * @throws {PcapError} When libpcap cannot list interfaces.
 *
 * @example
 * ```ts ignore
 * import { listInterfaces } from "./interfaces.ts";
 * import { withPcap } from "../../ffi/libpcap.ts";
 * console.log(withPcap(listInterfaces).map((i) => i.name));
 * ```
 */
export function listInterfaces(p: PcapLib): InterfaceInfo[] {
  return findAllDevs(p).map((d: Device) => {
    // Only up interfaces are probed: activating others fails anyway, and some pseudo-devices
    // (dbus-session) would try to start services when opened.
    const probe = (d.flags & PCAP_IF_UP) !== 0
      ? probeLinkType(p, d.name)
      : { error: "That device is not up" };
    const v4 = d.addresses.filter((a) => a.family === 4).map((a) => addressText(a.bytes));
    const v6 = d.addresses.filter((a) => a.family === 6).map((a) => addressText(a.bytes));
    const base = {
      name: d.name,
      description: d.description,
      flags: flagWords(d.flags),
      addresses: { v4, v6 },
    };
    return "dlt" in probe
      ? { ...base, linkType: probe.dlt, linkTypeName: linkTypeName(p, probe.dlt) }
      : { ...base, linkType: null, linkTypeName: null, error: probe.error };
  });
}

function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) =>
    r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ").trimEnd() + "\n"
  ).join("");
}

/**
 * Runs `interfaces`; returns the exit status (0, or 1 when libpcap cannot be used).
 *
 * @param opts Parsed options.
 * @param io Where to print.
 * @returns The exit status.
 *
 * @example
 * ```ts ignore
 * import { runInterfaces } from "./interfaces.ts";
 * import { processIo } from "../util/io.ts";
 * await runInterfaces({ cmd: "interfaces", json: true }, processIo);
 * ```
 */
export function runInterfaces(opts: InterfacesOptions, io: Io): Promise<number> {
  let list: InterfaceInfo[];
  try {
    const p = acquirePcap();
    try {
      list = listInterfaces(p);
    } finally {
      releasePcap();
    }
  } catch (e) {
    // libpcap or libc cannot be loaded, or the interfaces cannot be listed; anything else is a bug.
    if (!(e instanceof PcapError || e instanceof LibcError)) throw e;
    io.stderr(`${e.message}\n`);
    return Promise.resolve(1);
  }
  if (opts.json === true) {
    io.stdout(JSON.stringify(list, null, 2) + "\n");
    return Promise.resolve(0);
  }
  const rows = [["NAME", "LINK TYPE", "FLAGS", "ADDRESSES"]];
  for (const i of list) {
    const addrs = i.name === "any"
      ? "(every interface's)"
      : [...i.addresses.v4, ...i.addresses.v6].join(" ");
    rows.push([i.name, i.linkTypeName ?? "?", i.flags.join(",") || "-", addrs]);
  }
  io.stdout(table(rows));
  for (const i of list) {
    if (i.error !== undefined && i.flags.includes("up")) {
      io.stderr(`Cannot read the link type of "${i.name}": ${i.error}\n`);
    }
  }
  return Promise.resolve(0);
}
