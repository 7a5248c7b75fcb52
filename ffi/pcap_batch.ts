/**
 * Reading packets from a libpcap handle in batches, without a JavaScript callback per packet:
 * `pcap_dispatch` with libpcap's own `pcap_dump` as the callback writes up to
 * {@link BatchReader.perCall} packets in pcap record format into an `fmemopen` buffer, and
 * TypeScript then walks the 16-byte record headers (docs/ARCHITECTURE.md, "Capture loop facts"
 * §4).
 *
 * @module
 */
import { cstr, PcapError, type PcapLib } from "./libpcap.ts";
import { cString } from "./libc.ts";

/** One captured frame. */
export interface Frame {
  /** pcap link type (`DLT_*`) of the handle. */
  linkType: number;
  /** The captured bytes; a view of a reused buffer, valid only during the callback. */
  data: Uint8Array;
  /** Captured length (`data.length`). */
  caplen: number;
  /** Length on the wire. */
  wireLen: number;
  /** Capture time, seconds. */
  tsSec: number;
  /** Capture time, microseconds. */
  tsUsec: number;
  /**
   * When set, the buffer `data` is a view of, with {@link offset}: a consumer can read the bytes
   * there without the view being made (a capture loop then allocates nothing per frame).
   */
  readonly buffer?: Uint8Array;
  /** Where the frame starts in {@link buffer}. */
  readonly offset?: number;
}

/** The one {@link Frame} a {@link BatchReader} hands over, refilled for every packet. */
class BatchFrame implements Frame {
  linkType = 0;
  caplen = 0;
  wireLen = 0;
  tsSec = 0;
  tsUsec = 0;
  offset = 0;
  readonly buffer: Uint8Array;

  constructor(buffer: Uint8Array) {
    this.buffer = buffer;
  }

  /** The captured bytes, as a view made on demand. */
  get data(): Uint8Array {
    return this.buffer.subarray(this.offset, this.offset + this.caplen);
  }
}

/**
 * Largest `pcap_dispatch` buffer (bytes) and packet count per call: with knockd's snaplen 65535
 * that is 63 packets per call in a 4 MiB buffer per handle; with snaplen 256, 1024 per call.
 */
const BATCH_BYTES = 4 << 20;
const BATCH_MAX = 1024;

/** Size of `struct pcap_sf_pkthdr`: ts_sec, ts_usec, caplen, len (32-bit each, host order). */
const RECORD_HEADER = 16;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Reads batches of packets from a handle: `pcap_dispatch` → `pcap_dump` → `fmemopen` buffer.
 * The buffer is owned here and lives as long as the `FILE` (closed by `pcap_dump_close`):
 * call {@link BatchReader.close} before `pcap_close`.
 *
 * @example
 * ```ts
 * import { acquirePcap, releasePcap } from "./libpcap.ts";
 * import { cString } from "./libc.ts";
 * import { BatchReader, type Frame } from "./pcap_batch.ts";
 * // A pcap file (Ethernet) with one 4-byte record captured at second 7.
 * const file = new Uint8Array(24 + 16 + 4);
 * const v = new DataView(file.buffer);
 * v.setUint32(0, 0xa1b2c3d4, true);
 * v.setUint16(4, 2, true);
 * v.setUint16(6, 4, true);
 * v.setUint32(16, 65535, true);
 * v.setUint32(20, 1, true);
 * v.setUint32(24, 7, true);
 * v.setUint32(32, 4, true);
 * v.setUint32(36, 60, true);
 * const path = Deno.makeTempFileSync({ suffix: ".pcap" });
 * Deno.writeFileSync(path, file);
 * const p = acquirePcap();
 * try {
 *   const handle = p.sym.pcap_open_offline(cString(path), new Uint8Array(256));
 *   if (handle === null) throw new Error("cannot open the file");
 *   const reader = new BatchReader(p, handle);
 *   const seen: Frame[] = [];
 *   try {
 *     if (reader.read(1, (f) => seen.push({ ...f })) !== 1) throw new Error("one packet");
 *     if (reader.read(1, () => {}) !== 0) throw new Error("then the end of the file");
 *   } finally {
 *     reader.close();
 *     p.sym.pcap_close(handle);
 *   }
 *   const f = seen[0];
 *   if (f?.tsSec !== 7 || f.caplen !== 4 || f.wireLen !== 60) throw new Error("wrong record");
 * } finally {
 *   releasePcap();
 *   Deno.removeSync(path);
 * }
 * ```
 */
export class BatchReader {
  readonly #p: PcapLib;
  readonly #handle: Deno.PointerObject;
  readonly #buf: Uint8Array<ArrayBuffer>;
  readonly #frame: BatchFrame;
  readonly #view: DataView;
  readonly #file: Deno.PointerObject;
  #dumper: Deno.PointerObject | null;
  /** Most packets one {@link BatchReader.read} delivers. */
  readonly perCall: number;

  /**
   * Sets up the buffer and the dumper for a handle.
   *
   * @param p The library.
   * @param handle An open (live or offline) handle.
   * @throws {PcapError} When the memory stream or the dumper cannot be opened.
   */
  constructor(p: PcapLib, handle: Deno.PointerObject) {
    this.#p = p;
    this.#handle = handle;
    const snap = Math.max(p.sym.pcap_snapshot(handle), 1);
    // fmemopen drops what does not fit, silently: size the buffer for perCall full records.
    this.perCall = Math.max(
      1,
      Math.min(BATCH_MAX, Math.floor(BATCH_BYTES / (RECORD_HEADER + snap))),
    );
    this.#buf = new Uint8Array(this.perCall * (RECORD_HEADER + snap) + 64);
    this.#frame = new BatchFrame(this.#buf);
    this.#view = new DataView(this.#buf.buffer);
    const file = p.libc.fmemopen(this.#buf, BigInt(this.#buf.length), cString("w"));
    if (file === null) throw new PcapError("Cannot open a memory stream for packet batches");
    this.#file = file;
    this.#dumper = p.sym.pcap_dump_fopen(handle, file);
    if (this.#dumper === null) {
      const why = cstr(p.sym.pcap_geterr(handle));
      p.libc.fclose(file);
      throw new PcapError(`Cannot open a packet dumper: ${why}`);
    }
  }

  /**
   * Reads up to {@link BatchReader.perCall} packets and hands each to `deliver`.
   *
   * @param linkType The handle's link type, copied into every frame.
   * @param deliver Called once per packet with the same {@link Frame} object, refilled: the frame
   *   and its bytes are valid only during the call.
   * @returns The `pcap_dispatch` result: packets read, 0, -1 (error) or -2 (breakloop).
   */
  read(linkType: number, deliver: (f: Frame) => void): number {
    const { libc, sym, pcapDumpFn } = this.#p;
    libc.rewind(this.#file); // records start at 0: the 24-byte file header is overwritten
    const n = sym.pcap_dispatch(this.#handle, this.perCall, pcapDumpFn, this.#dumper);
    if (n <= 0) return n;
    libc.fflush(this.#file);
    const end = Math.min(Number(libc.ftell(this.#file)), this.#buf.length);
    const v = this.#view;
    let off = 0;
    for (let i = 0; i < n && off + RECORD_HEADER <= end; i++) {
      // struct pcap_sf_pkthdr in host byte order: ts_sec, ts_usec, caplen, len (all 32-bit).
      const caplen = v.getUint32(off + 8, LITTLE_ENDIAN);
      const start = off + RECORD_HEADER;
      if (start + caplen > end) break; // cannot happen with the buffer sized for perCall records
      const f = this.#frame;
      f.linkType = linkType;
      f.offset = start;
      f.caplen = caplen;
      f.wireLen = v.getUint32(off + 12, LITTLE_ENDIAN);
      f.tsSec = v.getUint32(off, LITTLE_ENDIAN);
      f.tsUsec = v.getUint32(off + 4, LITTLE_ENDIAN);
      deliver(f);
      off = start + caplen;
    }
    return n;
  }

  /** Closes the dumper and its `FILE`; call it before closing the handle. Idempotent. */
  close(): void {
    if (this.#dumper !== null) this.#p.sym.pcap_dump_close(this.#dumper); // also fcloses the FILE
    this.#dumper = null;
  }
}
