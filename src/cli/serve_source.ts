/**
 * Where `knocktool serve` gets its frames: a live interface (libpcap, tuned for latency unless
 * `--capture buffered`) or a replayed capture file (`--pcap-file`).
 *
 * @module
 */
import type { FrameSource } from "../server/daemon.ts";
import { captureFile } from "../server/capture_file.ts";
import { CaptureControl, captureLive } from "../server/capture_live.ts";
import type { ServeOptions } from "./serve_args.ts";

/**
 * Snapshot length in immediate mode. knocktool reads headers only (docs/PERFORMANCE.md, "The
 * capture ring"): the decoder stops at the end of the TCP or UDP header, and secret sequences and
 * flag steps read nothing past it. 202 bytes hold Ethernet with two VLAN tags (22) or a cooked
 * header, IPv6 (40) with 80 bytes of extension headers and a TCP header with the most options
 * (60); IPv4 with options always fits. A longer header chain is cut and counted as a truncated
 * packet, never guessed at. 202 is the largest snaplen whose TPACKET_V2 slot is 272 bytes
 * (libpcap puts 70 bytes of headers before the frame and aligns to 16), 15 slots per 4 KiB block.
 */
const IMMEDIATE_SNAPLEN = 202;

/**
 * Kernel ring size in immediate mode: 514 blocks of 15 slots of {@link IMMEDIATE_SNAPLEN}, 7,710
 * frames (half that on `lo`, where each frame also takes a slot as it leaves), as many as the
 * 8 MiB ring of 1024-byte slots held before, in 2 MiB of resident memory instead of 10.
 */
const IMMEDIATE_RING_BYTES = 2 * 1024 * 1024;

/**
 * Capture settings for a live interface. knockd reads with `pcap_open_live(iface, 65535, 0, 50)`,
 * so a knock reaches it up to 50 ms late (TPACKET_V3 hands over whole blocks). Immediate mode
 * delivers each packet at once; libpcap then uses TPACKET_V2, whose ring slots are min(snaplen,
 * MTU) bytes plus headers, hence a snaplen sized for headers ({@link IMMEDIATE_SNAPLEN}).
 */
function captureTuning(
  opts: Pick<ServeOptions, "capture">,
): { immediate: boolean; snaplen: number; bufferBytes?: number } {
  if (opts.capture === "buffered") return { immediate: false, snaplen: 65535 };
  return { immediate: true, snaplen: IMMEDIATE_SNAPLEN, bufferBytes: IMMEDIATE_RING_BYTES };
}

/**
 * The frame source for a `serve` run.
 *
 * @param opts The options (`-4`, `--capture`).
 * @param iface The interface to capture on.
 * @param pcapFile The capture file to replay instead, if any.
 * @returns The source.
 *
 * @example
 * ```ts
 * import { frameSource } from "./serve_source.ts";
 * const opts = { ipv4Only: false } as const;
 * if (frameSource(opts, "lo", "knocks.pcap").live) throw new Error("a replay is not live");
 * if (!frameSource(opts, "lo", undefined).live) throw new Error("an interface is live");
 * ```
 */
export function frameSource(
  opts: Pick<ServeOptions, "ipv4Only" | "capture">,
  iface: string,
  pcapFile: string | undefined,
): FrameSource {
  if (pcapFile !== undefined) {
    return {
      live: false,
      run: async (ev, signal) => {
        // The matcher's own pre-filter is exact, and a replay must see the ports of rotated
        // one-time sequences too: no BPF on files.
        await captureFile(pcapFile, "", ev, signal);
      },
      refilter: () => {},
    };
  }
  const control = new CaptureControl();
  return {
    live: true,
    run: (ev, signal, filter) =>
      captureLive(
        { iface, filter, ipv4Only: opts.ipv4Only, control, ...captureTuning(opts) },
        ev,
        signal,
      ),
    refilter: () => control.reinstallFilter(),
  };
}
