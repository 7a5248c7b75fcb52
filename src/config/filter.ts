/**
 * BPF filter expressions for the doors of a config: knockd 0.8's exact expression
 * (`generate_pcap_filter`, docs/COMPATIBILITY.md §3.2) and the compact superset knocktool installs.
 *
 * @module
 */
import type { Door, TcpFlagName } from "./model.ts";
import { TCP_FLAG_BITS, TCP_FLAG_NAMES } from "./model.ts";
import { DLT } from "../../ffi/dlt.ts";
import { canonicalAddress, formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from "../wire/address.ts";

/**
 * The interface's local addresses, as text (IPv6 without a zone), in knockd's `myips` order:
 * knockd prepends each `getifaddrs` entry, so its list is the reverse of `getifaddrs` order.
 */
export interface LocalAddresses {
  /** IPv4 addresses. */
  readonly v4: readonly string[];
  /** IPv6 addresses. */
  readonly v6: readonly string[];
}

/** pcap's names for the TCP flag bits, in knockd's emission order. */
const PCAP_FLAG: Readonly<Record<TcpFlagName, string>> = {
  fin: "tcp-fin",
  syn: "tcp-syn",
  rst: "tcp-rst",
  psh: "tcp-push",
  ack: "tcp-ack",
  urg: "tcp-urg",
};

type Family = "v4" | "v6";

function hostPart(hosts: readonly string[]): string {
  return "(" + hosts.map((h) => `dst host ${h}`).join(" or ") + ")";
}

function protoPart(door: Door, fam: Family): string {
  const tcp = door.sequence.filter((k) => k.protocol === "tcp").map((k) => String(k.port));
  const udp = door.sequence.filter((k) => k.protocol === "udp").map((k) => String(k.port));
  let s = "(";
  if (tcp.length > 0) {
    s += "((tcp dst port " + tcp.join(" or ") + ")";
    for (const f of TCP_FLAG_NAMES) {
      const want = door.tcpFlags[f];
      if (want === undefined) continue;
      // knockd assumes no IPv6 extension headers: the TCP flags byte is at 40 + 13.
      const at = fam === "v4" ? "tcp[tcpflags]" : "ip6[13+40]";
      s += ` and ${at} & ${PCAP_FLAG[f]} ${want === "set" ? "!= 0" : "== 0"}`;
    }
    s += ")";
    if (udp.length > 0) s += " or ";
  }
  if (udp.length > 0) s += "(udp dst port " + udp.join(" or ") + ")";
  return s + ")";
}

function hostsFor(locals: readonly string[], target: string | undefined): string[] {
  // knockd repeats the target once per local address of the family (docs/COMPATIBILITY.md §3.2,
  // B24).
  return target === undefined ? [...locals] : locals.map(() => target);
}

/**
 * knockd 0.8's BPF expression, byte for byte: per door (config order) an IPv4 sub-filter if the
 * interface has IPv4 addresses and an IPv6 one if it has IPv6 addresses (and not `-4`), joined with
 * " or ". Returns "" when there is no sub-filter (no doors, or no addresses: knockd then installs
 * no filter at all).
 *
 * @param doors The doors, in config order.
 * @param addrs The interface's addresses in knockd's order.
 * @param ipv4Only knockd's `-4`.
 * @returns The expression knockd passes to `pcap_compile`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { knockdFilter } from "./filter.ts";
 * const door = { name: "mc", line: 1, sequence: [{ port: 19132, protocol: "udp" as const }],
 *   seqTimeout: 25, cmdTimeout: 10, tcpFlags: {} };
 * const f = knockdFilter([door], { v4: ["127.0.0.1"], v6: [] }, false);
 * assert.equal(f, "((dst host 127.0.0.1) and ((udp dst port 19132)))");
 * ```
 */
export function knockdFilter(
  doors: readonly Door[],
  addrs: LocalAddresses,
  ipv4Only: boolean,
): string {
  const hasV4 = addrs.v4.length > 0;
  const hasV6 = !ipv4Only && addrs.v6.length > 0;
  const subs: string[] = [];
  for (const door of doors) {
    if (door.sequence.length === 0) continue;
    if (hasV4) {
      subs.push(
        `(${hostPart(hostsFor(addrs.v4, door.target))} and ${protoPart(door, "v4")})`,
      );
    }
    if (hasV6) {
      subs.push(
        `(${hostPart(hostsFor(addrs.v6, door.target))} and ${protoPart(door, "v6")})`,
      );
    }
  }
  return subs.join(" or ");
}

/** pcap `DLT_EN10MB`: the only link type whose filter gets 802.1Q/802.1ad variants. */
const DLT_EN10MB = DLT.EN10MB;

/** The kernel's limit on a classic BPF program (`BPF_MAXINSNS`). */
export const BPF_MAX_INSNS = 4096;

/** How exact a capture filter is; see {@link captureFilters}. */
export type FilterLevel = "ports" | "hosts" | "ip";

/** One candidate capture filter. */
export interface FilterCandidate {
  /** How much it narrows: `ports` (addresses and ports), `hosts` (addresses), `ip` (IP only). */
  readonly level: FilterLevel;
  /** The pcap expression ("" admits everything). */
  readonly text: string;
}

/** The addresses a door can be knocked at, in canonical text, and the union of its ports. */
interface Scope {
  readonly v4: string[];
  readonly v6: string[];
  readonly tcp: number[];
  readonly udp: number[];
  /** TCP flag masks every door with a TCP knock requires alike, or undefined. */
  readonly flags: { readonly mask: number; readonly value: number } | undefined;
}

function scopeOf(doors: readonly Door[], addrs: LocalAddresses, ipv4Only: boolean): Scope {
  const v4 = new Set<string>();
  const v6 = new Set<string>();
  const tcp = new Set<number>();
  const udp = new Set<number>();
  let local = false;
  // null: no TCP door seen yet; undefined: TCP doors disagree.
  let flags: { mask: number; value: number } | null | undefined = null;
  for (const door of doors) {
    if (door.sequence.length === 0) continue;
    if (door.target === undefined) local = true;
    else {
      // A Target that is no address (or IPv6 under -4) matches nothing: it adds nothing.
      const c = canonicalAddress(door.target);
      if (c === null || (c.family === 6 && ipv4Only)) continue;
      (c.family === 4 ? v4 : v6).add(c.text);
    }
    for (const k of door.sequence) (k.protocol === "tcp" ? tcp : udp).add(k.port);
    if (door.sequence.some((k) => k.protocol === "tcp" && k.flags !== undefined)) {
      // Steps with their own flags (docs/FLAG-KNOCKING.md): the matcher tests the flags.
      flags = undefined;
    } else if (door.sequence.some((k) => k.protocol === "tcp")) {
      let mask = 0;
      let value = 0;
      for (const f of TCP_FLAG_NAMES) {
        const want = door.tcpFlags[f];
        if (want === undefined) continue;
        mask |= TCP_FLAG_BITS[f];
        if (want === "set") value |= TCP_FLAG_BITS[f];
      }
      if (flags === null) flags = { mask, value };
      else if (flags !== undefined && (flags.mask !== mask || flags.value !== value)) {
        flags = undefined;
      }
    }
  }
  if (local) {
    for (const a of [...addrs.v4, ...(ipv4Only ? [] : addrs.v6)]) {
      const c = canonicalAddress(a);
      if (c !== null) (c.family === 4 ? v4 : v6).add(c.text);
    }
  }
  const num = (a: number, b: number) => a - b;
  return {
    v4: [...v4],
    v6: [...v6],
    tcp: [...tcp].sort(num),
    udp: [...udp].sort(num),
    flags: flags === null || flags?.mask === 0 ? undefined : flags,
  };
}

/**
 * At most this many port terms per protocol: beyond it the port set is widened to fewer ranges
 * (closing the smallest gaps first), which keeps the program small whatever the config holds.
 */
export const MAX_PORT_TERMS = 32;

/** Covers sorted distinct ports with at most `max` ranges, closing the smallest gaps first. */
function coverPorts(ports: readonly number[], max: number): [number, number][] {
  if (ports.length === 0) return [];
  const gaps: number[] = [];
  for (let i = 1; i < ports.length; i++) if (ports[i]! > ports[i - 1]! + 1) gaps.push(i);
  // Keep the max - 1 widest gaps as breaks between ranges (ties: the earlier gap).
  const width = (i: number) => ports[i]! - ports[i - 1]!;
  const breaks = new Set(
    gaps.length < max ? gaps : [...gaps].sort((a, b) => width(b) - width(a) || a - b)
      .slice(0, max - 1),
  );
  const out: [number, number][] = [];
  let start = ports[0]!;
  for (let i = 1; i <= ports.length; i++) {
    if (i === ports.length || breaks.has(i)) {
      out.push([start, ports[i - 1]!]);
      if (i < ports.length) start = ports[i]!;
    }
  }
  return out;
}

/** `tcp dst port 1 or tcp dst portrange 5-9 ...` for a cover of the ports. */
function portsPart(proto: "tcp" | "udp", ports: readonly number[]): string[] {
  return coverPorts(ports, MAX_PORT_TERMS).map(([a, b]) =>
    a === b ? `${proto} dst port ${a}` : `${proto} dst portrange ${a}-${b}`
  );
}

/** At most this many address terms: beyond it addresses are widened to shorter prefixes. */
export const MAX_HOST_TERMS = 64;

/** `dst host a` terms, or `dst net a/len` terms with the longest prefix that fits the cap. */
function hostTerms(hosts: readonly string[], family: 4 | 6, max: number): string[] {
  if (hosts.length <= max) return hosts.map((h) => `dst host ${h}`);
  const bytes = hosts.map((h) => (family === 4 ? parseIpv4(h) : parseIpv6(h))!);
  const size = family === 4 ? 4 : 16;
  for (let len = size * 8 - 8; len >= 8; len -= 8) {
    const nets = new Set<string>();
    for (const b of bytes) {
      const masked = new Uint8Array(size);
      masked.set(b.subarray(0, len / 8));
      nets.add(`${family === 4 ? formatIpv4(masked) : formatIpv6(masked)}/${len}`);
    }
    if (nets.size <= max) return [...nets].map((n) => `dst net ${n}`);
  }
  return [family === 4 ? "ip" : "ip6"];
}

function withVlan(inner: string, linkType: number): string {
  if (linkType !== DLT_EN10MB) return inner;
  // Every `vlan` keyword shifts the offsets of everything after it in the expression, so the
  // single- and double-tagged variants must nest rather than sit side by side.
  return `(${inner}) or (vlan and ((${inner}) or (vlan and (${inner}))))`;
}

/**
 * The candidate filters knocktool installs, most exact first. Each is a superset of
 * {@link knockdFilter} (the matcher's own pre-filter does the exact per-door check, including
 * targets and TCP flags) and also admits what knockd loses (docs/COMPATIBILITY.md B22):
 *
 * - `ports`: packets to one of the addresses (the local addresses, when some door has no
 *   Target, and every Target in canonical form) that are TCP or UDP to one of the ports of any
 *   door (union per protocol), or IPv6 packets to those addresses whose immediate next header is
 *   not TCP, UDP or ICMPv6, that is, with extension headers, which the decoder follows;
 * - `hosts`: every packet to those addresses;
 * - `ip`: every IPv4 packet, and every IPv6 packet unless `-4`.
 *
 * On `DLT_EN10MB` each is also given behind one and two VLAN tags (802.1Q, 802.1ad); other link
 * types have no VLAN tags in their frames (libpcap rejects `vlan` there). The capture tries them
 * in order and installs the first that compiles within the kernel's {@link BPF_MAX_INSNS}
 * instructions, warning when it had to fall back. A Target that is not an IP literal
 * (`inet_pton` rules) matches nothing and adds nothing. TCP flags are checked only when every
 * door with a TCP knock demands the same ones (IPv4, and IPv6 with TCP right after the fixed
 * header) and no door has a step with its own flags; otherwise they are left to the matcher.
 *
 * The list is empty, meaning "install no filter", when the interface has no address of an
 * admitted family (knockd then installs none either and the matcher admits every packet) or
 * when no door has an address to be knocked at.
 *
 * @param doors The doors in use.
 * @param addrs The interface's addresses.
 * @param ipv4Only knocktool's `-4`: IPv6 is never admitted.
 * @param linkType The capture's pcap link type (default `DLT_EN10MB`).
 * @returns The candidates, most exact first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { captureFilters } from "./filter.ts";
 * const door = { name: "d", line: 1, sequence: [{ port: 7000, protocol: "tcp" as const }],
 *   seqTimeout: 25, cmdTimeout: 10, tcpFlags: {} };
 * const [exact, hosts] = captureFilters([door], { v4: ["192.0.2.1"], v6: [] }, false, 12);
 * assert.equal(exact?.text, "(dst host 192.0.2.1) and (tcp dst port 7000)");
 * assert.equal(hosts?.text, "(dst host 192.0.2.1)");
 * ```
 */
export function captureFilters(
  doors: readonly Door[],
  addrs: LocalAddresses,
  ipv4Only: boolean,
  linkType: number = DLT_EN10MB,
): FilterCandidate[] {
  // Without a local address of an admitted family knockd installs no filter at all
  // (docs/COMPATIBILITY.md B7) and the matcher's pre-filter admits every packet: so must the
  // capture.
  if (addrs.v4.length === 0 && (ipv4Only || addrs.v6.length === 0)) return [];
  const scope = scopeOf(doors, addrs, ipv4Only);
  if (scope.v4.length + scope.v6.length === 0) return [];
  const v4 = hostTerms(scope.v4, 4, MAX_HOST_TERMS);
  const v6 = hostTerms(scope.v6, 6, MAX_HOST_TERMS);
  const hosts = `(${[...v4, ...v6].join(" or ")})`;
  const tcpTerms = portsPart("tcp", scope.tcp);
  let tcp = tcpTerms.join(" or ");
  if (scope.flags !== undefined && tcpTerms.length > 0) {
    // Every TCP door demands the same flags: check them here too. `tcp dst port` on IPv6 means
    // TCP right after the fixed header, whose flags byte is then ip6[53].
    const { mask, value } = scope.flags;
    const v4 = `ip and tcp[tcpflags] & ${mask} == ${value}`;
    const cond = scope.v6.length > 0 ? `(${v4}) or (ip6 and ip6[53] & ${mask} == ${value})` : v4;
    tcp = `(${tcp}) and (${cond})`;
  }
  const ports = [...(tcp === "" ? [] : [tcp]), ...portsPart("udp", scope.udp)];
  let exact = `${hosts} and (${ports.join(" or ")})`;
  if (scope.v6.length > 0) {
    // Extension headers: the immediate next header (ip6[6]) is neither TCP, UDP nor ICMPv6.
    exact = `(${exact}) or (ip6 and (${
      v6.join(" or ")
    }) and not (ip6[6] == 6 or ip6[6] == 17 or ip6[6] == 58))`;
  }
  const ip = scope.v6.length > 0 ? "ip or ip6" : "ip";
  return [
    { level: "ports", text: withVlan(exact, linkType) },
    { level: "hosts", text: withVlan(hosts, linkType) },
    { level: "ip", text: withVlan(ip, linkType) },
  ];
}

/**
 * The most exact of {@link captureFilters}: the expression knocktool installs when it compiles
 * within {@link BPF_MAX_INSNS} instructions. Returns "" when there is no candidate.
 *
 * @param doors The doors in use.
 * @param addrs The interface's addresses.
 * @param ipv4Only knocktool's `-4`.
 * @param linkType The capture's pcap link type (default `DLT_EN10MB`).
 * @returns A pcap filter expression.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { captureFilter } from "./filter.ts";
 * const door = { name: "d", line: 1, sequence: [{ port: 7000, protocol: "tcp" as const }],
 *   seqTimeout: 25, cmdTimeout: 10, tcpFlags: {} };
 * const f = captureFilter([door], { v4: ["192.0.2.1"], v6: [] }, false);
 * assert.match(f, /vlan and/);
 * const cooked = captureFilter([door], { v4: ["192.0.2.1"], v6: [] }, false, 113);
 * assert.doesNotMatch(cooked, /vlan/, "no VLAN variant on Linux cooked captures");
 * ```
 */
export function captureFilter(
  doors: readonly Door[],
  addrs: LocalAddresses,
  ipv4Only: boolean,
  linkType: number = DLT_EN10MB,
): string {
  return captureFilters(doors, addrs, ipv4Only, linkType)[0]?.text ?? "";
}
