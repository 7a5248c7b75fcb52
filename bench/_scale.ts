/**
 * The doors half of the harness's scale section (`bench/harness.ts`): one `knocktool serve` per
 * door count, alone on the namespace's `lo`, its memory when ready and its CPU per in-filter
 * packet after a warm-up of the same size. knockd is left out: it builds one pcap filter expression naming every door's ports, and
 * with thousands of doors that is a different experiment (its filter, not its matching).
 *
 * @module
 */
import type { PacketSocket } from "../testing/af_packet.ts";
import { buildEthernet, buildIp, TCP_FLAGS } from "../src/wire/build.ts";
import { type CpuTicks, readCpuTicks, readMemoryKiB, readThreadsNs } from "./_proc.ts";
import type { ScaleDoorsRow } from "./_report.ts";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A SYN (or a UDP datagram) from `src` to 127.0.0.1:`port`. */
export function frameTo(src: string, proto: "tcp" | "udp", port: number): Uint8Array {
  const ip = buildIp({
    family: 4,
    src,
    dst: "127.0.0.1",
    protocol: proto,
    srcPort: 40000 + (port % 20000),
    dstPort: port,
    tcpFlags: TCP_FLAGS.SYN,
  });
  return buildEthernet(ip, 4);
}

/** The `n` scale doors: door i = `10000+i,30000+i`, SYN, `Start_Command = true` (config lines). */
export function scaleDoorLines(n: number): string[] {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    lines.push(
      `[d${i}]`,
      `  Sequence = ${10000 + i},${30000 + i}`,
      "  Seq_Timeout = 5",
      "  TCPFlags = syn",
      "  Start_Command = true",
    );
  }
  return lines;
}

/** A config of `n` doors (`10000+i`, `30000+i`, SYN) plus door B (`2222:udp,3333`) for the probe. */
function doorsConfig(n: number, marker: string): string {
  const lines = scaleDoorLines(n);
  lines.push(
    "[B]",
    "  Sequence = 2222:udp,3333",
    "  Seq_Timeout = 5",
    "  TCPFlags = syn",
    `  Start_Command = echo "%IP% B" >> ${marker}`,
    "",
  );
  return lines.join("\n");
}

/** What {@link measureDoors} needs from the harness. */
export interface DoorsBench {
  readonly dir: string;
  readonly serveCommand: (conf: string) => { cmd: string; args: string[] };
  readonly sock: PacketSocket;
  readonly packets: number;
  /** Throws when the run must stop (interrupted, out of time). */
  readonly check: () => void;
}

/**
 * Starts knocktool with each door count in turn, waits until it serves (door B's command ran for
 * a probe knock), floods `packets` SYNs to door second ports from spoofed sources, and stops it.
 *
 * @param b The harness's context.
 * @param counts Door counts.
 * @returns One row per count (null figures when the process did not get ready).
 */
export async function measureDoors(
  b: DoorsBench,
  counts: readonly number[],
): Promise<ScaleDoorsRow[]> {
  const rows: ScaleDoorsRow[] = [];
  for (const n of counts) {
    b.check();
    const marker = `${b.dir}/doors-${n}.marker`;
    const conf = `${b.dir}/doors-${n}.conf`;
    Deno.writeTextFileSync(conf, doorsConfig(n, marker));
    const frames = Array.from(
      { length: 5000 },
      (_, i) => frameTo(`127.14.${(i >> 8) & 255}.${i & 255}`, "tcp", 30000 + (i % n)),
    );
    const { cmd, args } = b.serveCommand(conf);
    const child = new Deno.Command(cmd, {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "null",
      env: { NO_COLOR: "1" },
    }).spawn();
    try {
      let ready = false;
      const end = Date.now() + 60_000;
      for (let probe = 0; Date.now() < end && !ready; probe++) {
        b.check();
        const src = `127.251.${probe >> 8}.${(probe & 255) + 1}`;
        b.sock.send(frameTo(src, "udp", 2222));
        b.sock.send(frameTo(src, "tcp", 3333));
        await sleep(300);
        try {
          ready = Deno.readTextFileSync(marker).includes(" B");
        } catch { /* not yet */ }
      }
      if (!ready) {
        rows.push({ doors: n, usPerPacket: null, ready: null, after: null });
        continue;
      }
      await sleep(500);
      const readyMem = readMemoryKiB(child.pid) ?? null;
      // Warm-up (JIT), as the harness's: one round of the same frames, not measured.
      for (let i = 0; i < b.packets; i++) b.sock.send(frames[i % frames.length]!);
      await settled(child.pid);
      // CPU from the threads' schedstat (nanoseconds): finer than clock ticks for short floods.
      const t0 = readThreadsNs(child.pid);
      for (let i = 0; i < b.packets; i++) b.sock.send(frames[i % frames.length]!);
      await settled(child.pid);
      const t1 = readThreadsNs(child.pid);
      rows.push({
        doors: n,
        usPerPacket: t0 === undefined || t1 === undefined ? null : (t1 - t0) / 1000 / b.packets,
        ready: readyMem,
        after: readMemoryKiB(child.pid) ?? null,
      });
    } finally {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      const done = await Promise.race([
        child.status.then(() => true),
        sleep(3000).then(() => false),
      ]);
      if (!done) {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
        await child.status;
      }
    }
  }
  return rows;
}

/** Waits until the process gains no CPU for 300 ms (at most 15 s); returns its CPU then. */
async function settled(pid: number): Promise<CpuTicks> {
  const end = Date.now() + 15_000;
  let last = readCpuTicks(pid);
  let stable = 0;
  while (Date.now() < end && stable < 3) {
    await sleep(100);
    const now = readCpuTicks(pid);
    stable = now.utime === last.utime && now.stime === last.stime ? stable + 1 : 0;
    last = now;
  }
  return last;
}
