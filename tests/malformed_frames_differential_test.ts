/**
 * Malformed and unusual frames, knockd 0.8 beside knocktool: Debian's knockd, `knocktool serve
 * --knockd-strict` and `knocktool serve` capture `lo` of one private namespace; each case is a
 * sequence from its own source whose middle knock is the odd frame (the first and last knocks are
 * ordinary), so the door opens exactly when a daemon took the odd frame for the knock.
 *
 * Unusual but well-formed frames (a wrong IPv4 header checksum, a first fragment, Ethernet padding,
 * no or all TCP flags, UDP without payload) are knocks for all three; a non-first fragment is one
 * for none. Frames whose transport header is malformed (TCP data offset below 5 or beyond the
 * packet, a TCP header cut short, an IPv4 total length or a UDP length that disagrees with the
 * packet) are knocks for knockd, which reads ports and flags without checking any length, and are
 * not for knocktool in either mode, which decodes them as errors: the documented difference
 * "Malformed frames" in docs/COMPATIBILITY.md ("Where knocktool deliberately differs by default").
 *
 * A last sequence from a sentinel source is the barrier: each daemon reads the frames in order, so
 * once it has opened for the sentinel it has seen every case. Needs root, `ip` and
 * /usr/sbin/knockd; fails under CI=true when one is missing.
 *
 * @module
 */

import { deepStrictEqual } from "node:assert/strict";
import { canUseNetns, ignoreUnlessCi, Netns, readText, waitUntil } from "../testing/netns.ts";
import type { BgProcess } from "../testing/netns.ts";
import { injectInNetns } from "../testing/inject.ts";
import type { FrameSpec } from "../testing/inject.ts";
import { knocktoolArgv } from "../testing/knocktool_cmd.ts";
import { haveKnockd, KNOCKD } from "../testing/knockd.ts";

const CONFIG = "[A]\n  sequence = 7000,8000,9000\n  seq_timeout = 30\n" +
  "[U]\n  sequence = 7001:udp,8001:udp,9001:udp\n  seq_timeout = 30\n" +
  "[S]\n  sequence = 7100,8100,9100\n  seq_timeout = 30\n  tcpflags = syn\n";

/** The door a case knocks on: its three steps. */
const DOORS = {
  A: { proto: "tcp", ports: [7000, 8000, 9000] },
  U: { proto: "udp", ports: [7001, 8001, 9001] },
  S: { proto: "tcp", ports: [7100, 8100, 9100] },
} as const;

/** One case: the middle knock's changes, and who takes it for a knock. */
interface Case {
  readonly name: string;
  readonly door: keyof typeof DOORS;
  readonly v6?: boolean;
  /** Changes to the middle frame (offsets: Ethernet 0, IP 14, IPv4 transport 34, IPv6 54). */
  readonly mid: Pick<FrameSpec, "patch" | "length" | "flags">;
  readonly knockd: boolean;
  /** knocktool, both modes. */
  readonly knocktool: boolean;
}

const CASES: readonly Case[] = [
  { name: "an ordinary knock", door: "A", mid: {}, knockd: true, knocktool: true },
  {
    name: "a wrong IPv4 header checksum",
    door: "A",
    mid: { patch: [{ at: 24, hex: "dead" }] },
    knockd: true,
    knocktool: true,
  },
  {
    name: "a first fragment (MF set)",
    door: "A",
    mid: { patch: [{ at: 20, hex: "2000" }] },
    knockd: true,
    knocktool: true,
  },
  {
    name: "a non-first fragment whose data looks like the knock",
    door: "A",
    mid: { patch: [{ at: 20, hex: "0001" }] },
    knockd: false,
    knocktool: false,
  },
  {
    name: "20 bytes of Ethernet padding",
    door: "A",
    mid: { length: 74 },
    knockd: true,
    knocktool: true,
  },
  { name: "TCP without flags", door: "A", mid: { flags: 0 }, knockd: true, knocktool: true },
  { name: "TCP with all flags", door: "A", mid: { flags: 0xff }, knockd: true, knocktool: true },
  { name: "UDP without payload", door: "U", mid: {}, knockd: true, knocktool: true },
  {
    name: "TCP data offset 0",
    door: "A",
    mid: { patch: [{ at: 46, hex: "00" }] },
    knockd: true,
    knocktool: false,
  },
  {
    name: "TCP data offset 4",
    door: "A",
    mid: { patch: [{ at: 46, hex: "40" }] },
    knockd: true,
    knocktool: false,
  },
  {
    name: "TCP data offset 15 beyond the packet",
    door: "A",
    mid: { patch: [{ at: 46, hex: "f0" }] },
    knockd: true,
    knocktool: false,
  },
  {
    name: "a TCP header of 4 bytes (IPv4 total length 24)",
    door: "A",
    mid: { patch: [{ at: 16, hex: "0018" }], length: 38 },
    knockd: true,
    knocktool: false,
  },
  {
    name: "IPv4 total length 20, the TCP header after the packet",
    door: "A",
    mid: { patch: [{ at: 16, hex: "0014" }] },
    knockd: true,
    knocktool: false,
  },
  {
    name: "IPv4 total length 100, beyond the frame",
    door: "A",
    mid: { patch: [{ at: 16, hex: "0064" }] },
    knockd: true,
    knocktool: false,
  },
  {
    name: "UDP length 4",
    door: "U",
    mid: { patch: [{ at: 38, hex: "0004" }] },
    knockd: true,
    knocktool: false,
  },
  {
    name: "UDP length 0",
    door: "U",
    mid: { patch: [{ at: 38, hex: "0000" }] },
    knockd: true,
    knocktool: false,
  },
  {
    name: "UDP length 200, beyond the packet",
    door: "U",
    mid: { patch: [{ at: 38, hex: "00c8" }] },
    knockd: true,
    knocktool: false,
  },
  {
    name: "a TCP header of 14 bytes, flags byte included, on a TCPFlags door",
    door: "S",
    mid: { patch: [{ at: 16, hex: "0022" }], length: 48 },
    knockd: true,
    knocktool: false,
  },
  {
    name: "a TCP header of 12 bytes, no flags byte, on a TCPFlags door",
    door: "S",
    mid: { patch: [{ at: 16, hex: "0020" }], length: 46 },
    knockd: false,
    knocktool: false,
  },
  { name: "an ordinary IPv6 knock", door: "A", v6: true, mid: {}, knockd: true, knocktool: true },
  {
    name: "a TCP header of 4 bytes (IPv6 payload length 4)",
    door: "A",
    v6: true,
    mid: { patch: [{ at: 18, hex: "0004" }], length: 58 },
    knockd: true,
    knocktool: false,
  },
  {
    name: "TCP data offset 0 over IPv6",
    door: "A",
    v6: true,
    mid: { patch: [{ at: 66, hex: "00" }] },
    knockd: true,
    knocktool: false,
  },
];

const SENTINEL = "127.0.0.250";

/** The case's source address. */
function source(c: Case, i: number): string {
  return c.v6 ? `2001:db8::${(i + 1).toString(16)}` : `127.0.0.${100 + i}`;
}

/** The three frames of a case: ordinary first and last knocks around the odd middle one. */
function frames(c: Case, i: number): FrameSpec[] {
  const src = source(c, i);
  const dst = c.v6 ? "::1" : "127.0.0.1";
  const { proto, ports } = DOORS[c.door];
  return ports.map((port, k) => ({ src, dst, proto, port, ...(k === 1 ? c.mid : {}) }));
}

type Daemon = "knockd" | "knocktool-strict" | "knocktool";
const DAEMONS: readonly Daemon[] = ["knockd", "knocktool-strict", "knocktool"];

function argv(d: Daemon): string[] {
  const common = ["-i", "lo", "-c", "knockd.conf", "-g", "log"];
  if (d === "knockd") return [KNOCKD, ...common];
  return knocktoolArgv(
    "serve",
    ...common,
    ...(d === "knocktool-strict" ? ["--knockd-strict"] : []),
  );
}

const available = haveKnockd && (await canUseNetns());

Deno.test({
  name: "malformed frames: knockd takes a malformed transport header for a knock, knocktool " +
    "(both modes) does not; unusual well-formed frames are knocks for both",
  ignore: ignoreUnlessCi(available),
  async fn() {
    if (!available) throw new Error("Needs root, ip and /usr/sbin/knockd");
    const ns = await Netns.create("malformed");
    try {
      const procs = new Map<Daemon, { dir: string; p: BgProcess }>();
      for (const d of DAEMONS) {
        const dir = `${ns.dir}/${d}`;
        await Deno.mkdir(dir);
        await Deno.writeTextFile(`${dir}/knockd.conf`, CONFIG);
        procs.set(d, { dir, p: ns.spawn(d, argv(d), { cwd: dir }) });
      }
      const log = (d: Daemon) => readText(`${procs.get(d)!.dir}/log`);
      const context = () => [...procs.values()].map(({ p }) => p.describe()).join("");
      await waitUntil(async () => {
        const filters = await ns.packetFilters();
        return DAEMONS.every((d) =>
          log(d).includes("starting up") &&
          (filters.get(procs.get(d)!.p.pid) ?? []).length > 0
        );
      }, { timeoutMs: 30_000, what: "every daemon to start and install its filter", context });
      const sentinel: FrameSpec[] = DOORS.A.ports.map((port) => ({
        src: SENTINEL,
        dst: "127.0.0.1",
        proto: "tcp",
        port,
      }));
      await injectInNetns(ns.name, {
        iface: "lo",
        gapMs: 20,
        frames: [...CASES.flatMap(frames), ...sentinel],
      });
      await waitUntil(() => DAEMONS.every((d) => log(d).includes(`${SENTINEL}: A: OPEN SESAME`)), {
        timeoutMs: 20_000,
        what: "every daemon to open for the sentinel",
        context,
      });
      for (const d of DAEMONS) deepStrictEqual(procs.get(d)!.p.exited, undefined, context());
      const opened = (d: Daemon) =>
        CASES.map((c, i) => [c.name, log(d).includes(`${source(c, i)}: ${c.door}: OPEN SESAME`)]);
      deepStrictEqual(opened("knockd"), CASES.map((c) => [c.name, c.knockd]), log("knockd"));
      for (const d of ["knocktool-strict", "knocktool"] as const) {
        deepStrictEqual(opened(d), CASES.map((c) => [c.name, c.knocktool]), `${d}:\n${log(d)}`);
      }
    } finally {
      await ns.destroy();
    }
  },
});
