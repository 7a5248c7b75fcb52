/**
 * Cluster mode end to end (docs/CLUSTER.md): a hub namespace runs Debian's `nats-server -js` and
 * knocks; three node namespaces, each joined to the hub by its own veth pair (node 1 on
 * 192.0.2.0/24, node 2 on 198.51.100.0/24, node 3 on 203.0.113.0/24; hub .1, node .2), each run
 * `knocktool serve` sniffing its own veth, in one fleet. Doors run commands that append to a file
 * per node, so each node's start and stop commands can be read.
 *
 * The second test runs a three-server NATS cluster in the hub (R3 buckets) instead, and every node
 * lists all three servers in `Cluster` (as a real fleet would: the client picks one and fails over
 * to the others), then kills the server node 1 is connected to.
 *
 * Needs root, `ip` and nats-server.
 *
 * @module
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import {
  type BgProcess,
  canUseNetns,
  ignoreUnlessCi,
  type Netns,
  readText,
  run,
  type RunResult,
  uniqueIfName,
  vethPair,
  waitUntil,
  withNetns,
} from "../testing/netns.ts";
import { hasNatsServer, NATS_SERVER, NatsServers } from "../testing/nats.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const DENO_CONFIG = new URL("../deno.json", import.meta.url).pathname;
const DENO = [Deno.execPath(), "run", "-A", "--config", DENO_CONFIG, MAIN];
const NETS = ["192.0.2", "198.51.100", "203.0.113"] as const;
const HUB1 = "192.0.2.1"; // the hub's address towards node 1: the knocker in every grant here

interface Node {
  readonly ns: Netns;
  readonly ifName: string;
  readonly addr: string;
  readonly conf: string;
  readonly log: string;
  readonly cmds: string;
  readonly sock: string;
  proc: BgProcess | undefined;
  starts: number;
}

function config(i: number, dir: string, cluster: string, cmds: string): string {
  return `[options]
  State_Dir = ${dir}/state
  Cluster = ${cluster}
  Cluster_Name = e2e
  Cluster_Node = node${i + 1}
[long]
  Sequence = 7000,8000,9000
  Seq_Timeout = 5
  TCPFlags = syn
  Start_Command = echo open long %IP% >> ${cmds}
  Stop_Command = echo close long %IP% >> ${cmds}
  Cmd_Timeout = 600
[short]
  Sequence = 7100,8100,9100
  Seq_Timeout = 5
  TCPFlags = syn
  Start_Command = echo open short %IP% >> ${cmds}
  Stop_Command = echo close short %IP% >> ${cmds}
  Cmd_Timeout = 2
[mid]
  Sequence = 7200,8200,9200
  Seq_Timeout = 5
  TCPFlags = syn
  Start_Command = echo open mid %IP% >> ${cmds}
  Stop_Command = echo close mid %IP% >> ${cmds}
  Cmd_Timeout = 60
[once]
  One_Time_Sequences = ${dir}/once.txt
  Seq_Timeout = 5
  TCPFlags = syn
  Start_Command = echo open once %IP% >> ${cmds}
  Cmd_Timeout = 600
`;
}

const lines = (n: Node) => readText(n.cmds).split("\n").filter((l) => l !== "");
const has = (n: Node, line: string) => lines(n).includes(line);

/** The three nodes joined to the hub, and what a test does with them. */
interface Harness {
  readonly nodes: [Node, Node, Node];
  /** Every node's process, log and commands, for failure messages. */
  context(): string;
  /** Starts (or restarts) `serve` on a node and waits for "starting up". */
  start(n: Node): Promise<void>;
  /** Sends `knocktool knock` from the hub to a node. */
  knock(n: Node, ports: string[]): Promise<void>;
  /** Runs a knocktool subcommand against a node's control socket. */
  kt(n: Node, args: string[]): Promise<RunResult>;
  /** Waits (bounded) until `cond` holds. */
  wait(what: string, cond: () => boolean, timeoutMs?: number): Promise<void>;
}

/**
 * Joins three node namespaces to the hub by veth pairs and writes each node's config; node i's
 * `Cluster` is `cluster(i)` (the hub's address towards node i is `${NETS[i]}.1`).
 */
async function harness(hub: Netns, nss: Netns[], cluster: (i: number) => string): Promise<Harness> {
  const nodes: Node[] = [];
  for (const [i, ns] of nss.entries()) {
    const ifName = uniqueIfName(`n${i}`);
    await vethPair(hub, ns, {
      nameA: uniqueIfName(`h${i}`),
      nameB: ifName,
      addrsA: [`${NETS[i]}.1/24`],
      addrsB: [`${NETS[i]}.2/24`],
    });
    const cmds = `${ns.dir}/commands.txt`;
    const conf = `${ns.dir}/knockd.conf`;
    await Deno.writeTextFile(conf, config(i, ns.dir, cluster(i), cmds));
    await Deno.writeTextFile(`${ns.dir}/once.txt`, "7300,8300,9300\n7400,8400,9400\n");
    nodes.push({
      ns,
      ifName,
      addr: `${NETS[i]}.2`,
      conf,
      log: `${ns.dir}/knocktool.log`,
      cmds,
      sock: `${ns.dir}/control.sock`,
      proc: undefined,
      starts: 0,
    });
  }
  const context = () =>
    nodes.map((n) =>
      `${n.proc?.describe() ?? ""}--- log ${n.ns.name}:\n${readText(n.log)}` +
      `--- commands:\n${readText(n.cmds)}`
    ).join("\n");
  return {
    nodes: nodes as [Node, Node, Node],
    context,
    async start(n) {
      const before = readText(n.log).split("starting up").length;
      n.proc = n.ns.spawn(`serve${++n.starts}`, [
        ...DENO,
        "serve",
        "-i",
        n.ifName,
        "-c",
        n.conf,
        "-g",
        n.log,
        "--control",
        n.sock,
      ], { cwd: n.ns.dir });
      await waitUntil(
        () => readText(n.log).split("starting up").length > before || n.proc!.exited !== undefined,
        { timeoutMs: 30_000, what: `${n.ns.name} to log "starting up"`, context },
      );
      ok(n.proc.exited === undefined, context());
    },
    async knock(n, ports) {
      const r = await hub.exec([...DENO, "knock", n.addr, ...ports], { check: false });
      strictEqual(r.code, 0, r.stderr);
    },
    kt: async (n, args) => await run([...DENO, ...args, "--control", n.sock], { check: false }),
    wait: (what, cond, timeoutMs = 20_000) => waitUntil(cond, { what, timeoutMs, context }),
  };
}

Deno.test({
  name: "cluster e2e: three nodes share grants, revocations, restarts and a NATS outage",
  ignore: ignoreUnlessCi(hasNatsServer() && await canUseNetns()),
  async fn() {
    await withNetns(["clh", "cl1", "cl2", "cl3"], async ([hub, ...nss]) => {
      const h = await harness(hub!, nss, (i) => `nats://${NETS[i]}.1:4222`);
      const { nodes, context, start, knock, kt, wait } = h;
      let natsStarts = 0;
      let nats: BgProcess | undefined;
      const startNats = async () => {
        const p = hub!.spawn(`nats${++natsStarts}`, [
          NATS_SERVER,
          "-js",
          "-a",
          "0.0.0.0",
          "-p",
          "4222",
          "-sd",
          `${hub!.dir}/store`,
        ]);
        nats = p;
        await waitUntil(() => p.exited !== undefined || /Server is ready/.test(p.stderr()), {
          what: "nats-server to be ready",
          timeoutMs: 15_000,
        });
        ok(p.exited === undefined, p.describe());
      };
      try {
        await startNats();
        for (const n of nodes) await start(n);
        const [n1, n2, n3] = nodes;
        await wait(
          "every node to join",
          () => nodes.every((n) => /Joined cluster "e2e" as node "node\d"/.test(readText(n.log))),
        );

        // A knock on node 1 opens the door on nodes 2 and 3.
        await knock(n1, ["7000", "8000", "9000"]);
        await wait(
          "the door to open on every node",
          () => nodes.every((n) => has(n, `open long ${HUB1}`)),
        );
        ok(readText(n2.log).includes(`${HUB1}: long: OPEN SESAME (granted by node "node1" for `));
        const st = JSON.parse((await kt(n3, ["status", "--json"])).stdout) as {
          grants: { door: string; address: string; via: string }[];
          cluster: { node: string; connected: boolean; grants: { origin: string }[] };
        };
        deepStrictEqual(st.grants.map((g) => `${g.door} ${g.address} ${g.via}`), [
          `long ${HUB1} fleet`,
        ]);
        deepStrictEqual(
          [st.cluster.node, st.cluster.connected, st.cluster.grants.map((g) => g.origin)],
          ["node3", true, ["node1"]],
        );

        const text = (await kt(n3, ["status"])).stdout;
        ok(
          new RegExp(
            `\\nCluster "e2e", node "node3": connected to "203\\.0\\.113\\.1:4222", \\d+ updates? pending\\n` +
              `(  node node\\d  last heard \\d+ s ago\\n)*  grant long  192\\.0\\.2\\.1  from node1, \\d+ s left\\n$`,
          ).test(text),
          text,
        );

        // revoke on node 3 closes it on all.
        const rv = await kt(n3, ["revoke", HUB1]);
        strictEqual(rv.code, 0, rv.stderr);
        await wait(
          "the door to close on every node",
          () => nodes.every((n) => has(n, `close long ${HUB1}`)),
        );

        // A grant node 2 holds (in its state file) is revoked while node 2 is dead: on restart it
        // restores the grant, then the replay's revocation closes it.
        const gone = "198.51.100.77";
        const g = await kt(n1, ["grant", gone, "--door", "long", "--for", "600"]);
        strictEqual(g.code, 0, g.stderr);
        await wait("node 2 to open the hand-made grant", () => has(n2, `open long ${gone}`));

        // kill -9 node 2; meanwhile a long and a short grant are made on node 1; the short one
        // expires before node 2 is back. On restart node 2 applies the long one only.
        n2.proc!.kill("SIGKILL");
        await n2.proc!.status;
        const rg = await kt(n3, ["revoke", gone]);
        strictEqual(rg.code, 0, rg.stderr);
        await wait(
          "nodes 1 and 3 to close the revoked grant",
          () => has(n1, `close long ${gone}`) && has(n3, `close long ${gone}`),
        );
        await knock(n1, ["7000", "8000", "9000"]);
        await knock(n1, ["7100", "8100", "9100"]);
        await wait(
          "node 3 to open both",
          () => has(n3, `open long ${HUB1}`) && has(n3, `open short ${HUB1}`),
        );
        await wait("the short grant to close on node 3", () => has(n3, `close short ${HUB1}`));
        await start(n2);
        await wait(
          "node 2 to re-apply the live grant",
          () => lines(n2).filter((l) => l === `open long ${HUB1}`).length === 2,
        );
        strictEqual(has(n2, `open short ${HUB1}`), false, context());
        ok(/: 1 live grant applied/.test(readText(n2.log)), context());
        await wait(
          "node 2 to close the grant revoked while it was dead",
          () => has(n2, `close long ${gone}`),
        );
        strictEqual(lines(n2).filter((l) => l === `open long ${gone}`).length, 1, context());

        // A one-time sequence used on node 1 is refused on node 3 (every node has the same file).
        await knock(n1, ["7300", "8300", "9300"]);
        await wait("node 1 to open the one-time door", () => has(n1, `open once ${HUB1}`));
        await knock(n3, ["7300", "8300", "9300"]);
        await wait("node 3 to refuse the used sequence", () =>
          readText(n3.log).includes(
            "203.0.113.1: once: sequence already used on another node: refused",
          ));
        strictEqual(has(n3, "open once 203.0.113.1"), false, context());
        // Node 3 moved on to the next sequence, which nobody used yet.
        await knock(n3, ["7400", "8400", "9400"]);
        await wait("node 3 to open with the next sequence", () => has(n3, "open once 203.0.113.1"));

        // NATS stopped: a knock on node 1 still opens node 1; after NATS returns, 2 and 3 get it.
        await nats!.stop("SIGTERM");
        await wait(
          "node 1 to see the loss",
          () => /Lost cluster connection/.test(readText(n1.log)),
        );
        await knock(n1, ["7200", "8200", "9200"]);
        await wait("node 1 to open while partitioned", () => has(n1, `open mid ${HUB1}`));
        strictEqual(has(n3, `open mid ${HUB1}`), false);
        await startNats();
        await wait(
          "nodes 2 and 3 to get the grant made while partitioned",
          () => has(n2, `open mid ${HUB1}`) && has(n3, `open mid ${HUB1}`),
        );
        strictEqual(readText(n1.log).split("Lost cluster connection").length, 2, context());
      } finally {
        for (const n of nodes) await n.proc?.stop();
        await nats?.stop("SIGKILL");
      }
    });
  },
});

/** Replica counts of the fleet's buckets, as one NATS server's monitoring port reports them. */
async function bucketReplicas(hub: Netns, monitorPort: number): Promise<string[]> {
  const url = `http://127.0.0.1:${monitorPort}/jsz?accounts=true&streams=true&config=true`;
  const r = await hub.exec(["curl", "-sf", url]);
  const jsz = JSON.parse(r.stdout) as {
    account_details?: { stream_detail?: { name: string; config: { num_replicas: number } }[] }[];
  };
  return (jsz.account_details ?? []).flatMap((a) => a.stream_detail ?? [])
    .map((s) => `${s.name} R${s.config.num_replicas}`).sort();
}

Deno.test({
  name: "cluster e2e: with the NATS server node 1 is connected to killed, the fleet keeps working",
  ignore: ignoreUnlessCi(hasNatsServer() && await canUseNetns()),
  async fn() {
    await withNetns(["cfh", "cf1", "cf2", "cf3"], async ([hub, ...nss]) => {
      // Three servers in the hub; node i lists all three at the hub's address towards it.
      const nats = await NatsServers.start(3, { netns: hub! });
      try {
        const urls = (i: number) => nats.ports.map((p) => `nats://${NETS[i]}.1:${p}`).join(", ");
        const { nodes, context, start, knock, kt, wait } = await harness(hub!, nss, urls);
        const [n1, n2] = nodes;
        try {
          for (const n of nodes) await start(n);
          await wait(
            "every node to join",
            () => nodes.every((n) => /Joined cluster "e2e" as node "node\d"/.test(readText(n.log))),
          );
          // The buckets are replicated on all three servers.
          deepStrictEqual(await bucketReplicas(hub!, nats.monitorPorts[0]!), [
            "KV_knocktool_e2e_grants R3",
            "KV_knocktool_e2e_nodes R3",
            "KV_knocktool_e2e_used R3",
          ]);

          // Kill (SIGKILL) the server node 1 is connected to.
          const st = JSON.parse((await kt(n1, ["status", "--json"])).stdout) as {
            cluster: { server: string };
          };
          const victim = nats.ports.findIndex((p) => st.cluster.server === `${NETS[0]}.1:${p}`);
          ok(victim >= 0, `node 1 is connected to "${st.cluster.server}"`);
          await nats.stopServer(victim, "SIGKILL");

          // A knock on node 1 still opens the door on nodes 2 and 3.
          await knock(n1, ["7000", "8000", "9000"]);
          await wait(
            "the door to open on every node after the kill",
            () => nodes.every((n) => has(n, `open long ${HUB1}`)),
            45_000,
          );
          ok(/Reconnected to cluster at "192\.0\.2\.1:\d+"/.test(readText(n1.log)), context());

          // revoke on node 2 closes it on every node.
          const rv = await kt(n2, ["revoke", HUB1]);
          strictEqual(rv.code, 0, rv.stderr);
          await wait(
            "the door to close on every node",
            () => nodes.every((n) => has(n, `close long ${HUB1}`)),
            45_000,
          );
          // The killed server comes back and catches up.
          await nats.startServer(victim);
        } finally {
          for (const n of nodes) await n.proc?.stop();
        }
      } finally {
        await nats.destroy();
      }
    });
  },
});
