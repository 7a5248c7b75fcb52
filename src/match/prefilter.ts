/**
 * The pre-filter: which decoded packets knockd 0.8 would ever let reach its state machine.
 *
 * knockd installs a BPF filter built by `generate_pcap_filter` (docs/COMPATIBILITY.md §3.2).
 * Packets it rejects can neither start nor spoil an attempt, so the matcher must apply exactly the
 * same test before it looks at a packet. The filter is one sub-filter per door and per family:
 *
 * ```
 * ((dst host H1 or dst host H2 …) and (((tcp dst port P …) FLAGS) or (udp dst port Q …)))
 * ```
 *
 * where the hosts are the door's `Target` (repeated once per local address of the sub-filter's
 * family) or else the local addresses of that family. The IPv4 sub-filter exists only when the
 * interface has an IPv4 address, the IPv6 one only when it has an IPv6 address and `-4` was not
 * given. libpcap facts this module relies on (checked with `tcpdump -d`):
 *
 * - `dst host A` matches only packets of A's own family, whatever sub-filter it sits in;
 * - `tcp dst port` and `udp dst port` match both families;
 * - the IPv4 flag test `tcp[tcpflags]` matches only IPv4 packets, and the IPv6 one
 *   `ip6[13+40]` only IPv6 packets.
 *
 * Hence, for a door with a `Target`: a UDP knock, or a TCP knock when the door has no `TCPFlags`,
 * passes if the destination equals the target and the interface has a local address of *either*
 * family (any sub-filter carries the target); a TCP knock on a door with `TCPFlags` passes only if
 * the sub-filter of the packet's own family exists. So "a door with a Target admits nothing for a
 * family with no local address" holds only for TCP with flag constraints.
 *
 * With no sub-filter at all (no local address of any admitted family) knockd installs no filter and
 * every packet reaches the state machine (docs/COMPATIBILITY.md §3.1, B7); this module then admits
 * every packet too. Deliberate differences: `-4` drops every IPv6 packet (knockd would still pass
 * an IPv6 packet to an IPv6 `Target` through the IPv4 sub-filter), and TCP flags are the decoded
 * flags byte even when IPv6 extension headers precede the TCP header (knockd reads `ip6[53]`, which
 * is the flags byte only without extension headers; docs/COMPATIBILITY.md B22, fixed). Targets are
 * compared as strings, as knockd's `target_strcmp` does, but an IP-literal target is first put in
 * the canonical text form the decoder gives packet addresses, so `2001:DB8::1` matches packets to
 * `2001:db8::1` (docs/COMPATIBILITY.md B24, fixed: knockd never matches a non-canonical literal). A
 * target that is not an IP literal (a host name, `192.0.2.009`) is kept verbatim and so matches no
 * packet.
 *
 * @module
 */

import { type Door, TCP_FLAG_BITS, TCP_FLAG_NAMES } from "../config/model.ts";
import type { Packet } from "../wire/packet.ts";
import { canonicalAddress, formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from "../wire/address.ts";
import type { FrameFields } from "../wire/fields.ts";

/** Per-door data precomputed so that {@link PreFilter.admits} allocates nothing. */
interface DoorFilter {
  readonly target: string | undefined;
  /**
   * The target as {@link AddressWords} for {@link PreFilter.admitsFields}; null when the target
   * is not an IP literal (it then matches no packet).
   */
  readonly targetWords: AddressWords | null;
  /** The door's ports as {@link portKey}s, each once. */
  readonly portKeys: readonly number[];
  /** Bits that must be set (`syn`). */
  readonly mustSet: number;
  /** Bits that must be clear (`!ack`). */
  readonly mustClear: number;
  readonly hasFlags: boolean;
  /**
   * TCP ports of steps with their own flags (docs/FLAG-KNOCKING.md): admitted whatever the door's
   * `TCPFlags`, which those steps replace (the matcher tests their flags).
   */
  readonly flagStepPorts: readonly number[] | null;
}

/** Splits a door's `TCPFlags` into set and clear masks. */
function flagMasks(door: Door): { mustSet: number; mustClear: number } {
  let mustSet = 0;
  let mustClear = 0;
  for (const name of TCP_FLAG_NAMES) {
    const requirement = door.tcpFlags[name];
    if (requirement === "set") mustSet |= TCP_FLAG_BITS[name];
    else if (requirement === "clear") mustClear |= TCP_FLAG_BITS[name];
  }
  return { mustSet, mustClear };
}

/**
 * The text a door's `Target` is compared with: the canonical form of an IP literal (as the
 * decoder formats packet addresses), otherwise the target verbatim (which then matches nothing).
 *
 * @param target The `Target` value as written.
 * @returns The text to compare packet destinations with.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { canonicalTarget } from "./prefilter.ts";
 *
 * assert.equal(canonicalTarget("2001:DB8:0:0::1"), "2001:db8::1");
 * assert.equal(canonicalTarget("gateway.example"), "gateway.example");
 * ```
 */
export function canonicalTarget(target: string): string {
  return canonicalAddress(target)?.text ?? target;
}

/** An address as its family and 32-bit words (signed, big-endian; IPv4 in the first only). */
interface AddressWords {
  readonly family: 4 | 6;
  readonly w0: number;
  readonly w1: number;
  readonly w2: number;
  readonly w3: number;
}

/**
 * The words of an address given in canonical text; null when the text is not the canonical form
 * of an IP literal (such a text never equals a decoded packet address).
 */
function addressWords(text: string): AddressWords | null {
  const v4 = parseIpv4(text);
  const bytes = v4 ?? parseIpv6(text);
  if (bytes === null) return null;
  if ((v4 !== null ? formatIpv4(bytes) : formatIpv6(bytes)) !== text) return null;
  const dv = new DataView(bytes.buffer);
  return v4 !== null ? { family: 4, w0: dv.getInt32(0), w1: 0, w2: 0, w3: 0 } : {
    family: 6,
    w0: dv.getInt32(0),
    w1: dv.getInt32(4),
    w2: dv.getInt32(8),
    w3: dv.getInt32(12),
  };
}

/** Whether the destination of `f` is the address `a`. */
function dstIs(f: FrameFields, a: AddressWords): boolean {
  return a.family === f.family && a.w0 === f.dst0 && a.w1 === f.dst1 && a.w2 === f.dst2 &&
    a.w3 === f.dst3;
}

/** Key of the per-(protocol, port) door index: the port for TCP, 65536 + the port for UDP. */
function portKey(tcp: boolean, port: number): number {
  return tcp ? port : port + 65536;
}

function compileDoor(door: Door): DoorFilter {
  const portKeys: number[] = [];
  let flagStepPorts: number[] | null = null;
  for (const knock of door.sequence) {
    const key = portKey(knock.protocol === "tcp", knock.port);
    if (!portKeys.includes(key)) portKeys.push(key);
    if (knock.protocol === "tcp" && knock.flags !== undefined) {
      (flagStepPorts ??= []).push(knock.port);
    }
  }
  const { mustSet, mustClear } = flagMasks(door);
  const target = door.target === undefined ? undefined : canonicalTarget(door.target);
  return {
    target,
    targetWords: target === undefined ? null : addressWords(target),
    portKeys,
    mustSet,
    mustClear,
    hasFlags: (mustSet | mustClear) !== 0,
    flagStepPorts,
  };
}

/**
 * knockd's BPF filter as a predicate over decoded packets (see the module documentation for the
 * exact semantics and the deliberate differences).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { PreFilter } from "./prefilter.ts";
 *
 * const door = {
 *   name: "ssh", line: 1, seqTimeout: 25, cmdTimeout: 10, tcpFlags: { syn: "set" as const },
 *   sequence: [{ port: 7000, protocol: "tcp" as const }],
 * };
 * const filter = new PreFilter([door], ["192.0.2.1"], false);
 * const syn = {
 *   tsSec: 0, tsUsec: 0, family: 4 as const, src: "198.51.100.7", dst: "192.0.2.1",
 *   protocol: "tcp" as const, srcPort: 40000, dstPort: 7000, tcpFlags: 0x02, wireLen: 54,
 * };
 * assert.equal(filter.admits(syn), true);
 * assert.equal(filter.admits({ ...syn, tcpFlags: 0x10 }), false);
 * ```
 */
export class PreFilter {
  #doors: (DoorFilter | null)[];
  #local4 = new Set<string>();
  #local6 = new Set<string>();
  /** The local IPv4 addresses as words (only canonical texts: the others match no packet). */
  #local4Words = new Set<number>();
  /** The local IPv6 addresses as words (idem). */
  #local6Words: AddressWords[] = [];
  #ipv4Only: boolean;
  /** Per {@link portKey}: the enabled doors using that port and protocol (`admits` looks only at those). */
  readonly #byPort = new Map<number, number[]>();

  /**
   * Builds the filter.
   *
   * @param doors Doors in config order; `null` marks a disabled door (admits nothing).
   * @param localAddresses The interface's addresses in canonical text (both families mixed).
   * @param ipv4Only knockd's `-4`: IPv6 addresses are ignored and IPv6 packets never admitted.
   */
  constructor(
    doors: readonly (Door | null)[],
    localAddresses: Iterable<string>,
    ipv4Only: boolean,
  ) {
    this.#ipv4Only = ipv4Only;
    this.#doors = doors.map((door) => door === null ? null : compileDoor(door));
    this.#doors.forEach((door, index) => this.#index(index, door, true));
    this.setLocalAddresses(localAddresses);
  }

  /**
   * Replaces the local addresses (canonical text; an address containing `:` is IPv6; a zone
   * suffix such as `%eth0` is dropped, as knockd does).
   *
   * @param addresses The interface's current addresses.
   */
  setLocalAddresses(addresses: Iterable<string>): void {
    this.#local4.clear();
    this.#local6.clear();
    this.#local4Words.clear();
    this.#local6Words = [];
    for (const written of addresses) {
      // knockd cuts a link-local address's zone (`%eth0`) off the getnameinfo text.
      const zone = written.indexOf("%");
      const address = zone < 0 ? written : written.slice(0, zone);
      if (address.includes(":")) {
        // knockd's getifaddrs loop skips AF_INET6 under -4.
        if (!this.#ipv4Only) this.#local6.add(address);
      } else {
        this.#local4.add(address);
      }
    }
    for (const address of this.#local4) {
      const words = addressWords(address);
      if (words?.family === 4) this.#local4Words.add(words.w0);
    }
    for (const address of this.#local6) {
      const words = addressWords(address);
      if (words?.family === 6) this.#local6Words.push(words);
    }
  }

  /**
   * Whether the destination of `f` is a local address (as {@link isLocal} on its text).
   *
   * @param f Fields of a frame.
   * @returns True if the destination is local.
   */
  isLocalFields(f: FrameFields): boolean {
    if (f.family === 4) return this.#local4Words.has(f.dst0);
    for (const words of this.#local6Words) if (dstIs(f, words)) return true;
    return false;
  }

  /**
   * Replaces one door (after a one-time rotation) or disables it with `null`.
   *
   * @param index The door's index in config order.
   * @param door The door with its new sequence, or `null`.
   * @throws {RangeError} If `index` names no door.
   */
  setDoor(index: number, door: Door | null): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.#doors.length) {
      throw new RangeError(`Cannot set door "${index}": there are ${this.#doors.length} doors`);
    }
    this.#index(index, this.#doors[index] ?? null, false);
    const compiled = door === null ? null : compileDoor(door);
    this.#doors[index] = compiled;
    this.#index(index, compiled, true);
  }

  /**
   * knockd's `target_strcmp` for a door without `Target`: whether `address` is one of the local
   * addresses (IPv6 ones are not local under `-4`).
   *
   * @param address Canonical address text.
   * @returns True if the address is local.
   */
  isLocal(address: string): boolean {
    return this.#local4.has(address) || this.#local6.has(address);
  }

  /**
   * Whether knockd's BPF filter would deliver this packet.
   *
   * @param packet A decoded packet.
   * @returns True if the packet may reach the state machine.
   */
  admits(packet: Packet): boolean {
    const v6 = packet.family === 6;
    if (v6 && this.#ipv4Only) return false;
    const has4 = this.#local4.size > 0;
    const has6 = this.#local6.size > 0;
    // No sub-filter at all: knockd never calls pcap_setfilter, so everything is delivered.
    if (!has4 && !has6) return true;
    const tcp = packet.protocol === "tcp";
    // Only the doors that use this port with this protocol can admit the packet.
    const candidates = this.#byPort.get(portKey(tcp, packet.dstPort));
    if (candidates === undefined) return false;
    const dst = packet.dst;
    const local = v6 ? this.#local6.has(dst) : this.#local4.has(dst);
    // The sub-filter whose flag test can match this packet's family.
    const ownSubFilter = v6 ? has6 : has4;
    const flags = packet.tcpFlags;
    for (const index of candidates) {
      const door = this.#doors[index] as DoorFilter;
      if (door.target !== undefined) {
        if (dst !== door.target) continue;
      } else if (!local) {
        continue;
      }
      if (tcp && door.hasFlags && !door.flagStepPorts?.includes(packet.dstPort)) {
        if (!ownSubFilter) continue;
        if ((flags & door.mustSet) !== door.mustSet || (flags & door.mustClear) !== 0) continue;
      }
      return true;
    }
    return false;
  }

  /**
   * {@link admits} on a frame's numeric fields (`peekFrame`): the same answer as for the decoded
   * packet, with no allocation.
   *
   * @param f Fields of a frame that decodes.
   * @returns True if the packet may reach the state machine.
   */
  admitsFields(f: FrameFields): boolean {
    const v6 = f.family === 6;
    if (v6 && this.#ipv4Only) return false;
    const has4 = this.#local4.size > 0;
    const has6 = this.#local6.size > 0;
    if (!has4 && !has6) return true;
    const tcp = f.tcp;
    const port = f.dstPort;
    const candidates = this.#byPort.get(portKey(tcp, port));
    if (candidates === undefined) return false;
    const local = this.isLocalFields(f);
    const ownSubFilter = v6 ? has6 : has4;
    const flags = f.tcpFlags;
    for (let i = 0; i < candidates.length; i++) {
      const door = this.#doors[candidates[i] as number] as DoorFilter;
      if (door.target !== undefined) {
        if (door.targetWords === null || !dstIs(f, door.targetWords)) continue;
      } else if (!local) {
        continue;
      }
      if (tcp && door.hasFlags && !door.flagStepPorts?.includes(port)) {
        if (!ownSubFilter) continue;
        if ((flags & door.mustSet) !== door.mustSet || (flags & door.mustClear) !== 0) continue;
      }
      return true;
    }
    return false;
  }

  /** Adds door `index` to (or removes it from) the per-port lists of its ports. */
  #index(index: number, door: DoorFilter | null, add: boolean): void {
    if (door === null) return;
    const byPort = this.#byPort;
    for (const key of door.portKeys) {
      const list = byPort.get(key);
      if (add) {
        if (list === undefined) byPort.set(key, [index]);
        else list.push(index);
      } else if (list !== undefined) {
        const at = list.indexOf(index);
        if (at >= 0) list.splice(at, 1);
        if (list.length === 0) byPort.delete(key);
      }
    }
  }
}
