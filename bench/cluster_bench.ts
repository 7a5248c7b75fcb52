/**
 * Grant propagation through the fleet (docs/CLUSTER.md, "Figures"): one Debian `nats-server -js`
 * on a random loopback port, N `Fleet` members in this process (each its own NATS connection),
 * node 1 publishes a grant, and the time until node N's handler receives it (and until every node
 * has it) is measured, one grant at a time, for N = 3 and N = 50.
 *
 * Run: `deno run -A bench/cluster_bench.ts [--grants 200] [--nodes 3,50] [--leaf]`. All members
 * share one event loop here, so the 50-node figure is a simulation: on real gateways each node has
 * its own. `--leaf`: a hub (JetStream in domain `hub`) and a leaf node server without JetStream
 * (docs/CLUSTER.md, "Leaf nodes"); node 1 on the hub, every other node on the leaf with
 * `Cluster_Domain = hub`, so each grant crosses the leaf connection.
 *
 * @module
 */

import { Fleet } from "../src/cluster/fleet.ts";
import { NatsServers } from "../testing/nats.ts";
import { waitUntil } from "../testing/netns.ts";

function arg(name: string, fallback: string): string {
  const i = Deno.args.indexOf(name);
  return i >= 0 && Deno.args[i + 1] !== undefined ? Deno.args[i + 1]! : fallback;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const GRANTS = Number(arg("--grants", "200"));
const SIZES = arg("--nodes", "3,50").split(",").map(Number);
const LEAF = Deno.args.includes("--leaf");

const nats = LEAF ? await NatsServers.startHubAndLeaf("hub") : await NatsServers.start(1);
console.log(
  `cluster bench: ${LEAF ? "node 1 on a hub, the others on a leaf node server" : "one server"}; ` +
    `load average ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")}`,
);
try {
  for (const size of SIZES) {
    const fleetName = `bench${Deno.pid}n${size}`;
    /** Per address: when node 1 published it, when node N got it, how many nodes got it. */
    const sent = new Map<string, number>();
    const lastNode: number[] = [];
    const allNodes: number[] = [];
    const got = new Map<string, number>();
    const members: Fleet[] = [];
    for (let i = 0; i < size; i++) {
      const last = i === size - 1;
      members.push(
        await Fleet.join(
          {
            servers: [nats.urls[LEAF && i > 0 ? 1 : 0]!],
            fleet: fleetName,
            node: `n${i + 1}`,
            heartbeatMs: 60_000,
            ...(LEAF ? { domain: "hub" } : {}),
          },
          {
            grant(g) {
              const t0 = sent.get(g.address);
              if (t0 === undefined) return;
              const now = performance.now();
              if (last) lastNode.push(now - t0);
              const n = (got.get(g.address) ?? 0) + 1;
              got.set(g.address, n);
              if (n === size - 1) allNodes.push(now - t0);
            },
            revoke() {},
            log() {},
          },
          30_000,
        ),
      );
    }
    const first = members[0]!;
    for (let k = 0; k < GRANTS; k++) {
      const address = `198.51.100.${k % 250}`;
      const door = `d${Math.floor(k / 250)}`;
      const key = `${address}`;
      got.delete(key);
      sent.set(key, performance.now());
      const now = Date.now();
      first.publishGrant(door, address, now, now + 60_000);
      await waitUntil(() => got.get(key) === size - 1, {
        what: `grant ${k} to reach all ${size} nodes`,
        intervalMs: 0,
        timeoutMs: 30_000,
      });
    }
    lastNode.sort((a, b) => a - b);
    allNodes.sort((a, b) => a - b);
    const f = (x: number) => x.toFixed(2);
    console.log(
      `nodes ${size}: grants ${GRANTS}: node 1 -> node ${size} p50 ${f(pct(lastNode, 50))} ms, ` +
        `p99 ${f(pct(lastNode, 99))} ms; node 1 -> all ${size - 1} others p50 ${
          f(pct(allNodes, 50))
        } ms, p99 ${f(pct(allNodes, 99))} ms`,
    );
    for (const m of members) await m.close(200);
  }
} finally {
  await nats.destroy();
}
