/**
 * BPF filter expressions for the doors of a config: knockd 0.8's exact expression
 * (`generate_pcap_filter`, reference §3.2) and the superset knocktool installs.
 *
 * @module
 */
import type { Door, TcpFlagName } from "./model.ts";
import { TCP_FLAG_NAMES } from "./model.ts";
import { canonicalIp } from "./_ip.ts";

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
  // knockd repeats the target once per local address of the family (reference §3.2, B24).
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
 * import { knockdFilter } from "./filter.ts";
 * const door = { name: "mc", line: 1, sequence: [{ port: 19132, protocol: "udp" as const }],
 *   seqTimeout: 25, cmdTimeout: 10, tcpFlags: {} };
 * const f = knockdFilter([door], { v4: ["127.0.0.1"], v6: [] }, false);
 * if (f !== "((dst host 127.0.0.1) and ((udp dst port 19132)))") throw new Error(f);
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

/**
 * The expression knocktool installs: a superset of {@link knockdFilter} so that the matcher's own
 * exact pre-filter sees every packet knockd would have seen, plus the ones knockd loses (B22):
 *
 * - IPv6 packets to a local or target address whose immediate next header is not TCP, UDP or
 *   ICMPv6 (that is, packets with extension headers, which the decoder follows);
 * - the same, behind one or two VLAN tags (802.1Q, 802.1ad).
 *
 * A target is written in canonical form (the matcher compares canonical text, B24 fix); a door
 * whose target is not an IP literal is left out, since no packet can match it. Returns "" when
 * there is no sub-filter.
 *
 * @param doors The doors, in config order.
 * @param addrs The interface's addresses.
 * @param ipv4Only knocktool's `-4`.
 * @returns A pcap filter expression.
 *
 * @example
 * ```ts
 * import { captureFilter } from "./filter.ts";
 * const door = { name: "d", line: 1, sequence: [{ port: 7000, protocol: "tcp" as const }],
 *   seqTimeout: 25, cmdTimeout: 10, tcpFlags: {} };
 * const f = captureFilter([door], { v4: ["192.0.2.1"], v6: [] }, false);
 * if (!f.includes("vlan and")) throw new Error(f);
 * ```
 */
export function captureFilter(
  doors: readonly Door[],
  addrs: LocalAddresses,
  ipv4Only: boolean,
): string {
  const hasV4 = addrs.v4.length > 0;
  const hasV6 = !ipv4Only && addrs.v6.length > 0;
  const subs: string[] = [];
  const v6hosts = new Set<string>();
  for (const door of doors) {
    if (door.sequence.length === 0) continue;
    let target: string | undefined;
    if (door.target !== undefined) {
      const c = canonicalIp(door.target);
      if (c === null) continue;
      target = c.text;
    }
    if (hasV4) {
      subs.push(`(${hostPart(hostsFor(addrs.v4, target))} and ${protoPart(door, "v4")})`);
    }
    if (hasV6) {
      const hosts = hostsFor(addrs.v6, target);
      subs.push(`(${hostPart(hosts)} and ${protoPart(door, "v6")})`);
      for (const h of hosts) if (canonicalIp(h)?.family === 6) v6hosts.add(h);
    }
  }
  if (v6hosts.size > 0) {
    // Extension headers: the immediate next header (ip6[6]) is neither TCP, UDP nor ICMPv6.
    subs.push(
      `(ip6 and ${hostPart([...v6hosts])} and not (ip6[6] == 6 or ip6[6] == 17 or ip6[6] == 58))`,
    );
  }
  if (subs.length === 0) return "";
  const inner = subs.join(" or ");
  // Every `vlan` keyword shifts the offsets of everything after it in the expression, so the
  // single- and double-tagged variants must nest rather than sit side by side.
  return `(${inner}) or (vlan and ((${inner}) or (vlan and (${inner}))))`;
}
