/**
 * The classic libpcap savefile format (what `tcpdump -w` writes): a 24-byte file header, then
 * per record a 16-byte header (ts_sec, ts_usec, incl_len, orig_len) and the captured bytes.
 * Writing produces little-endian microsecond files; reading accepts both byte orders and both
 * the microsecond (0xa1b2c3d4) and nanosecond (0xa1b23c4d) magic. pcapng is not read.
 *
 * @module
 */

/** One record of a savefile. */
export interface PcapRecord {
  /** Capture time, whole seconds. */
  tsSec: number;
  /** Capture time, microseconds within the second. */
  tsUsec: number;
  /** The captured bytes (`incl_len` of them). */
  data: Uint8Array;
  /** Length on the wire (`orig_len`). */
  wireLen: number;
}

/** A whole savefile. */
export interface PcapFile {
  /** The file's LINKTYPE_* value (low 16 bits of the header's network field). */
  linkType: number;
  /** Records in file order. */
  records: PcapRecord[];
}

const MAGIC_USEC = 0xa1b2c3d4;
const MAGIC_NSEC = 0xa1b23c4d;

/**
 * Writes a classic pcap savefile (little-endian, microsecond timestamps, version 2.4). A record
 * longer than `snaplen` is cut to it; `wireLen` defaults to the record's full length.
 *
 * @param linkType The LINKTYPE_* value of every record.
 * @param records The records.
 * @param snaplen The snapshot length to record in the header and cut records to (default 262144).
 * @returns The file bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readPcap, writePcap } from "./pcapfile.ts";
 * const bytes = writePcap(1, [{ tsSec: 5, tsUsec: 6, data: new Uint8Array(60) }]);
 * assert.equal(bytes.length, 24 + 16 + 60);
 * assert.equal(readPcap(bytes).records[0]?.wireLen, 60);
 * ```
 */
export function writePcap(
  linkType: number,
  records: { tsSec: number; tsUsec: number; data: Uint8Array; wireLen?: number }[],
  snaplen = 262144,
): Uint8Array {
  let size = 24;
  for (const r of records) size += 16 + Math.min(r.data.length, snaplen);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, MAGIC_USEC, true);
  dv.setUint16(4, 2, true);
  dv.setUint16(6, 4, true);
  dv.setUint32(16, snaplen, true);
  dv.setUint32(20, linkType, true);
  let at = 24;
  for (const r of records) {
    const incl = Math.min(r.data.length, snaplen);
    dv.setUint32(at, r.tsSec >>> 0, true);
    dv.setUint32(at + 4, r.tsUsec >>> 0, true);
    dv.setUint32(at + 8, incl, true);
    dv.setUint32(at + 12, (r.wireLen ?? r.data.length) >>> 0, true);
    out.set(r.data.subarray(0, incl), at + 16);
    at += 16 + incl;
  }
  return out;
}

/**
 * Reads a classic pcap savefile. Record data are copies, independent of `bytes`.
 *
 * @param bytes The file bytes.
 * @returns The link type and the records.
 * @throws {SyntaxError} When the file is not a classic pcap file or a record is cut short.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readPcap, writePcap } from "./pcapfile.ts";
 * const f = readPcap(writePcap(113, [{ tsSec: 1, tsUsec: 2, data: new Uint8Array(3), wireLen: 9 }]));
 * assert.equal(f.linkType, 113);
 * assert.equal(f.records[0]?.wireLen, 9);
 * ```
 */
export function readPcap(bytes: Uint8Array): PcapFile {
  if (bytes.length < 24) {
    throw new SyntaxError(
      `Cannot read pcap file: header needs 24 bytes, got "${bytes.length}"`,
    );
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let le: boolean;
  let nano: boolean;
  const magicLe = dv.getUint32(0, true);
  const magicBe = dv.getUint32(0, false);
  if (magicLe === MAGIC_USEC || magicLe === MAGIC_NSEC) {
    le = true;
    nano = magicLe === MAGIC_NSEC;
  } else if (magicBe === MAGIC_USEC || magicBe === MAGIC_NSEC) {
    le = false;
    nano = magicBe === MAGIC_NSEC;
  } else {
    throw new SyntaxError(
      `Cannot read pcap file: magic number "0x${
        magicBe.toString(16).padStart(8, "0")
      }" is not a pcap magic number`,
    );
  }
  const linkType = dv.getUint32(20, le) & 0xffff;
  const records: PcapRecord[] = [];
  let at = 24;
  while (at < bytes.length) {
    if (at + 16 > bytes.length) {
      throw new SyntaxError(
        `Cannot read pcap file: record ${records.length + 1} header at offset ${at} is truncated`,
      );
    }
    const tsSec = dv.getUint32(at, le);
    const frac = dv.getUint32(at + 4, le);
    const incl = dv.getUint32(at + 8, le);
    const wireLen = dv.getUint32(at + 12, le);
    if (at + 16 + incl > bytes.length) {
      throw new SyntaxError(
        `Cannot read pcap file: record ${records.length + 1} at offset ${at} is truncated`,
      );
    }
    records.push({
      tsSec,
      tsUsec: nano ? Math.floor(frac / 1000) : frac,
      data: bytes.slice(at + 16, at + 16 + incl),
      wireLen,
    });
    at += 16 + incl;
  }
  return { linkType, records };
}
