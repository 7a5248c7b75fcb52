/**
 * Where `knocktool serve` gets its frames: a live interface (libpcap, tuned for latency unless
 * `--capture buffered`) or a replayed capture file (`--pcap-file`).
 *
 * @module
 */
import type { FrameSource } from "../server/daemon.ts";
import { captureFile } from "../server/capture_file.ts";
import { CaptureControl, captureLive } from "../server/capture_live.ts";
import type { ServeOptions } from "./serve.ts";

/**
 * Capture settings for a live interface. knockd reads with `pcap_open_live(iface, 65535, 0, 50)`,
 * so a knock reaches it up to 50 ms late (TPACKET_V3 hands over whole blocks). Immediate mode
 * delivers each packet at once; libpcap then uses TPACKET_V2, whose ring slots are min(snaplen,
 * MTU) bytes, so the snaplen is cut to 1024 — room for Ethernet, two VLAN tags, IPv6 with ~900
 * bytes of extension headers and a full TCP header — and the ring is 8 MiB: ~7,500 frames (half
 * that on `lo`, where each frame also takes a slot as it leaves). It costs ~10 MiB of RSS, but a
 * 2 MiB ring lost knocks mixed into a flood on a busy machine (docs/PERFORMANCE.md, "The capture
 * ring").
 */
function captureTuning(
  opts: Pick<ServeOptions, "capture">,
): { immediate: boolean; snaplen: number; bufferBytes?: number } {
  if (opts.capture === "buffered") return { immediate: false, snaplen: 65535 };
  return { immediate: true, snaplen: 1024, bufferBytes: 8 * 1024 * 1024 };
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
