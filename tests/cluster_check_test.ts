/**
 * Cluster mode's configuration (docs/CLUSTER.md): the `[options]` directives, what `check` shows,
 * `check --probe` against a real `nats-server -js` (started here) and against nothing, and the
 * rule that nothing NATS-related is loaded unless asked (only dynamic imports lead to
 * src/cluster/).
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { captureIo } from "../src/util/io.ts";
import { runCheck } from "../src/cli/check.ts";
import { Fleet } from "../src/cluster/fleet.ts";
import { hasNatsServer, NatsServers } from "../testing/nats.ts";
import { ignoreUnlessCi } from "../testing/netns.ts";

/** The installed nats-server's version, as its `--version` prints it (`2.9.10`). */
function serverVersion(): string {
  const out = new Deno.Command("/usr/sbin/nats-server", { args: ["--version"], stdout: "piped" })
    .outputSync();
  return new TextDecoder().decode(out.stdout).trim().replace(/^nats-server: v/, "");
}

const LO = { v4: ["127.0.0.1"], v6: ["::1"] };

async function withConf<T>(text: string, f: (path: string) => Promise<T>): Promise<T> {
  const path = await Deno.makeTempFile({ suffix: ".conf" });
  try {
    await Deno.writeTextFile(path, text);
    return await f(path);
  } finally {
    await Deno.remove(path);
  }
}

const DOOR = "[ssh]\n  Sequence = 8000,7000\n  Command = true\n";

async function check(text: string, probe = false) {
  return await withConf(text, async (config) => {
    const io = captureIo();
    const status = await runCheck({ cmd: "check", config, iface: "lo", probe }, io, {
      addresses: () => LO,
    });
    return { status, out: io.out, err: io.err };
  });
}

Deno.test("cluster config: check shows the settings and marks the file not loadable by knockd", async () => {
  const r = await check(
    "[options]\n  Cluster = nats://127.0.0.1:4222, tls://[2001:db8::1]:4443\n  Cluster_Name = edge-eu\n" +
      "  Cluster_Creds = /etc/knocktool/nats.creds\n" + DOOR,
  );
  strictEqual(r.status, 0, r.err);
  ok(
    r.out.includes(
      '\nNot loadable by knockd 0.8: uses the knocktool extensions "Cluster" (line 2), "Cluster_Name" (line 3), "Cluster_Creds" (line 4)\n',
    ),
    r.out,
  );
  ok(
    r.out.includes(
      "\n  Cluster        nats://127.0.0.1:4222, tls://[2001:db8::1]:4443\n  Cluster_Name   edge-eu\n" +
        `  Cluster_Node   ${Deno.hostname()} (the host name)\n  Cluster_Creds  /etc/knocktool/nats.creds\n` +
        "  Cluster_CA     (none)\n  Cluster_Domain (none)\n",
    ),
    r.out,
  );
  const plain = await check(DOOR);
  ok(!plain.out.includes("Cluster"), plain.out);
});

Deno.test("cluster config: check and --probe never show a password written in a Cluster URL", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const conf =
    `[options]\n  Cluster = nats://gw:s3cret@127.0.0.1:${port}, tls://tok3n@gw2\n${DOOR}`;
  const r = await check(conf);
  strictEqual(r.status, 0, r.err);
  ok(r.out.includes(`\n  Cluster        nats://***@127.0.0.1:${port}, tls://***@gw2\n`), r.out);
  const p = await check(conf, true);
  strictEqual(p.status, 1);
  ok(
    p.err.startsWith(`Cannot probe cluster at "nats://***@127.0.0.1:${port}, tls://***@gw2": `),
    p.err,
  );
  const bad = await check(`[options]\n  Cluster = http://gw:s3cret@192.0.2.1\n${DOOR}`);
  deepStrictEqual([bad.status, bad.err], [
    1,
    'Cannot parse "Cluster" at line 2: "http://***@192.0.2.1" is not a nats:// or tls:// URL\n',
  ]);
  for (const text of [r.out, r.err, p.out, p.err]) ok(!/s3cret|tok3n/.test(text), text);
});

Deno.test("cluster config: bad values are refused with the line", async () => {
  const cases: [string, string][] = [
    [
      "  Cluster = http://192.0.2.1:4222",
      'Cannot parse "Cluster" at line 2: "http://192.0.2.1:4222" is not a nats:// or tls:// URL',
    ],
    ["  Cluster = ,", 'Cannot parse "Cluster" at line 2: needs at least one nats://HOST:PORT URL'],
    [
      "  Cluster_Name = edge.eu",
      'Cannot parse "Cluster_Name" at line 2: "edge.eu" must be 1 to 64 of the characters A-Z a-z 0-9 _ -',
    ],
    ["  Cluster_CA =", 'Cannot parse "Cluster_CA" at line 2: needs a file'],
    [
      "  Cluster_Domain = hub.eu",
      'Cannot parse "Cluster_Domain" at line 2: "hub.eu" must be 1 to 64 of the characters A-Z a-z 0-9 _ -',
    ],
  ];
  for (const [line, message] of cases) {
    const r = await check(`[options]\n${line}\n${DOOR}`);
    deepStrictEqual([r.status, r.err], [1, `${message}\n`], line);
  }
});

Deno.test("cluster config: --probe without Cluster says so", async () => {
  const r = await check(DOOR, true);
  deepStrictEqual([r.status, r.err], [
    1,
    'Cannot probe the cluster: the config sets no "Cluster"\n',
  ]);
});

Deno.test({
  name: "cluster config: --probe reports the server, the buckets and the nodes, or the failure",
  ignore: ignoreUnlessCi(hasNatsServer()),
  async fn() {
    const nats = await NatsServers.start(1);
    const fleet = `p${Deno.pid}`;
    const conf = `[options]\n  Cluster = ${nats.urls[0]}\n  Cluster_Name = ${fleet}\n${DOOR}`;
    let node: Fleet | undefined;
    try {
      const before = await check(conf, true);
      strictEqual(before.status, 0, before.err);
      const port = nats.urls[0]!.split(":")[2];
      ok(
        before.out.endsWith(
          `\nCluster probe: connected to "127.0.0.1:${port}" (nats-server ${serverVersion()}), JetStream on\n` +
            `  Bucket knocktool_${fleet}_grants`.padEnd(41) + " (not created yet)\n" +
            `  Bucket knocktool_${fleet}_used`.padEnd(41) + " (not created yet)\n" +
            `  Bucket knocktool_${fleet}_nodes`.padEnd(41) + " (not created yet)\n",
        ),
        before.out,
      );
      const quiet = { grant() {}, revoke() {}, log() {} };
      node = await Fleet.join({ servers: nats.urls, fleet, node: "gw-a" }, quiet);
      node.publishGrant("ssh", "192.0.2.1", Date.now(), Date.now() + 60_000);
      await node.close();
      node = undefined;
      const after = await check(conf, true);
      strictEqual(after.status, 0, after.err);
      ok(/\n {2}Bucket knocktool_\w+_grants +1 key\n/.test(after.out), after.out);
      ok(/\n {2}Bucket knocktool_\w+_used +0 keys\n/.test(after.out), after.out);
      ok(/\n {2}Node gw-a +last heard \d+ s ago\n$/.test(after.out), after.out);
      await nats.stopServer(0);
      const gone = await check(conf, true);
      strictEqual(gone.status, 1);
      ok(
        new RegExp(`^Cannot probe cluster at "nats://127\\.0\\.0\\.1:${port}": .+\\n$`).test(
          gone.err,
        ),
        gone.err,
      );
    } finally {
      await node?.close();
      await nats.destroy();
    }
  },
});

Deno.test({
  name: "cluster config: --probe through a leaf node server asks the domain's JetStream",
  ignore: ignoreUnlessCi(hasNatsServer()),
  async fn() {
    const nats = await NatsServers.startHubAndLeaf("hub");
    try {
      const leaf = nats.urls[1]!;
      const fleet = `q${Deno.pid}`;
      const conf = (extra: string) =>
        `[options]\n  Cluster = ${leaf}\n  Cluster_Name = ${fleet}\n${extra}${DOOR}`;
      const head = `\nCluster probe: connected to "${
        leaf.slice(7)
      }" (nats-server ${serverVersion()})`;
      const r = await check(conf("  Cluster_Domain = hub\n"), true);
      strictEqual(r.status, 0, r.err);
      ok(r.out.includes("\n  Cluster_Domain hub\n"), r.out);
      ok(r.out.includes(`${head}, JetStream on in domain "hub"\n`), r.out);
      const without = await check(conf(""), true);
      ok(without.out.includes(`${head}, JetStream off\n`), without.out);
    } finally {
      await nats.destroy();
    }
  },
});

interface InfoDependency {
  specifier: string;
  isDynamic?: boolean;
  code?: { specifier?: string };
}

Deno.test("cluster config: main.ts, serve and check reach src/cluster/ and the NATS client only through dynamic imports", async () => {
  const root = new URL("../", import.meta.url);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("main.ts", root).pathname],
    cwd: root.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  ok(out.success, new TextDecoder().decode(out.stderr));
  const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: { specifier: string; dependencies?: InfoDependency[] }[];
  };
  const bySpec = new Map(graph.modules.map((m) => [m.specifier, m]));
  // main.ts and the runners it loads for `serve` and `check` (dynamic imports of their own).
  const starts = ["main.ts", "src/cli/serve.ts", "src/cli/check.ts"].map((p) =>
    new URL(p, root).href
  );
  const seen = new Set<string>(starts);
  const todo = [...starts];
  while (todo.length > 0) {
    for (const d of bySpec.get(todo.pop()!)?.dependencies ?? []) {
      const to = d.code?.specifier;
      if (d.isDynamic === true || to === undefined || seen.has(to)) continue;
      seen.add(to);
      todo.push(to);
    }
  }
  const nats = [...seen].filter((s) => s.includes("@nats-io") || s.includes("/src/cluster/"));
  deepStrictEqual(nats, []);
  ok(seen.size > 50, `only ${seen.size} static modules`);
  // The graph does hold the cluster layer, through the dynamic import in check.
  ok(graph.modules.some((m) => m.specifier.endsWith("/src/cluster/probe.ts")));
});
