/**
 * src/cluster against real NATS servers (Debian's `nats-server -js`, started here on random
 * loopback ports with temp stores, killed in `finally`): joining, grant fan-out, revocation,
 * replay on (re)join without expired grants, the atomic single-use claim, a partition (server
 * stopped and restarted), a three-server cluster losing one server, and nodes on a leaf node
 * server reaching the hub's buckets through its JetStream domain. docs/CLUSTER.md.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { Fleet, type FleetHandlers } from "../src/cluster/fleet.ts";
import { fleetBuckets, type FleetGrant, grantKey } from "../src/cluster/keys.ts";
import { hasNatsServer, NatsServers } from "../testing/nats.ts";
import { ignoreUnlessCi, waitUntil } from "../testing/netns.ts";
import { connect } from "@nats-io/transport-node";
import { Kvm } from "@nats-io/kv";

const ignore = ignoreUnlessCi(hasNatsServer());

/** A node's handlers that record what the fleet told it. */
class Recorder implements FleetHandlers {
  readonly grants: FleetGrant[] = [];
  readonly revokes: string[] = [];
  readonly lines: string[] = [];
  grant(g: FleetGrant): void {
    this.grants.push(g);
  }
  revoke(door: string, address: string): void {
    this.revokes.push(`${door} ${address}`);
  }
  log(level: "info" | "warning", text: string): void {
    this.lines.push(`${level}: ${text}`);
  }
  count(re: RegExp): number {
    return this.lines.filter((l) => re.test(l)).length;
  }
}

let fleetCounter = 0;

/** Nodes of one fresh fleet on `urls`; all closed by `close`. */
class TestFleet {
  readonly name = `t${Deno.pid}x${++fleetCounter}`;
  readonly nodes: { fleet: Fleet; rec: Recorder }[] = [];
  constructor(readonly urls: string[], readonly domain?: string) {}
  async join(
    node: string,
    readyMs = 10_000,
    servers = this.urls,
  ): Promise<{ fleet: Fleet; rec: Recorder }> {
    const rec = new Recorder();
    const fleet = await Fleet.join(
      { servers, fleet: this.name, node, heartbeatMs: 200, retryMs: 100, domain: this.domain },
      rec,
      readyMs,
    );
    const n = { fleet, rec };
    this.nodes.push(n);
    return n;
  }
  async close(): Promise<void> {
    for (const n of this.nodes) await n.fleet.close(200);
  }
}

const grantsOf = (r: Recorder) => r.grants.map((g) => `${g.door} ${g.address} ${g.origin}`);

Deno.test({
  name: "cluster: a grant on one node reaches the others, a revoke closes it everywhere",
  ignore,
  async fn() {
    const nats = await NatsServers.start(1);
    const tf = new TestFleet(nats.urls);
    try {
      const a = await tf.join("gw-a");
      const b = await tf.join("gw-b");
      ok(a.fleet.connected && b.fleet.connected, a.rec.lines.join("\n"));
      ok(
        a.rec.lines.some((l) =>
          /^info: Joined cluster ".+" as node "gw-a" at "127\.0\.0\.1:\d+": 0 live grants applied$/
            .test(l)
        ),
        a.rec.lines.join("\n"),
      );
      const now = Date.now();
      a.fleet.publishGrant("ssh door", "2001:db8::7", now, now + 60_000);
      await waitUntil(() => b.rec.grants.length === 1, { what: "node b to get the grant" });
      deepStrictEqual(b.rec.grants[0], {
        door: "ssh door",
        address: "2001:db8::7",
        since: now,
        until: now + 60_000,
        origin: "gw-a",
      });
      b.fleet.publishRevoke("ssh door", "2001:db8::7");
      await waitUntil(() => a.rec.revokes.length === 1, { what: "node a to get the revoke" });
      deepStrictEqual(a.rec.revokes, ["ssh door 2001:db8::7"]);
      // Neither node was told about its own change.
      deepStrictEqual(a.rec.grants, []);
      deepStrictEqual(b.rec.revokes, []);
      await waitUntil(async () => (await a.fleet.status()).nodes.length === 2, {
        what: "both nodes in the nodes bucket",
      });
      const st = await a.fleet.status();
      deepStrictEqual(st.nodes.map((n) => n.node), ["gw-a", "gw-b"]);
      strictEqual(st.connected, true);
      strictEqual(st.pending, 0);
      deepStrictEqual(st.grants, []);
    } finally {
      await tf.close();
      await nats.destroy();
    }
  },
});

Deno.test({
  name: "cluster: a node that joins replays live grants only, skipping expired and malformed ones",
  ignore,
  async fn() {
    const nats = await NatsServers.start(1);
    const tf = new TestFleet(nats.urls);
    try {
      const a = await tf.join("gw-a");
      const now = Date.now();
      a.fleet.publishGrant("web", "192.0.2.10", now, now + 60_000);
      a.fleet.publishGrant("web", "192.0.2.11", now, now + 300);
      await waitUntil(() => a.fleet.pending === 0, { what: "a's outbox to drain" });
      // A value no node wrote: wrong shape under a grant key.
      const nc = await connect({ servers: nats.urls });
      try {
        const kv = await new Kvm(nc).open(fleetBuckets(tf.name).grants);
        await kv.put(grantKey("web", "192.0.2.12"), "{not json");
        await kv.put(grantKey("web", "192.0.2.13"), JSON.stringify({ door: "other" }));
      } finally {
        await nc.close();
      }
      await waitUntil(() => Date.now() > now + 300, { what: "the short grant to expire" });
      const c = await tf.join("gw-c");
      deepStrictEqual(grantsOf(c.rec), ["web 192.0.2.10 gw-a"]);
      ok(c.rec.lines.some((l) => /: 1 live grant applied$/.test(l)), c.rec.lines.join("\n"));
      const st = await c.fleet.status();
      deepStrictEqual(st.grants.map((g) => `${g.address} ${g.origin}`), ["192.0.2.10 gw-a"]);
    } finally {
      await tf.close();
      await nats.destroy();
    }
  },
});

Deno.test({
  name: "cluster: a single-use mark is claimed once fleet-wide",
  ignore,
  async fn() {
    const nats = await NatsServers.start(1);
    const tf = new TestFleet(nats.urls);
    try {
      const a = await tf.join("gw-a");
      const c = await tf.join("gw-c");
      strictEqual(await a.fleet.claim("ssh", "7000:tcp,8000:udp"), "claimed");
      strictEqual(await c.fleet.claim("ssh", "7000:tcp,8000:udp"), "used");
      strictEqual(await a.fleet.claim("ssh", "7000:tcp,8000:udp"), "used");
      strictEqual(await c.fleet.claim("ssh", "7001:tcp,8000:udp"), "claimed");
      strictEqual(await c.fleet.claim("web", "7000:tcp,8000:udp"), "claimed");
    } finally {
      await tf.close();
      await nats.destroy();
    }
  },
});

Deno.test({
  name: "cluster: with the server gone a node goes on alone, then sends what it granted meanwhile",
  ignore,
  async fn() {
    const nats = await NatsServers.start(1);
    const tf = new TestFleet(nats.urls);
    try {
      const a = await tf.join("gw-a");
      const b = await tf.join("gw-b");
      await nats.stopServer(0);
      await waitUntil(() => !a.fleet.connected, { what: "node a to see the loss" });
      const now = Date.now();
      a.fleet.publishGrant("ssh", "198.51.100.5", now, now + 60_000);
      a.fleet.publishGrant("ssh", "198.51.100.6", now, now + 60_000);
      strictEqual(a.fleet.pending >= 2, true);
      strictEqual(await a.fleet.claim("ssh", "1,2,3"), "unreachable");
      await nats.startServer(0);
      await waitUntil(() => b.rec.grants.length === 2, {
        what: "node b to get both grants after the server returned",
        timeoutMs: 20_000,
        context: () => a.rec.lines.join("\n"),
      });
      deepStrictEqual(grantsOf(b.rec).sort(), ["ssh 198.51.100.5 gw-a", "ssh 198.51.100.6 gw-a"]);
      // The mark a accepted while cut off was published on reconnect.
      await waitUntil(() => a.fleet.pending === 0, { what: "a's outbox to drain" });
      strictEqual(await b.fleet.claim("ssh", "1,2,3"), "used");
      await waitUntil(() => a.rec.count(/Reconnected/) === 1, { what: "a to log the recovery" });
      strictEqual(
        a.rec.count(
          /^warning: Lost cluster connection to "127\.0\.0\.1:\d+": reconnecting; local knocks go on$/,
        ),
        1,
      );
      ok(
        a.rec.lines.some((l) =>
          /^info: Reconnected to cluster at "127\.0\.0\.1:\d+": sending \d+ pending updates?$/.test(
            l,
          )
        ),
        a.rec.lines.join("\n"),
      );
    } finally {
      await tf.close();
      await nats.destroy();
    }
  },
});

Deno.test({
  name: "cluster: a node started while the cluster is down serves alone and joins when it comes up",
  ignore,
  async fn() {
    const nats = await NatsServers.start(1);
    const tf = new TestFleet(nats.urls);
    try {
      await nats.stopServer(0);
      const a = await tf.join("gw-a", 300);
      strictEqual(a.fleet.connected, false);
      const now = Date.now();
      a.fleet.publishGrant("ssh", "203.0.113.9", now, now + 60_000);
      ok(
        a.rec.lines.some((l) =>
          /^warning: Cannot reach cluster at "nats:\/\/127\.0\.0\.1:\d+": .+: serving local knocks and retrying$/
            .test(l)
        ),
        a.rec.lines.join("\n"),
      );
      await nats.startServer(0);
      await waitUntil(() => a.fleet.connected, { what: "node a to join" });
      const b = await tf.join("gw-b");
      await waitUntil(() => b.rec.grants.length === 1, { what: "node b to get a's grant" });
      deepStrictEqual(grantsOf(b.rec), ["ssh 203.0.113.9 gw-a"]);
      strictEqual(a.rec.count(/Cannot reach cluster/), 1);
    } finally {
      await tf.close();
      await nats.destroy();
    }
  },
});

Deno.test({
  name: "cluster: with one of three NATS servers killed the fleet keeps working",
  ignore,
  async fn() {
    const nats = await NatsServers.start(3);
    const tf = new TestFleet(nats.urls);
    try {
      const [u0, u1, u2] = nats.urls as [string, string, string];
      const a = await tf.join("gw-a", 30_000);
      const b = await tf.join("gw-b", 30_000);
      ok(a.fleet.connected && b.fleet.connected, a.rec.lines.join("\n"));
      const now = Date.now();
      a.fleet.publishGrant("ssh", "192.0.2.1", now, now + 60_000);
      await waitUntil(() => b.rec.grants.length === 1, { what: "b to get the first grant" });
      // Kill the server node a is connected to: a fails over to another.
      const server = (await a.fleet.status()).server;
      const victim = [u0, u1, u2].findIndex((u) => u.endsWith(server));
      ok(victim >= 0, `${server} not in ${nats.urls}`);
      await nats.stopServer(victim, "SIGKILL");
      a.fleet.publishGrant("ssh", "192.0.2.2", now, now + 60_000);
      await waitUntil(() => b.rec.grants.length === 2, {
        what: "b to get the grant made after the kill",
        timeoutMs: 30_000,
        context: () =>
          `a pending ${a.fleet.pending}\n${a.rec.lines.join("\n")}\n${b.rec.lines.join("\n")}`,
      });
      // The used bucket may have lost its RAFT leader with the server: wait (bounded) until a
      // fresh mark can be claimed, then check single use.
      let probe = 0;
      await waitUntil(async () => (await b.fleet.claim("probe", String(++probe))) === "claimed", {
        what: "the used bucket to take claims again",
        timeoutMs: 30_000,
      });
      strictEqual(await b.fleet.claim("ssh", "9,9,9"), "claimed");
      strictEqual(await a.fleet.claim("ssh", "9,9,9"), "used");
      const c = await tf.join("gw-c", 30_000);
      deepStrictEqual(grantsOf(c.rec).sort(), ["ssh 192.0.2.1 gw-a", "ssh 192.0.2.2 gw-a"]);
    } finally {
      await tf.close();
      await nats.destroy();
    }
  },
});

Deno.test({
  name: "cluster: nodes on a leaf node server share the hub's buckets through Cluster_Domain",
  ignore,
  async fn() {
    const nats = await NatsServers.startHubAndLeaf("hub");
    try {
      const [hubUrl, leafUrl] = nats.urls as [string, string];
      // Without the domain a node on the leaf (which has no JetStream of its own) cannot open
      // the buckets: it says so and goes on alone.
      const plain = new TestFleet([leafUrl]);
      try {
        const x = await plain.join("gw-x", 500);
        await waitUntil(
          () =>
            x.rec.count(
              /^warning: Cannot open cluster buckets: jetstream is not enabled: retrying$/,
            ) > 0,
          {
            what: "the node without a domain to fail to open the buckets",
            context: () => x.rec.lines.join("\n"),
          },
        );
        strictEqual(x.fleet.connected, false);
      } finally {
        await plain.close();
      }
      // With Cluster_Domain = hub: a and c on the leaf, b on the hub, one fleet.
      const tf = new TestFleet([leafUrl], "hub");
      try {
        const a = await tf.join("gw-a");
        const b = await tf.join("gw-b", 10_000, [hubUrl]);
        ok(a.fleet.connected && b.fleet.connected, a.rec.lines.join("\n"));
        ok(
          a.rec.lines.some((l) => l.includes(`as node "gw-a" at "${leafUrl.slice(7)}"`)),
          a.rec.lines.join("\n"),
        );
        const now = Date.now();
        a.fleet.publishGrant("ssh", "192.0.2.1", now, now + 60_000);
        await waitUntil(() => b.rec.grants.length === 1, {
          what: "the hub node to get the leaf's grant",
        });
        b.fleet.publishGrant("ssh", "192.0.2.2", now, now + 60_000);
        await waitUntil(() => a.rec.grants.length === 1, {
          what: "the leaf node to get the hub's grant",
        });
        deepStrictEqual([grantsOf(a.rec), grantsOf(b.rec)], [["ssh 192.0.2.2 gw-b"], [
          "ssh 192.0.2.1 gw-a",
        ]]);
        strictEqual(await a.fleet.claim("once", "1,2,3"), "claimed");
        strictEqual(await b.fleet.claim("once", "1,2,3"), "used");
        b.fleet.publishRevoke("ssh", "192.0.2.1");
        await waitUntil(() => a.rec.revokes.length === 1, {
          what: "the leaf node to get the revoke",
        });
        deepStrictEqual(a.rec.revokes, ["ssh 192.0.2.1"]);
        const c = await tf.join("gw-c");
        deepStrictEqual(grantsOf(c.rec), ["ssh 192.0.2.2 gw-b"]);
      } finally {
        await tf.close();
      }
    } finally {
      await nats.destroy();
    }
  },
});

/** A loopback TCP port nothing listens on (bound, then closed). */
function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("cluster: cut off, a node's grant map and outbox stay bounded, its URL's password unlogged", async () => {
  const rec = new Recorder();
  const url = `nats://gw:s3cret-pw@127.0.0.1:${closedPort()}`;
  const fleet = await Fleet.join(
    { servers: [url], fleet: `t${Deno.pid}bounded`, node: "gw-a", retryMs: 100, outboxLimit: 100 },
    rec,
    100,
  );
  try {
    strictEqual(fleet.connected, false);
    // A knock flood from 5,000 sources, each granted for 1 ms, then one grant that stays live.
    const now = Date.now();
    for (let i = 0; i < 5000; i++) {
      fleet.publishGrant("ssh", `198.51.100.${i % 250}:${i}`, now - 10, now + 1);
    }
    await waitUntil(() => Date.now() > now + 1, { what: "the flood's grants to expire" });
    fleet.publishGrant("ssh", "203.0.113.9", Date.now(), Date.now() + 60_000);
    ok(fleet.grantsKept <= 2048, `grants kept: ${fleet.grantsKept}`);
    ok(fleet.pending <= 100, `pending: ${fleet.pending}`);
    deepStrictEqual(fleet.snapshot().grants.map((g) => g.address), ["203.0.113.9"]);
    const port = url.replace(/.*:/, "");
    ok(
      rec.lines.includes(
        `warning: Cannot join cluster "t${Deno.pid}bounded" within 100 ms: serving local knocks and retrying`,
      ),
      rec.lines.join("\n"),
    );
    ok(
      rec.lines.some((l) =>
        l.startsWith(`warning: Cannot reach cluster at "nats://***@127.0.0.1:${port}": `)
      ),
      rec.lines.join("\n"),
    );
    deepStrictEqual(rec.lines.filter((l) => l.includes("outbox")), [
      "warning: Cluster outbox is full (100 updates): dropping the oldest grants first, " +
      "revocations and single-use marks last",
    ]);
    strictEqual(fleet.snapshot().dropped > 4800, true);
    ok(!rec.lines.join("\n").includes("s3cret"), rec.lines.join("\n"));
  } finally {
    await fleet.close(0);
  }
});
