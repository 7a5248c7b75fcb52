/**
 * Knock seen on node 1 → command run on node 3, with real `knocktool serve` processes
 * (docs/CLUSTER.md, "Figures"). The set-up of `tests/cluster_e2e_test.ts`: a hub namespace runs
 * Debian's `nats-server -js` and sends the knocks; three node namespaces, each joined to the hub by
 * its own veth pair (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24; hub .1, node .2), each run
 * `knocktool serve` sniffing its own veth, in one fleet.
 *
 * `sudo deno run -A bench/cluster_e2e_bench.ts [--knocks 100]`. The outer process builds the
 * namespaces and re-runs itself inside the hub (`--inner`); every namespace and every process in
 * it is removed in `finally` (and after a 5-minute watchdog).
 *
 * Timestamps, all `CLOCK_REALTIME` in nanoseconds on this one machine:
 * - T0: read by the bench (`clock_gettime`) right before it sends the last of the three UDP knocks
 *   to node 1, each knock from its own source address (192.0.2.10, .11, …), so each is a new grant;
 * - node N's command: the door's `Start_Command` is `echo %IP% $(date +%s%N) >> FILE` on every node,
 *   so node 1's line is the local path (capture, match, grant, spawn) and node 3's line is the
 *   local path to publishing + NATS + node 3's watch + node 3's spawn.
 *
 * Phase 1, 3 nodes: knocks one at a time, each waiting until all three nodes ran the command.
 * Phase 2, 50 nodes: nodes 2 and 3 are stopped; node 1 stays a real serve process; 49 simulated
 * nodes (`Fleet` members in this process, each with its own NATS connection, their grant handler
 * reading the clock) join the fleet; knock on node 1 → handler called on each of the 49.
 *
 * @module
 */

import { createSocket, type Socket } from "node:dgram";
import { Fleet } from "../src/cluster/fleet.ts";
import { RealtimeClock } from "./_clock.ts";
import { hasNatsServer, NATS_SERVER } from "../testing/nats.ts";
import {
  type BgProcess,
  readText,
  spawnBg,
  uniqueIfName,
  vethPair,
  waitUntil,
  withNetns,
} from "../testing/netns.ts";

const DENO_CONFIG = new URL("../deno.json", import.meta.url).pathname;
const MAIN = new URL("../main.ts", import.meta.url).pathname;
const DENO = [Deno.execPath(), "run", "-A", "--config", DENO_CONFIG];
const NETS = ["192.0.2", "198.51.100", "203.0.113"] as const;
const WARMUP = 5;
const FIRST_SOURCE = 10;

/** What the outer process hands the inner one. */
interface Plan {
  readonly knocks: number;
  readonly hubDir: string;
  readonly nodes: { ns: string; ifName: string; addr: string; dir: string }[];
}

function arg(name: string, fallback: number): number {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
}

function pct(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function line(what: string, ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const f = (x: number) => x.toFixed(2);
  return `  ${what.padEnd(44)} p50 ${f(pct(s, 50)).padStart(7)} ms  p99 ${
    f(pct(s, 99)).padStart(7)
  } ms  max ${f(s[s.length - 1]!).padStart(7)} ms`;
}

function config(i: number, dir: string, hub: string): string {
  const door = (name: string, ports: string) =>
    `[${name}]
  Sequence = ${ports}
  Seq_Timeout = 5
  Start_Command = echo %IP% $(date +%s%N) >> ${dir}/${name}.txt
  Cmd_Timeout = 600
`;
  return `[options]
  State_Dir = ${dir}/state
  Cluster = nats://${hub}:4222
  Cluster_Name = bench
  Cluster_Node = node${i + 1}
${door("a", "7000:udp,8000:udp,9000:udp")}${door("b", "7100:udp,8100:udp,9100:udp")}`;
}

/** Source address of knock k (warm-up knocks come after the measured ones). */
const source = (k: number) => `192.0.2.${FIRST_SOURCE + k}`;

async function outer(): Promise<void> {
  const knocks = arg("--knocks", 100);
  if (!(knocks >= 1 && knocks + WARMUP <= 240)) throw new Error("Use --knocks between 1 and 235");
  if (!hasNatsServer()) throw new Error(`Cannot run the bench: "${NATS_SERVER}" is missing`);
  await withNetns(["cbh", "cb1", "cb2", "cb3"], async ([hub, ...nss]) => {
    const nodes: Plan["nodes"] = [];
    let hubSide = "";
    for (const [i, ns] of nss.entries()) {
      const ifName = uniqueIfName(`n${i}`);
      const h = uniqueIfName(`h${i}`);
      if (i === 0) hubSide = h;
      await vethPair(hub!, ns, {
        nameA: h,
        nameB: ifName,
        addrsA: [`${NETS[i]}.1/24`],
        addrsB: [`${NETS[i]}.2/24`],
      });
      nodes.push({ ns: ns.name, ifName, addr: `${NETS[i]}.2`, dir: ns.dir });
    }
    const batch = Array.from(
      { length: knocks + WARMUP },
      (_, k) => `addr add ${source(k)}/32 dev ${hubSide}\n`,
    ).join("");
    await hub!.exec(["ip", "-batch", "-"], { stdin: batch });
    const plan: Plan = { knocks, hubDir: hub!.dir, nodes };
    const child = new Deno.Command("ip", {
      args: [
        ...["netns", "exec", hub!.name, ...DENO, import.meta.filename!],
        ...["--inner", JSON.stringify(plan)],
      ],
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    const watchdog = setTimeout(() => child.kill("SIGKILL"), 300_000);
    try {
      const s = await child.status;
      if (!s.success) throw new Error(`Cannot run the inner bench: exit status ${s.code}`);
    } finally {
      clearTimeout(watchdog);
    }
  });
}

/** Lines `ADDRESS NANOSECONDS` a door's command appended on one node, by address. */
function commandTimes(dir: string, door: string): Map<string, bigint> {
  const m = new Map<string, bigint>();
  for (const l of readText(`${dir}/${door}.txt`).split("\n")) {
    const [a, t] = l.split(" ");
    if (a !== undefined && t !== undefined && /^\d+$/.test(t)) m.set(a, BigInt(t));
  }
  return m;
}

const ms = (a: bigint, b: bigint) => Number(a - b) / 1e6;

async function inner(plan: Plan): Promise<void> {
  using clock = new RealtimeClock();
  const procs: BgProcess[] = [];
  const fleets: Fleet[] = [];
  const socks = new Map<string, Socket>();
  const context = () =>
    procs.map((p) => `${p.describe()}`).join("\n") +
    plan.nodes.map((n) => `--- ${n.ns}:\n${readText(`${n.dir}/knocktool.log`)}`).join("\n");
  /** Sends door `base`'s three knocks to node 1 from `src`; returns T0 (before the last). */
  const knock = async (src: string, base: number): Promise<bigint> => {
    let s = socks.get(src);
    if (s === undefined) {
      const made = createSocket("udp4");
      await new Promise<void>((resolve) => made.bind({ address: src, port: 0 }, resolve));
      socks.set(src, made);
      s = made;
    }
    const sock = s;
    const send = (port: number) =>
      new Promise<void>((resolve, reject) =>
        sock.send(new Uint8Array(1), port, `${NETS[0]}.2`, (e) => (e ? reject(e) : resolve()))
      );
    await send(base);
    await send(base + 1000);
    const t0 = clock.nowNs();
    await send(base + 2000);
    return t0;
  };
  try {
    const nats = spawnBg(plan.hubDir, "nats", [
      ...[NATS_SERVER, "-js", "-a", "0.0.0.0", "-p", "4222", "-sd", `${plan.hubDir}/store`],
    ]);
    procs.push(nats);
    await waitUntil(() => nats.exited !== undefined || /Server is ready/.test(nats.stderr()), {
      what: "nats-server to be ready",
      timeoutMs: 15_000,
    });
    if (nats.exited !== undefined) throw new Error(`Cannot start nats-server:\n${nats.describe()}`);
    const serves: BgProcess[] = [];
    for (const [i, n] of plan.nodes.entries()) {
      await Deno.writeTextFile(`${n.dir}/knockd.conf`, config(i, n.dir, `${NETS[i]}.1`));
      const p = spawnBg(n.dir, "serve", [
        ...["ip", "netns", "exec", n.ns, ...DENO, MAIN, "serve", "-i", n.ifName],
        ...["-c", `${n.dir}/knockd.conf`, "-g", `${n.dir}/knocktool.log`],
      ], { cwd: n.dir });
      procs.push(p);
      serves.push(p);
    }
    for (const [i, n] of plan.nodes.entries()) {
      await waitUntil(
        () =>
          serves[i]!.exited !== undefined ||
          /Joined cluster "bench"/.test(readText(`${n.dir}/knocktool.log`)) &&
            readText(`${n.dir}/knocktool.log`).includes("starting up"),
        { what: `${n.ns} to join and start`, timeoutMs: 60_000, context },
      );
      if (serves[i]!.exited !== undefined) throw new Error(`Cannot start serve:\n${context()}`);
    }
    const load = () => Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
    console.log(
      `cluster e2e bench: ${plan.knocks} knocks per phase, nats-server 2.9.10 in the hub`,
    );

    // Phase 1: three serve processes.
    const local: number[] = [], node2: number[] = [], node3: number[] = [], hop: number[] = [];
    const load1 = load();
    for (let k = 0; k < plan.knocks + WARMUP; k++) {
      const src = source(k < WARMUP ? plan.knocks + k : k - WARMUP);
      const t0 = await knock(src, 7000);
      let times: (bigint | undefined)[] = [];
      await waitUntil(() => {
        times = plan.nodes.map((n) => commandTimes(n.dir, "a").get(src));
        return times.every((t) => t !== undefined);
      }, { what: `knock from ${src} to open door a on every node`, timeoutMs: 10_000, context });
      if (k < WARMUP) continue;
      const [t1, t2, t3] = times as [bigint, bigint, bigint];
      local.push(ms(t1, t0));
      node2.push(ms(t2, t0));
      node3.push(ms(t3, t0));
      hop.push(ms(t3, t1));
    }
    console.log(`3 nodes (3 serve processes; load average before ${load1}, after ${load()}):`);
    console.log(line("knock -> command on node 1 (local)", local));
    console.log(line("knock -> command on node 2", node2));
    console.log(line("knock -> command on node 3", node3));
    console.log(line("command on node 1 -> command on node 3", hop));

    // Phase 2: node 1 real, 49 simulated.
    for (const p of serves.slice(1)) await p.stop();
    const got = new Map<string, bigint[]>();
    const sim50: Map<string, bigint> = new Map();
    for (let i = 2; i <= 50; i++) {
      const last = i === 50;
      fleets.push(
        await Fleet.join(
          {
            servers: ["nats://127.0.0.1:4222"],
            fleet: "bench",
            node: `sim${i}`,
            heartbeatMs: 60_000,
          },
          {
            grant(g) {
              if (g.door !== "b") return;
              const now = clock.nowNs();
              const list = got.get(g.address) ?? [];
              list.push(now);
              got.set(g.address, list);
              if (last) sim50.set(g.address, now);
            },
            revoke() {},
            log() {},
          },
          30_000,
        ),
      );
    }
    const n1 = plan.nodes[0]!;
    const local2: number[] = [], far: number[] = [], one: number[] = [], median: number[] = [];
    const load2 = load();
    for (let k = 0; k < plan.knocks + WARMUP; k++) {
      const src = source(k < WARMUP ? plan.knocks + k : k - WARMUP);
      const t0 = await knock(src, 7100);
      await waitUntil(
        () => (got.get(src)?.length ?? 0) === 49 && commandTimes(n1.dir, "b").has(src),
        { what: `knock from ${src} to reach all 49 simulated nodes`, timeoutMs: 10_000, context },
      );
      if (k < WARMUP) continue;
      const list = [...got.get(src)!].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      local2.push(ms(commandTimes(n1.dir, "b").get(src)!, t0));
      one.push(ms(sim50.get(src)!, t0));
      median.push(ms(list[24]!, t0));
      far.push(ms(list[48]!, t0));
    }
    console.log(
      `50 nodes (node 1 serve + 49 simulated; load average before ${load2}, after ${load()}):`,
    );
    console.log(line("knock -> command on node 1 (local)", local2));
    console.log(line("knock -> grant handler on node 50", one));
    console.log(line("knock -> 25th of 49 simulated nodes", median));
    console.log(line("knock -> all 49 simulated nodes", far));
  } finally {
    for (const f of fleets) await f.close(200);
    for (const s of socks.values()) s.close();
    for (const p of procs.reverse()) await p.stop();
  }
}

if (Deno.args[0] === "--inner") {
  await inner(JSON.parse(Deno.args[1]!) as Plan);
} else {
  if (Deno.uid() !== 0) throw new Error("Run the bench as root: it creates network namespaces");
  await outer();
}
