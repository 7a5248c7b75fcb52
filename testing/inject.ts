/**
 * Frame injector for tests and benchmarks: builds TCP/UDP frames with spoofed sources (through
 * `src/wire/build.ts`) and sends them on one interface through an AF_PACKET socket
 * (`testing/af_packet.ts`). Meant to run inside a test's namespace:
 *
 * ```sh
 * ip netns exec NS deno run -A testing/inject.ts '{"iface":"lo","frames":[{"src":"127.0.0.71","dst":"127.0.0.1","proto":"tcp","port":7000}]}'
 * ```
 *
 * The argument is an {@link InjectSpec} as JSON (or `-` to read it from stdin). On success it
 * prints an {@link InjectResult} as JSON (`{"sent":N,"elapsedMs":T}`) and exits 0; on a bad spec
 * or a socket error it prints the error on stderr and exits 1. Every run is bounded: at most
 * {@link MAX_FRAMES} frames in total, each delay at most {@link MAX_DELAY_MS}, and the whole run
 * at most {@link MAX_TOTAL_MS} (planned delays and pacing checked before the first frame, the
 * clock checked while sending). Spoofed frames never reach a real network: the injector refuses
 * any interface but `lo` unless it runs inside a named network namespace ({@link inPrivateNetns}).
 *
 * @module
 */

import { buildEthernet, buildIp, TCP_FLAGS } from "../src/wire/build.ts";
import { PacketSocket } from "./af_packet.ts";

/** Most frames one run may send (list length × repeat). */
export const MAX_FRAMES = 5_000_000;
/** Longest single delay in milliseconds. */
export const MAX_DELAY_MS = 60_000;
/** Longest whole run in milliseconds (delays, pacing and sending). */
export const MAX_TOTAL_MS = 120_000;

/**
 * Whether this process runs in a named network namespace (`ip netns add`, as the tests make):
 * its `/proc/self/ns/net` is the same nsfs inode as one of `/run/netns/*`. (`/proc/1/ns/net`
 * cannot be compared: reading it is denied without CAP_SYS_PTRACE, even to root in a container.)
 *
 * @returns False in the init namespace, or when it cannot be told.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inPrivateNetns } from "./inject.ts";
 * assert.equal(typeof inPrivateNetns(), "boolean", "not a boolean");
 * ```
 */
export function inPrivateNetns(): boolean {
  try {
    const self = Deno.statSync("/proc/self/ns/net");
    for (const e of Deno.readDirSync("/run/netns")) {
      try {
        const ns = Deno.statSync(`/run/netns/${e.name}`);
        if (ns.ino === self.ino && ns.dev === self.dev) return true;
      } catch { /* removed meanwhile */ }
    }
  } catch {
    // no /proc or no /run/netns: not in a named namespace
  }
  return false;
}

/** One frame to send. */
export interface FrameSpec {
  /** Source address (IPv4 or IPv6 text; the family follows from it). */
  readonly src: string;
  /** Destination address, same family as `src`. */
  readonly dst: string;
  /** Transport protocol. */
  readonly proto: "tcp" | "udp";
  /** Destination port. */
  readonly port: number;
  /** Source port (default 40000 + index in the list). */
  readonly srcPort?: number;
  /** TCP flags: a number, or names joined by `,`/`|`/`+` such as `"SYN"`, `"ACK"`, `"SYN,ACK"` (default SYN). */
  readonly flags?: number | string;
  /** Wait this long before sending this frame (default: the spec's `gapMs`). */
  readonly delayMs?: number;
  /** 802.1Q/802.1ad tags, outermost first. */
  readonly vlan?: readonly number[];
  /** Payload as hex (default none). */
  readonly payloadHex?: string;
  /**
   * Bytes overwritten once the frame is built, to make it malformed: `at` is the offset in the
   * whole frame (Ethernet header included), `hex` the new bytes. Checksums are not recomputed.
   */
  readonly patch?: readonly { readonly at: number; readonly hex: string }[];
  /** Cut the built (and patched) frame to this many bytes, or pad it with zeros up to it. */
  readonly length?: number;
}

/** What to send. */
export interface InjectSpec {
  /** Interface to send on (`lo`, or a veth end). */
  readonly iface: string;
  /** Frames in order. */
  readonly frames: readonly FrameSpec[];
  /** Send the list this many times (default 1); delays apply on every round. */
  readonly repeat?: number;
  /** Default wait before each frame after the first, in milliseconds (default 0). */
  readonly gapMs?: number;
  /** Destination MAC as `aa:bb:cc:dd:ee:ff` (default zeros, right for `lo`). */
  readonly dstMac?: string;
  /** Source MAC (default zeros). */
  readonly srcMac?: string;
  /** Pace the sending at about this many frames per second (default: as fast as possible). */
  readonly ratePps?: number;
}

/** What one run did. */
export interface InjectResult {
  /** Frames sent. */
  readonly sent: number;
  /** Wall time from the first send to the last, in milliseconds (information only). */
  readonly elapsedMs: number;
}

/**
 * Parses TCP flag text (`SYN`, `syn,ack`, `FIN|PSH|URG`) or passes a number through.
 *
 * @param flags Number or names.
 * @returns The flags byte.
 * @throws {Error} On an unknown name or an out-of-range number.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFlags } from "./inject.ts";
 * assert.equal(parseFlags("syn,ack"), 0x12);
 * assert.equal(parseFlags(undefined), 0x02);
 * ```
 */
export function parseFlags(flags: number | string | undefined): number {
  if (flags === undefined) return TCP_FLAGS.SYN;
  if (typeof flags === "number") {
    if (!Number.isInteger(flags) || flags < 0 || flags > 255) {
      throw new Error(`Cannot parse TCP flags "${flags}": must be an integer 0-255`);
    }
    return flags;
  }
  let v = 0;
  for (const raw of flags.split(/[,|+]/)) {
    const name = raw.trim().toUpperCase();
    if (name === "" || name === "NONE") continue;
    const bit = (TCP_FLAGS as Record<string, number>)[name === "PUSH" ? "PSH" : name];
    if (bit === undefined) {
      throw new Error(`Cannot parse TCP flags "${flags}": unknown flag "${raw}"`);
    }
    v |= bit;
  }
  return v;
}

function parseMac(text: string | undefined): Uint8Array {
  if (text === undefined) return new Uint8Array(6);
  const parts = text.split(":");
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new Error(`Cannot parse MAC address "${text}": expected six hex bytes`);
  }
  return new Uint8Array(parts.map((p) => parseInt(p, 16)));
}

function parseHex(text: string): Uint8Array {
  if (!/^([0-9a-fA-F]{2})*$/.test(text)) {
    throw new Error(`Cannot parse payload "${text}": expected hex bytes`);
  }
  return new Uint8Array(text.match(/../g)?.map((b) => parseInt(b, 16)) ?? []);
}

/**
 * Builds the complete Ethernet frame for one {@link FrameSpec}.
 *
 * @param f The frame.
 * @param index Its index in the list (default source port).
 * @param macs Destination and source MACs (default zeros).
 * @returns The frame bytes.
 * @throws {Error} On bad addresses, ports or flags.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildFrame } from "./inject.ts";
 * const f = buildFrame({ src: "127.0.0.71", dst: "127.0.0.1", proto: "tcp", port: 7000 }, 0);
 * assert.equal(f.length, 14 + 20 + 20);
 * assert.equal(f[12], 0x08);
 * ```
 */
export function buildFrame(
  f: FrameSpec,
  index: number,
  macs: { dst?: Uint8Array; src?: Uint8Array } = {},
): Uint8Array {
  const family = f.src.includes(":") ? 6 : 4;
  if (f.dst.includes(":") !== (family === 6)) {
    throw new Error(`Cannot build a frame from "${f.src}" to "${f.dst}": address families differ`);
  }
  const ip = buildIp({
    family,
    src: f.src,
    dst: f.dst,
    protocol: f.proto,
    srcPort: f.srcPort ?? 40000 + (index % 20000),
    dstPort: f.port,
    tcpFlags: parseFlags(f.flags),
    ...(f.payloadHex === undefined ? {} : { payload: parseHex(f.payloadHex) }),
  });
  const frame = buildEthernet(ip, family, {
    dst: macs.dst ?? new Uint8Array(6),
    src: macs.src ?? new Uint8Array(6),
    ...(f.vlan === undefined ? {} : { vlan: [...f.vlan] }),
  });
  if (f.patch === undefined && f.length === undefined) return frame;
  for (const { at, hex } of f.patch ?? []) {
    const bytes = parseHex(hex);
    if (!(Number.isInteger(at) && at >= 0 && at + bytes.length <= frame.length)) {
      throw new Error(
        `Cannot patch ${bytes.length} bytes at "${at}": the frame has ${frame.length}`,
      );
    }
    frame.set(bytes, at);
  }
  const length = f.length ?? frame.length;
  if (!(Number.isInteger(length) && length >= 0 && length <= 65535)) {
    throw new Error(`Cannot build a frame of "${length}" bytes: the length must be 0-65535`);
  }
  const out = new Uint8Array(length);
  out.set(frame.subarray(0, Math.min(length, frame.length)));
  return out;
}

/**
 * Sends the frames of a spec in order, honouring delays. Frames are built once, before the first
 * send, so bulk runs send as fast as the socket accepts them.
 *
 * @param spec What to send.
 * @returns How many frames were sent, and how long it took.
 * @throws {Error} On a bad spec (nothing is sent) or a socket error.
 */
export async function inject(spec: InjectSpec): Promise<InjectResult> {
  if (spec.iface !== "lo" && !inPrivateNetns()) {
    throw new Error(
      `Cannot inject on "${spec.iface}": spoofed frames go only to lo or inside a test's network namespace`,
    );
  }
  const repeat = spec.repeat ?? 1;
  if (!Number.isInteger(repeat) || repeat < 1) {
    throw new Error(`Cannot inject: "repeat" must be a positive integer, got "${repeat}"`);
  }
  if (spec.frames.length * repeat > MAX_FRAMES) {
    throw new Error(`Cannot inject ${spec.frames.length * repeat} frames: at most ${MAX_FRAMES}`);
  }
  const macs = { dst: parseMac(spec.dstMac), src: parseMac(spec.srcMac) };
  const built = spec.frames.map((f, i) => buildFrame(f, i, macs));
  const delays = spec.frames.map((f, i) => {
    const d = f.delayMs ?? (i === 0 ? 0 : spec.gapMs ?? 0);
    if (!(d >= 0 && d <= MAX_DELAY_MS)) {
      throw new Error(`Cannot inject: delay "${d}" must be 0-${MAX_DELAY_MS} ms`);
    }
    return d;
  });
  const rate = spec.ratePps;
  if (rate !== undefined && !(rate > 0 && rate <= 100_000_000)) {
    throw new Error(`Cannot inject: "ratePps" must be a positive number, got "${rate}"`);
  }
  const planned = Math.max(
    delays.reduce((a, b) => a + b, 0) * repeat,
    rate === undefined ? 0 : (built.length * repeat / rate) * 1000,
  );
  if (planned > MAX_TOTAL_MS) {
    throw new Error(`Cannot inject: the run would take "${planned}" ms, at most ${MAX_TOTAL_MS}`);
  }
  using sock = PacketSocket.open(spec.iface);
  let sent = 0;
  const start = performance.now();
  for (let r = 0; r < repeat; r++) {
    for (let i = 0; i < built.length; i++) {
      const d = delays[i] ?? 0;
      if (d > 0) await sleepMs(d);
      if (rate !== undefined) {
        // Pace in steps of at least 2 ms so that timers, not a busy loop, do the waiting.
        const ahead = (sent / rate) * 1000 - (performance.now() - start);
        if (ahead >= 2) await sleepMs(ahead);
      }
      if (performance.now() - start > MAX_TOTAL_MS) {
        throw new Error(`Cannot inject: stopped after ${MAX_TOTAL_MS} ms with ${sent} frames sent`);
      }
      sock.send(built[i]!);
      sent++;
    }
  }
  return { sent, elapsedMs: performance.now() - start };
}

function sleepMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

if (import.meta.main) {
  try {
    const arg = Deno.args[0];
    if (arg === undefined) throw new Error("Cannot inject: give the spec as JSON, or - for stdin");
    const text = arg === "-" ? await new Response(Deno.stdin.readable).text() : arg;
    const result = await inject(JSON.parse(text) as InjectSpec);
    console.log(JSON.stringify(result));
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    Deno.exit(1);
  }
}

/**
 * Runs this injector inside a namespace (`ip netns exec NS deno run -A inject.ts -`) and waits
 * for it to finish, at most {@link MAX_TOTAL_MS} plus 30 s for start-up (then it is killed).
 *
 * @param nsName Namespace name.
 * @param spec What to send.
 * @returns How many frames were sent, and how long it took.
 * @throws {Error} With the injector's stderr when it fails.
 */
export async function injectInNetnsResult(
  nsName: string,
  spec: InjectSpec,
): Promise<InjectResult> {
  const child = new Deno.Command("ip", {
    args: [
      "netns",
      "exec",
      nsName,
      Deno.execPath(),
      "run",
      "-A",
      "--no-config",
      new URL(import.meta.url).pathname,
      "-",
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const killer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, MAX_TOTAL_MS + 30_000);
  let out: Deno.CommandOutput;
  try {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(JSON.stringify(spec)));
    await w.close();
    out = await child.output();
  } finally {
    clearTimeout(killer);
  }
  if (timedOut) {
    throw new Error(
      `Cannot inject frames in "${nsName}": killed after ${MAX_TOTAL_MS + 30_000} ms`,
    );
  }
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  if (out.code !== 0) {
    throw new Error(`Cannot inject frames in "${nsName}": exit status ${out.code}\n${stderr}`);
  }
  try {
    return JSON.parse(stdout) as InjectResult;
  } catch {
    throw new Error(`Cannot read the injector's result: "${stdout.trim()}"`);
  }
}

/**
 * Same as {@link injectInNetnsResult}, returning only how many frames were sent.
 *
 * @param nsName Namespace name.
 * @param spec What to send.
 * @returns How many frames were sent.
 * @throws {Error} With the injector's stderr when it fails.
 */
export async function injectInNetns(nsName: string, spec: InjectSpec): Promise<number> {
  return (await injectInNetnsResult(nsName, spec)).sent;
}
