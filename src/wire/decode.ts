/**
 * Frame → {@link Packet}: the per-packet entry point of the capture path.
 *
 * Link types: DLT_EN10MB (1), DLT_LINUX_SLL (113), DLT_LINUX_SLL2 (276), DLT_NULL (0),
 * DLT_LOOP (108) and raw IP (12, 101, 228, 229); VLAN tags (802.1Q, 802.1ad, QinQ, stacked)
 * after Ethernet and cooked headers; IPv4 and IPv6 with extension headers; TCP and UDP.
 *
 * What a short capture means: the decoder needs every header up to and including the TCP or
 * UDP header (TCP options too) in the captured bytes; if `caplen` stops inside them the result
 * is a `truncated` error, never a guess. Payload bytes after the transport header are never
 * read, so a snaplen that cuts only the payload still yields the packet. Length fields are
 * checked against the frame as it was on the wire (`wireLen`): an IP length beyond it, or a
 * transport header beyond the IP length, is `invalid`.
 *
 * Cost per call: the result object and the two address strings; a `DataView` only when the
 * frame lives in a different buffer than the previous frame did. `peekFrame` runs the same checks
 * and allocates nothing: it fills a reused `FrameFields` (`fields.ts`) with numbers.
 *
 * @module
 */

import { Cursor, ETHERTYPE_IPV4, ETHERTYPE_IPV6, fail, hex16 } from "./cursor.ts";
import { formatIpv4, formatIpv6 } from "./address.ts";
import { checkEthernet } from "./ethernet.ts";
import { checkIpv4, IPPROTO_TCP } from "./ipv4.ts";
import { checkIpv6 } from "./ipv6.ts";
import { checkNull } from "./null.ts";
import { DLT } from "../../ffi/dlt.ts";
import type { DecodeError, DecodeResult } from "./packet.ts";
import type { FrameFields } from "./fields.ts";
import { checkRaw } from "./raw.ts";
import { checkSll } from "./sll.ts";
import { checkSll2 } from "./sll2.ts";
import { checkTcp } from "./tcp.ts";
import { checkUdp } from "./udp.ts";
import { skipVlanTags } from "./vlan.ts";

// Safe to share: decodeFrame is synchronous and never re-entered.
const cursor = new Cursor();

// Creating a DataView costs about as much as the rest of a decode, and a capture loop hands
// over many frames that are views into one batch buffer: keep one view per buffer and address
// frames by their byteOffset. Holds on to the last buffer until a frame from another arrives.
let viewBuffer: ArrayBufferLike | undefined;
let view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

function failed(error: DecodeError, base: number): DecodeResult {
  // Layer checks report positions in the buffer; callers want offsets in the frame.
  return { ok: false, error: base === 0 ? error : { ...error, offset: error.offset - base } };
}

/**
 * Whether {@link decodeFrame} knows a link type.
 *
 * @param linkType A DLT_/LINKTYPE_ value.
 * @returns `true` for 0, 1, 12, 101, 108, 113, 228, 229 and 276.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isSupportedLinkType } from "./decode.ts";
 * assert(isSupportedLinkType(276));
 * assert(!isSupportedLinkType(147));
 * ```
 */
export function isSupportedLinkType(linkType: number): boolean {
  switch (linkType) {
    case DLT.NULL:
    case DLT.EN10MB:
    case DLT.RAW:
    case DLT.LINKTYPE_RAW:
    case DLT.LOOP:
    case DLT.LINUX_SLL:
    case DLT.IPV4:
    case DLT.IPV6:
    case DLT.LINUX_SLL2:
      return true;
    default:
      return false;
  }
}

/**
 * Decodes one captured frame into the fields knockd matches on. Never throws: malformed,
 * truncated and unsupported frames come back as a {@link DecodeError}.
 *
 * @param linkType The capture's link type (`pcap_datalink` or the savefile's LINKTYPE).
 * @param frame The captured bytes (`caplen` of them). Only read during the call.
 * @param wireLen The frame's length on the wire (pcap `len`).
 * @param tsSec Capture time, whole seconds.
 * @param tsUsec Capture time, microseconds.
 * @returns The packet, or why there is none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildEthernet, buildIp } from "./build.ts";
 * import { decodeFrame } from "./decode.ts";
 * const frame = buildEthernet(buildIp({
 *   family: 4, src: "192.0.2.1", dst: "192.0.2.2", protocol: "tcp", srcPort: 40000, dstPort: 7000,
 * }), 4);
 * const r = decodeFrame(1, frame, frame.length, 1700000000, 5);
 * assert(r.ok);
 * assert.equal(r.packet.dstPort, 7000);
 * assert.equal(r.packet.tcpFlags, 0x02);
 * ```
 */
export function decodeFrame(
  linkType: number,
  frame: Uint8Array,
  wireLen: number,
  tsSec: number,
  tsUsec: number,
): DecodeResult {
  const failure = walkHeaders(linkType, frame.buffer, frame.byteOffset, frame.length, wireLen);
  if (failure !== undefined) return failure;
  const c = cursor;
  const dv = view;
  const base = frame.byteOffset;
  const family = c.family;
  const tcp = c.proto === IPPROTO_TCP;
  // Ports and flags lie inside the transport header checked by walkHeaders.
  return {
    ok: true,
    packet: {
      tsSec,
      tsUsec,
      family,
      src: family === 4 ? formatIpv4(frame, c.src - base) : formatIpv6(frame, c.src - base),
      dst: family === 4 ? formatIpv4(frame, c.dst - base) : formatIpv6(frame, c.dst - base),
      protocol: tcp ? "tcp" : "udp",
      srcPort: dv.getUint16(c.off),
      dstPort: dv.getUint16(c.off + 2),
      tcpFlags: tcp ? dv.getUint8(c.off + 13) : 0,
      wireLen,
    },
  };
}

/**
 * {@link decodeFrame}'s fast twin: the same header checks, but the fields go into `out` as numbers
 * (addresses as 32-bit words) and nothing is allocated. When it returns false the frame does not
 * decode, and {@link decodeFrame} says why.
 *
 * @param linkType The capture's link type.
 * @param frame The captured bytes. Only read during the call.
 * @param wireLen The frame's length on the wire.
 * @param tsSec Capture time, whole seconds.
 * @param out Filled when the result is true.
 * @returns True when {@link decodeFrame} would return a packet (with exactly these fields).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildEthernet, buildIp } from "./build.ts";
 * import { peekFrame } from "./decode.ts";
 * import { FrameFields } from "./fields.ts";
 * const frame = buildEthernet(buildIp({
 *   family: 4, src: "192.0.2.1", dst: "192.0.2.2", protocol: "tcp", srcPort: 40000, dstPort: 7000,
 * }), 4);
 * const f = new FrameFields();
 * assert(peekFrame(1, frame, frame.length, 1700000000, f));
 * assert.equal(f.dstPort, 7000);
 * assert.equal(f.src0, 0xc0000201 | 0);
 * ```
 */
export function peekFrame(
  linkType: number,
  frame: Uint8Array,
  wireLen: number,
  tsSec: number,
  out: FrameFields,
): boolean {
  return peekAt(linkType, frame.buffer, frame.byteOffset, frame.length, wireLen, tsSec, out);
}

/**
 * {@link peekFrame} on a frame given by its place in a buffer, so that a capture loop need not
 * make a view per frame.
 *
 * @param linkType The capture's link type.
 * @param buffer The buffer holding the frame.
 * @param offset Where the frame starts in `buffer`.
 * @param caplen Captured length (bytes from `offset`).
 * @param wireLen The frame's length on the wire.
 * @param tsSec Capture time, whole seconds.
 * @param out Filled when the result is true.
 * @returns True when {@link decodeFrame} would return a packet (with exactly these fields).
 */
export function peekAt(
  linkType: number,
  buffer: ArrayBufferLike,
  offset: number,
  caplen: number,
  wireLen: number,
  tsSec: number,
  out: FrameFields,
): boolean {
  if (walkHeaders(linkType, buffer, offset, caplen, wireLen) !== undefined) return false;
  const c = cursor;
  const dv = view;
  const tcp = c.proto === IPPROTO_TCP;
  out.family = c.family;
  out.tcp = tcp;
  out.srcPort = dv.getUint16(c.off);
  out.dstPort = dv.getUint16(c.off + 2);
  out.tcpFlags = tcp ? dv.getUint8(c.off + 13) : 0;
  out.tsSec = tsSec;
  out.src0 = dv.getInt32(c.src);
  out.dst0 = dv.getInt32(c.dst);
  if (c.family === 6) {
    out.src1 = dv.getInt32(c.src + 4);
    out.src2 = dv.getInt32(c.src + 8);
    out.src3 = dv.getInt32(c.src + 12);
    out.dst1 = dv.getInt32(c.dst + 4);
    out.dst2 = dv.getInt32(c.dst + 8);
    out.dst3 = dv.getInt32(c.dst + 12);
  } else {
    out.src1 =
      out.src2 =
      out.src3 =
      out.dst1 =
      out.dst2 =
      out.dst3 =
        0;
  }
  return true;
}

/**
 * Every header check of a decode: link header, VLAN tags, IPv4 or IPv6 (extension headers
 * included), TCP or UDP. On success it returns undefined and leaves the layout in `cursor`
 * (`family`; `src`, `dst` and `off` as offsets into `view`'s buffer; `proto` the IP protocol); on
 * failure the decode result to return.
 */
function walkHeaders(
  linkType: number,
  buffer: ArrayBufferLike,
  base: number,
  caplen: number,
  wireLen: number,
): DecodeResult | undefined {
  const c = cursor;
  c.reset(caplen, wireLen, base);
  // An empty frame is never read (every layer checks its length first), and may be a view of
  // a detached buffer, on which the DataView constructor throws.
  if (
    caplen !== 0 && (buffer !== viewBuffer || view.byteLength < base + caplen)
  ) {
    viewBuffer = buffer;
    view = new DataView(buffer);
  }
  const dv = view;
  let err: DecodeError | undefined;
  switch (linkType) {
    case DLT.EN10MB:
      err = checkEthernet(dv, c) ?? skipVlanTags(dv, c);
      break;
    case DLT.LINUX_SLL:
      err = checkSll(dv, c) ?? skipVlanTags(dv, c);
      break;
    case DLT.LINUX_SLL2:
      err = checkSll2(dv, c) ?? skipVlanTags(dv, c);
      break;
    case DLT.NULL:
      err = checkNull(dv, c, false);
      break;
    case DLT.LOOP:
      err = checkNull(dv, c, true);
      break;
    case DLT.RAW:
    case DLT.LINKTYPE_RAW:
    case DLT.IPV4:
    case DLT.IPV6:
      err = checkRaw(dv, c);
      break;
    default:
      return failed(fail("link", "unsupported", 0, `link type ${linkType} is not supported`), 0);
  }
  if (err !== undefined) return failed(err, base);
  if (c.proto === ETHERTYPE_IPV4) {
    c.family = 4;
    err = checkIpv4(dv, c);
  } else if (c.proto === ETHERTYPE_IPV6) {
    c.family = 6;
    err = checkIpv6(dv, c);
  } else {
    return failed(
      fail("link", "unsupported", c.off, `EtherType ${hex16(c.proto)} is not IPv4 or IPv6`),
      base,
    );
  }
  if (err !== undefined) return failed(err, base);
  // checkIpv4/checkIpv6 replaced the EtherType with the IP protocol number.
  err = (c.proto as number) === IPPROTO_TCP ? checkTcp(dv, c) : checkUdp(dv, c);
  return err === undefined ? undefined : failed(err, base);
}
