/**
 * The local addresses of the capture interface, as knockd 0.8 reads them (docs/COMPATIBILITY.md
 * §3.1 step 8) but refreshable (knockd's docs/COMPATIBILITY.md B7, fixed): from `pcap_findalldevs`,
 * which libpcap builds from `getifaddrs`, in canonical text (`inet_ntoa` dotted quad; glibc
 * `inet_ntop` for IPv6) with the `%zone` of link-local addresses cut off, as knockd's `getnameinfo`
 * + cut does.
 *
 * Order: knockd *prepends* each address to its list, so each family's list here is in reverse
 * `getifaddrs` order, which is the order knockd writes hosts into its BPF filter.
 *
 * `any` (and any name that is not a real interface but is capturable, such as `any`) has no
 * addresses of its own: for it the set is the union over every interface, because a packet
 * captured on `any` may be addressed to any of them.
 *
 * @module
 */
import { type Device, type DeviceAddress, findAllDevs, type PcapLib } from "../../ffi/libpcap.ts";
import type { LocalAddresses } from "../config/filter.ts";
import { formatAddress } from "../wire/address.ts";

export type { LocalAddresses } from "../config/filter.ts";

/** What {@link readAddresses} found. */
export interface InterfaceState {
  /** The device as libpcap lists it, or undefined when it is not listed (missing). */
  readonly device: Device | undefined;
  /** Its addresses (union over all interfaces for `any`). */
  readonly addresses: LocalAddresses;
}

/**
 * Formats an address as knockd prints it: dotted quad, or glibc `inet_ntop` text (the wire
 * module's `formatAddress`, the same text the decoder gives packet addresses).
 *
 * @param bytes 4 or 16 address bytes.
 * @returns The text.
 * @throws {RangeError} When `bytes` is not 4 or 16 bytes long.
 *
 * @example
 * ```ts
 * import { addressText } from "./addresses.ts";
 * const a = new Uint8Array(16);
 * a[15] = 1;
 * if (addressText(a) !== "::1") throw new Error("bad");
 * if (addressText(new Uint8Array([192, 0, 2, 1])) !== "192.0.2.1") throw new Error("bad");
 * ```
 */
export function addressText(bytes: Uint8Array): string {
  return formatAddress(bytes);
}

/**
 * Splits device addresses into knockd's per-family lists (reverse order, deduplicated).
 *
 * @param addrs Addresses in `getifaddrs` order.
 * @param ipv4Only Drop IPv6 addresses (`-4`).
 * @returns The lists.
 *
 * @example
 * ```ts
 * import { localAddresses } from "./addresses.ts";
 * const a = localAddresses([
 *   { family: 4, bytes: new Uint8Array([192, 0, 2, 1]), scopeId: 0 },
 *   { family: 4, bytes: new Uint8Array([192, 0, 2, 2]), scopeId: 0 },
 * ], false);
 * if (a.v4.join() !== "192.0.2.2,192.0.2.1") throw new Error("knockd prepends");
 * ```
 */
export function localAddresses(addrs: readonly DeviceAddress[], ipv4Only: boolean): LocalAddresses {
  const v4: string[] = [];
  const v6: string[] = [];
  for (let i = addrs.length - 1; i >= 0; i--) {
    const a = addrs[i];
    if (a === undefined) continue;
    const text = addressText(a.bytes);
    if (a.family === 4) {
      if (!v4.includes(text)) v4.push(text);
    } else if (!ipv4Only && !v6.includes(text)) v6.push(text);
  }
  return { v4, v6 };
}

/**
 * Reads the state and addresses of `iface` (cheap: one `pcap_findalldevs`).
 *
 * @param p The library.
 * @param iface Interface name; `any` gives the union over all interfaces.
 * @param ipv4Only Leave IPv6 addresses out (`-4`).
 * @returns The device (undefined when missing) and its addresses.
 * @throws {PcapError} When libpcap cannot list interfaces.
 *
 * @example
 * ```ts
 * import { readAddresses } from "./addresses.ts";
 * import { withPcap } from "../../ffi/libpcap.ts";
 * const lo = withPcap((p) => readAddresses(p, "lo", false));
 * if (lo.device === undefined || !lo.addresses.v4.includes("127.0.0.1")) throw new Error("no lo");
 * ```
 */
export function readAddresses(p: PcapLib, iface: string, ipv4Only: boolean): InterfaceState {
  const devs = findAllDevs(p);
  const device = devs.find((d) => d.name === iface);
  if (iface === "any") {
    return { device, addresses: localAddresses(devs.flatMap((d) => d.addresses), ipv4Only) };
  }
  return { device, addresses: localAddresses(device?.addresses ?? [], ipv4Only) };
}

/**
 * Whether two address sets are equal (same texts in the same order).
 *
 * @param a One set.
 * @param b The other.
 * @returns True when equal.
 *
 * @example
 * ```ts
 * import { sameAddresses } from "./addresses.ts";
 * if (!sameAddresses({ v4: ["a"], v6: [] }, { v4: ["a"], v6: [] })) throw new Error("equal");
 * ```
 */
export function sameAddresses(a: LocalAddresses, b: LocalAddresses): boolean {
  return a.v4.length === b.v4.length && a.v6.length === b.v6.length &&
    a.v4.every((x, i) => x === b.v4[i]) && a.v6.every((x, i) => x === b.v6[i]);
}
