/**
 * What the decoder hands the matcher: one TCP or UDP packet reduced to the fields knockd looks
 * at. Produced by `src/wire` from a captured frame; consumed by `src/match`.
 *
 * @module
 */

/** IP version of a decoded packet. */
export type Family = 4 | 6;

/** A decoded TCP or UDP packet. */
export interface Packet {
  /** Capture timestamp, whole seconds since the epoch (knockd's `hdr->ts.tv_sec`). */
  readonly tsSec: number;
  /** Capture timestamp, microseconds within the second. */
  readonly tsUsec: number;
  /** IP version. */
  readonly family: Family;
  /**
   * Source address in canonical text: dotted quad for IPv4 (as `inet_ntoa`), RFC 5952
   * compressed lower case for IPv6 (as glibc `inet_ntop`).
   */
  readonly src: string;
  /** Destination address, same form as {@link src}. */
  readonly dst: string;
  /** Transport protocol. */
  readonly protocol: "tcp" | "udp";
  /** Source port. */
  readonly srcPort: number;
  /** Destination port. */
  readonly dstPort: number;
  /** TCP flags byte (FIN=0x01 … URG=0x20, plus ECE/CWR); 0 for UDP. */
  readonly tcpFlags: number;
  /** Length of the frame on the wire (pcap `len`). */
  readonly wireLen: number;
}

/** Which layer a frame failed to decode at. */
export type Layer = "link" | "vlan" | "ipv4" | "ipv6" | "ipv6-ext" | "tcp" | "udp";

/**
 * Why a frame did not yield a {@link Packet}: malformed input is data, never an exception.
 * `truncated`: the buffer ends before a header does. `invalid`: a field contradicts itself or
 * another (IHL < 5, total length < IHL, TCP data offset < 5, …). `unsupported`: well-formed but
 * not something knockd matches (ARP, ICMP, a non-first IPv4 fragment, an unknown link type, …).
 */
export interface DecodeError {
  /** The layer whose header failed. */
  readonly layer: Layer;
  /** Why it failed (see above). */
  readonly kind: "truncated" | "invalid" | "unsupported";
  /** Byte offset in the frame where the failing header starts. */
  readonly offset: number;
  /** Short human description, e.g. `IHL 3 is less than 5`. */
  readonly detail: string;
}

/** Result of decoding one frame. */
export type DecodeResult =
  | { readonly ok: true; readonly packet: Packet }
  | { readonly ok: false; readonly error: DecodeError };
