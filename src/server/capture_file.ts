/**
 * Pcap-file replay: frames from a capture file through libpcap, with a filter applied as a live
 * capture would (`knocktool serve --pcap-file`).
 *
 * @module
 */
import { acquirePcap, cstr, PcapError, releasePcap } from "../../ffi/libpcap.ts";
import { BatchReader, type Frame } from "../../ffi/pcap_batch.ts";
import { openOfflineHandle } from "../../ffi/pcap_open.ts";
import type { CaptureEvents } from "./capture_events.ts";
import { installFilter } from "./capture_filter.ts";

/**
 * Reads a pcap file through libpcap (`pcap_open_offline`), applying `filter` as a live capture
 * would, and hands every frame that passes to `onFrame`. Yields to the event loop between
 * batches so timers run during long files.
 *
 * @param path The pcap (or pcapng) file.
 * @param filter BPF filter text ("" for none), or candidates from most to least exact (as for
 *   a live capture's filter).
 * @param ev Where frames go (`onStatus` only reports a fallback; `onAddresses` is not called).
 * @param signal Stops reading early.
 * @returns The number of frames delivered.
 * @throws {PcapError} `Cannot open capture file "x": <libpcap text>`, filter and read errors,
 *   or when libpcap cannot be loaded.
 *
 * @example
 * ```ts
 * import { captureFile } from "./capture_file.ts";
 * // A pcap file (Ethernet) with two empty records, at seconds 1 and 2.
 * const file = new Uint8Array(24 + 2 * 16);
 * const v = new DataView(file.buffer);
 * v.setUint32(0, 0xa1b2c3d4, true);
 * v.setUint16(4, 2, true);
 * v.setUint16(6, 4, true);
 * v.setUint32(16, 65535, true);
 * v.setUint32(20, 1, true);
 * v.setUint32(24, 1, true);
 * v.setUint32(40, 2, true);
 * const path = Deno.makeTempFileSync({ suffix: ".pcap" });
 * Deno.writeFileSync(path, file);
 * const seconds: number[] = [];
 * try {
 *   const { frames } = await captureFile(path, "", {
 *     onFrame: (f) => seconds.push(f.tsSec),
 *     onStatus: () => {},
 *     onAddresses: () => {},
 *   });
 *   if (frames !== 2 || seconds.join() !== "1,2") throw new Error(`got ${seconds}`);
 * } finally {
 *   Deno.removeSync(path);
 * }
 * ```
 */
export async function captureFile(
  path: string,
  filter: string | readonly string[],
  ev: CaptureEvents,
  signal?: AbortSignal,
): Promise<{ frames: number }> {
  const p = acquirePcap();
  try {
    const handle = openOfflineHandle(p, path);
    let reader: BatchReader | undefined;
    try {
      const r = installFilter(p, handle, filter, `capture file "${path}"`);
      if (r.error !== "") throw new PcapError(r.error);
      if (r.warning !== "") ev.onStatus(r.warning, "warning");
      reader = new BatchReader(p, handle);
      const linkType = p.sym.pcap_datalink(handle);
      let frames = 0;
      let batches = 0;
      const deliver = (f: Frame) => {
        frames++;
        ev.onFrame(f);
      };
      while (signal?.aborted !== true) {
        const n = reader.read(linkType, deliver);
        if (n === 0 || n === -2) break;
        if (n < 0) {
          throw new PcapError(
            `Cannot read capture file "${path}": ${cstr(p.sym.pcap_geterr(handle))}`,
          );
        }
        if (++batches % 16 === 0) await new Promise((r) => setTimeout(r, 0));
      }
      return { frames };
    } finally {
      reader?.close();
      p.sym.pcap_close(handle);
    }
  } finally {
    releasePcap();
  }
}
