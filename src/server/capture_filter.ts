/**
 * Installing a capture filter on a libpcap handle: the first of several candidate expressions
 * (most to least exact) that compiles within the kernel's {@link BPF_MAX_INSNS} instructions.
 *
 * @module
 */
import { cstr, PCAP_NETMASK_UNKNOWN, type PcapLib } from "../../ffi/libpcap.ts";
import { cString } from "../../ffi/libc.ts";
import { BPF_MAX_INSNS } from "../config/filter.ts";

/**
 * A filter expression for a message: short ones whole, long ones cut with their length, so that
 * a huge generated filter does not flood the log.
 *
 * @param text The expression.
 * @returns The quoted text.
 *
 * @example
 * ```ts
 * import { quoteFilter } from "./capture_filter.ts";
 * if (quoteFilter("udp") !== `"udp"`) throw new Error("short filters stay whole");
 * if (quoteFilter("x".repeat(500)).length > 120) throw new Error("long filters are cut");
 * ```
 */
export function quoteFilter(text: string): string {
  return text.length <= 80
    ? JSON.stringify(text)
    : `${JSON.stringify(text.slice(0, 60))}... (${text.length} characters)`;
}

/** What {@link installFilter} did. */
export interface InstallResult {
  /** An error message ("" when a candidate was installed). */
  readonly error: string;
  /** A warning about falling back to a coarser candidate ("" when the first one fit). */
  readonly warning: string;
}

/**
 * Compiles the candidates in order and installs the first that compiles within
 * {@link BPF_MAX_INSNS} instructions. On an error the handle's previous filter stays.
 *
 * @param p The library.
 * @param handle The handle.
 * @param filter One expression, or candidates from most to least exact; "" or no candidate at
 *   all admits everything.
 * @param where What the handle reads, for messages (`interface "eth0"`, `capture file "x"`).
 * @returns The error and the fallback warning, each "" when there is none.
 *
 * @example
 * ```ts
 * import { acquirePcap, releasePcap } from "../../ffi/libpcap.ts";
 * import { openOfflineHandle } from "../../ffi/pcap_open.ts";
 * import { installFilter } from "./capture_filter.ts";
 * // An empty Ethernet pcap file: the 24-byte header only.
 * const header = new DataView(new ArrayBuffer(24));
 * header.setUint32(0, 0xa1b2c3d4, true);
 * header.setUint16(4, 2, true);
 * header.setUint16(6, 4, true);
 * header.setUint32(16, 65535, true);
 * header.setUint32(20, 1, true);
 * const path = Deno.makeTempFileSync({ suffix: ".pcap" });
 * Deno.writeFileSync(path, new Uint8Array(header.buffer));
 * const p = acquirePcap();
 * try {
 *   const handle = openOfflineHandle(p, path);
 *   try {
 *     const r = installFilter(p, handle, ["udp port", "udp"], "a test file");
 *     if (r.error !== "") throw new Error(r.error);
 *     if (!r.warning.startsWith(`Cannot compile filter "udp port" for a test file: `)) {
 *       throw new Error(r.warning);
 *     }
 *   } finally {
 *     p.sym.pcap_close(handle);
 *   }
 * } finally {
 *   releasePcap();
 *   Deno.removeSync(path);
 * }
 * ```
 */
export function installFilter(
  p: PcapLib,
  handle: Deno.PointerObject,
  filter: string | readonly string[],
  where: string,
): InstallResult {
  // No candidate at all means "admit everything", like "".
  const candidates = typeof filter === "string" ? [filter] : filter.length === 0 ? [""] : filter;
  const problems: string[] = [];
  for (const [i, text] of candidates.entries()) {
    const prog = new Uint8Array(16); // struct bpf_program { u_int bf_len; struct bpf_insn *bf_insns; }
    if (p.sym.pcap_compile(handle, prog, cString(text), 1, PCAP_NETMASK_UNKNOWN) < 0) {
      problems.push(
        `Cannot compile filter ${quoteFilter(text)} for ${where}: ${
          cstr(p.sym.pcap_geterr(handle))
        }`,
      );
      continue;
    }
    const length = new Uint32Array(prog.buffer, 0, 1)[0] ?? 0;
    if (length > BPF_MAX_INSNS) {
      p.sym.pcap_freecode(prog);
      problems.push(
        `Cannot use filter ${
          quoteFilter(text)
        } for ${where}: it has ${length} BPF instructions, more than the kernel's ${BPF_MAX_INSNS}`,
      );
      continue;
    }
    const rc = p.sym.pcap_setfilter(handle, prog);
    const why = rc < 0 ? cstr(p.sym.pcap_geterr(handle)) : "";
    p.sym.pcap_freecode(prog);
    if (rc < 0) return { error: `Cannot install filter on ${where}: ${why}`, warning: "" };
    const warning = i === 0
      ? ""
      : `${problems.join("; ")}: using the coarser filter ${
        quoteFilter(text)
      } instead (the matcher still checks every packet exactly)`;
    return { error: "", warning };
  }
  return {
    error: problems.join("; ") || `Cannot install filter on ${where}: no filter`,
    warning: "",
  };
}
