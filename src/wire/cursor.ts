/**
 * The decoder's scratch state, shared by the layer checks of one `decodeFrame` call. One
 * instance per module: decoding is synchronous and never re-entered, so reusing it costs no
 * allocation per packet.
 *
 * @module
 */

import type { DecodeError, Layer } from "./packet.ts";

/**
 * Where decoding stands within one frame. Offsets are absolute positions in the frame's
 * underlying buffer (so one `DataView` over that buffer serves every frame in it); the frame
 * starts at {@link base}.
 */
export class Cursor {
  /** Where the frame starts in its buffer (`frame.byteOffset`). */
  base = 0;
  /** Captured end: `base` + the number of captured bytes (pcap `caplen`). */
  cap = 0;
  /** End of the frame as it was on the wire: `base` + max(pcap `len`, `caplen`). */
  wire = 0;
  /** Start of the next header to decode. */
  off = 0;
  /** End of the enclosing datagram (IP payload end once an IP header is checked). */
  end = 0;
  /** Protocol of the next header: an EtherType before IP, an IP protocol number after. */
  proto = 0;
  /** Offset of the source address (IPv4: 4 bytes, IPv6: 16 bytes). */
  src = 0;
  /** Offset of the destination address. */
  dst = 0;
  /**
   * Whether the IP packet is a first fragment (IPv4 MF set, or an IPv6 fragment header): the
   * transport length fields then describe the reassembled datagram, not this packet.
   */
  fragment = false;
  /** IP version, set by the decoder once the network header is known. */
  family: 4 | 6 = 4;

  /**
   * Starts a frame of `caplen` captured bytes at `base` in its buffer that had `wireLen` bytes
   * on the wire (a smaller or non-numeric `wireLen` counts as `caplen`).
   */
  reset(caplen: number, wireLen: number, base = 0): void {
    this.base = base;
    this.cap = base + caplen;
    this.wire = base + (wireLen > caplen ? wireLen : caplen);
    this.off = base;
    this.end = this.wire;
    this.proto = 0;
    this.src = 0;
    this.dst = 0;
    this.fragment = false;
  }
}

/** Makes a decode error; the only allocation on a failing path. */
export function fail(
  layer: Layer,
  kind: DecodeError["kind"],
  offset: number,
  detail: string,
): DecodeError {
  return { layer, kind, offset, detail };
}

/** EtherType of IPv4. */
export const ETHERTYPE_IPV4 = 0x0800;
/** EtherType of IPv6. */
export const ETHERTYPE_IPV6 = 0x86dd;

/** Four hex digits, as tcpdump prints EtherTypes. */
export function hex16(v: number): string {
  return "0x" + v.toString(16).padStart(4, "0");
}
