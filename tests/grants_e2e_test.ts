/**
 * Grants end to end (docs/GRANTS.md): a server namespace and a client namespace joined by a
 * veth pair (server 192.0.2.1 / 2001:db8::1, client 192.0.2.2 / 2001:db8::2). On the server: a
 * TCP service on port 8080 behind an nftables table that accepts it only from the timeout sets
 * `allow4` / `allow6`, and `knocktool serve` whose door names those sets (`Nft_Set`,
 * `Nft_Set_6`). From the client: `knocktool knock` and TCP connection attempts.
 *
 * Needs root, `ip`, `nft`, `bash`, `timeout` and libnftables.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type BgProcess,
  canUseNetns,
  ignoreUnlessCi,
  type Netns,
  readText,
  run,
  uniqueIfName,
  vethPair,
  waitUntil,
  withNetns,
} from "../testing/netns.ts";
import { knocktoolArgv, serveArgv, startServer } from "../testing/knocktool_cmd.ts";

const PORT = 8080;
const SRV4 = "192.0.2.1";
const SRV6 = "2001:db8::1";
const CLI4 = "192.0.2.2";
const CLI6 = "2001:db8::2";

const NFT_RULES = `table inet kt {
  set allow4 { type ipv4_addr; flags timeout; }
  set allow6 { type ipv6_addr; flags timeout; }
  chain input {
    type filter hook input priority 0; policy accept;
    tcp dport ${PORT} ip saddr @allow4 accept
    tcp dport ${PORT} ip6 saddr @allow6 accept
    tcp dport ${PORT} drop
  }
}
`;

/** A door on the sets. */
function setConfig(stateDir: string, cmdTimeout = 10, extra = ""): string {
  return `[options]
  State_Dir = ${stateDir}
[setDoor]
  sequence    = 7000,8000,9000
  seq_timeout = 5
  tcpflags    = syn
  Nft_Set     = inet kt allow4
  Nft_Set_6   = inet kt allow6
  cmd_timeout = ${cmdTimeout}
${extra}`;
}

/** What a test body gets. */
interface Ctx {
  readonly srv: Netns;
  readonly cli: Netns;
  readonly srvIf: string;
  readonly confPath: string;
  readonly stateDir: string;
  server: BgProcess;
  log(): string;
  context(): string;
  /** (Re)starts the server and waits for "starting up". */
  start(): Promise<void>;
  knock(host: string, ports?: readonly string[]): Promise<void>;
  canConnect(host: string): Promise<boolean>;
  /** The set's elements: address → seconds until it expires. */
  elements(set: "allow4" | "allow6"): Promise<Map<string, number>>;
  /** `knocktool SUBCOMMAND … --control SOCKET`: status, stdout, stderr. */
  kt(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** `knocktool status --json`. */
  status(): Promise<StatusJson>;
}

interface StatusJson {
  grantMode: boolean;
  doors: { name: string; enabled: boolean; knocks: number; opens: number; aclDrops: number }[];
  grants: {
    door: string;
    address: string;
    secondsLeft: number | null;
    closes: string;
    via: string;
  }[];
  attempts: number;
  counters: Record<string, number>;
}

function withGrantServer(
  conf: (stateDir: string, dir: string) => string,
  fn: (ctx: Ctx) => Promise<void>,
  opts: { serveArgs?: readonly string[]; clientAddrs?: readonly string[] } = {},
): Promise<void> {
  return withNetns(["grs", "grc"], async ([srv, cli]) => {
    const srvIf = uniqueIfName("s");
    const cliIf = uniqueIfName("c");
    await vethPair(srv!, cli!, {
      nameA: srvIf,
      nameB: cliIf,
      addrsA: [`${SRV4}/24`, `${SRV6}/64`],
      addrsB: [`${CLI4}/24`, `${CLI6}/64`, ...(opts.clientAddrs ?? [])],
    });
    await srv!.exec(["nft", "-f", "-"], { stdin: NFT_RULES });
    const service = srv!.spawn("service", [
      Deno.execPath(),
      "eval",
      `const l = Deno.listen({ hostname: "::", port: ${PORT} });
       console.log("listening");
       for await (const c of l) c.close();`,
    ]);
    await waitUntil(() => service.stdout().includes("listening"), {
      what: "the TCP service to listen",
      context: () => service.describe(),
    });
    const stateDir = `${srv!.dir}/state`;
    const confPath = `${srv!.dir}/knockd.conf`;
    const logPath = `${srv!.dir}/knocktool.log`;
    await Deno.writeTextFile(confPath, conf(stateDir, srv!.dir));
    let starts = 0;
    const ctx: Ctx = {
      srv: srv!,
      cli: cli!,
      srvIf,
      confPath,
      stateDir,
      server: undefined as unknown as BgProcess,
      log: () => readText(logPath),
      context: () => `${ctx.server?.describe() ?? ""}--- server log:\n${readText(logPath)}`,
      async start() {
        ctx.server = await startServer(
          srv!,
          `serve${++starts}`,
          serveArgv(
            srvIf,
            confPath,
            logPath,
            "--control",
            `${srv!.dir}/control.sock`,
            ...(opts.serveArgs ?? []),
          ),
          { logPath, cwd: srv!.dir },
        );
      },
      async knock(host, ports = ["7000", "8000", "9000"]) {
        const r = await cli!.exec(knocktoolArgv("knock", host, ...ports), { check: false });
        assert.equal(r.code, 0, `knock failed: ${r.stderr}${r.stdout}`);
      },
      async canConnect(host) {
        const r = await cli!.exec(
          ["timeout", "1.5", "bash", "-c", `exec 3<>/dev/tcp/${host}/${PORT}`],
          { check: false },
        );
        return r.code === 0;
      },
      async elements(set) {
        const r = await srv!.exec(["nft", "-j", "list", "set", "inet", "kt", set]);
        const doc = JSON.parse(r.stdout) as {
          nftables: { set?: { elem?: { elem: { val: string; expires?: number } }[] } }[];
        };
        const out = new Map<string, number>();
        for (const item of doc.nftables) {
          for (const e of item.set?.elem ?? []) out.set(e.elem.val, e.elem.expires ?? 0);
        }
        return out;
      },
      async kt(args) {
        const r = await run(knocktoolArgv(...args, "--control", `${srv!.dir}/control.sock`), {
          check: false,
        });
        return { code: r.code, stdout: r.stdout, stderr: r.stderr };
      },
      async status() {
        const r = await ctx.kt(["status", "--json"]);
        assert.equal(r.code, 0, `status failed: ${r.stderr}`);
        return JSON.parse(r.stdout) as StatusJson;
      },
    };
    try {
      await ctx.start();
      await fn(ctx);
    } catch (e) {
      const nft = await srv!.exec(["nft", "list", "table", "inet", "kt"], { check: false });
      const msg = e instanceof Error ? e.message : String(e);
      throw new Error(`${msg}\n${ctx.context()}--- nft:\n${nft.stdout}${nft.stderr}`);
    }
  });
}

/** The live grants in `status --json` as `door address closes`. */
async function grantsOf(ctx: Ctx): Promise<string[]> {
  return (await ctx.status()).grants.map((g) => `${g.door} ${g.address} ${g.closes}`);
}

/**
 * closed → knock → open with a timeout → re-knock refreshes the one element → revoke → closed →
 * knock → expiry → closed, with `status --json` at each step.
 */
async function openRefreshRevokeExpire(
  ctx: Ctx,
  host: string,
  client: string,
  set: "allow4" | "allow6",
) {
  const granted = `setDoor ${client} set inet kt ${set}`;
  assert.equal(await ctx.canConnect(host), false, "the service must be closed before the knock");
  assert.equal((await ctx.elements(set)).size, 0);
  assert.deepEqual(await grantsOf(ctx), []);
  // Knock: one element with a timeout, one grant.
  await ctx.knock(host);
  await waitUntil(async () => (await ctx.elements(set)).has(client), {
    what: `${client} in set ${set}`,
    context: ctx.context,
  });
  const first = (await ctx.elements(set)).get(client)!;
  assert.ok(first >= 1 && first <= 10, `expected a timeout of at most 10 s, got ${first}`);
  assert.equal(await ctx.canConnect(host), true, "the service must be open after the knock");
  let st = await ctx.status();
  assert.deepEqual(st.grants.map((g) => `${g.door} ${g.address} ${g.closes} ${g.via}`), [
    `${granted} knock`,
  ]);
  assert.equal(st.doors[0]!.opens, 1);
  assert.equal(st.doors[0]!.knocks, 3);
  // Wait until the timeout has visibly run down, then knock again: the same element, refreshed.
  await waitUntil(async () => ((await ctx.elements(set)).get(client) ?? 0) <= 8, {
    what: `the timeout of ${client} to run down`,
  });
  const before = (await ctx.elements(set)).get(client) ?? 0;
  await ctx.knock(host);
  await waitUntil(() => ctx.log().includes(`${client}: setDoor: grant refreshed for 10 s`), {
    what: "the refresh line",
    context: ctx.context,
  });
  const after = await ctx.elements(set);
  assert.equal(after.size, 1, "a refresh must not add a second element");
  assert.ok(
    (after.get(client) ?? 0) > before,
    `expected a refreshed timeout above ${before} s, got ${after.get(client)}`,
  );
  st = await ctx.status();
  assert.deepEqual(st.grants.map((g) => `${g.door} ${g.address} ${g.closes}`), [granted]);
  assert.ok((st.grants[0]!.secondsLeft ?? 0) > before - 1);
  assert.equal(st.doors[0]!.opens, 2);
  // Revoke: the element goes at once, the service is closed.
  const rv = await ctx.kt(["revoke", client]);
  assert.equal(rv.code, 0, rv.stderr);
  assert.equal(
    rv.stdout,
    `Revoked ${client} on door "setDoor" (closed by set inet kt ${set})\n`,
  );
  assert.equal((await ctx.elements(set)).has(client), false);
  assert.equal(await ctx.canConnect(host), false, "the service must be closed after revoke");
  assert.deepEqual(await grantsOf(ctx), []);
  const again = await ctx.kt(["revoke", client]);
  assert.equal(again.code, 1);
  assert.equal(again.stderr, `Cannot revoke "${client}": no grant is open for it\n`);
  // Knock again, then let it expire: the kernel removes the element, the grant ends.
  await ctx.knock(host);
  await waitUntil(async () => (await ctx.elements(set)).has(client), {
    what: `${client} in set ${set} again`,
  });
  assert.deepEqual(await grantsOf(ctx), [granted]);
  await waitUntil(async () => !(await ctx.elements(set)).has(client), {
    timeoutMs: 20_000,
    what: `${client} to expire from ${set}`,
  });
  assert.equal(await ctx.canConnect(host), false, "the service must be closed after expiry");
  await waitUntil(() => ctx.log().includes(`${client}: setDoor: grant expired`), {
    what: "the expiry line",
  });
  st = await ctx.status();
  assert.deepEqual(st.grants, []);
  assert.equal(st.counters.opens, 3);
  assert.equal(st.counters.knocks, 9);
}

const available = (await canUseNetns()) &&
  (await run(["nft", "--version"], { check: false }).then((r) => r.code === 0, () => false));
const ignore = ignoreUnlessCi(available);
const PREREQ = "Cannot run the grants suite: needs root, ip, nft and libnftables";

Deno.test({
  name: "grants e2e: IPv4: knock, refresh, revoke, knock, expiry, with status at each step",
  ignore,
  async fn() {
    if (!available) throw new Error(PREREQ);
    await withGrantServer(
      (s) => setConfig(s),
      (ctx) => openRefreshRevokeExpire(ctx, SRV4, CLI4, "allow4"),
    );
  },
});

Deno.test({
  name: "grants e2e: IPv6: knock, refresh, revoke, knock, expiry, with status at each step",
  ignore,
  async fn() {
    if (!available) throw new Error(PREREQ);
    await withGrantServer(
      (s) => setConfig(s),
      (ctx) => openRefreshRevokeExpire(ctx, SRV6, CLI6, "allow6"),
    );
  },
});

Deno.test({
  name: "grants e2e: serve refuses a set without flags timeout and says what to create",
  ignore,
  async fn() {
    if (!available) throw new Error(PREREQ);
    await withNetns(["grv"], async ([ns]) => {
      await ns!.exec(["nft", "-f", "-"], {
        stdin: "table inet kt {\n set allow4 { type ipv4_addr; }\n}\n",
      });
      const conf = `${ns!.dir}/knockd.conf`;
      await Deno.writeTextFile(
        conf,
        "[options]\n State_Dir = " + ns!.dir +
          "\n[d]\n sequence = 7000\n Nft_Set = inet kt allow4\n",
      );
      const r = await ns!.exec(knocktoolArgv("serve", "-i", "lo", "-c", conf), { check: false });
      assert.equal(r.code, 1);
      assert.equal(
        r.stderr,
        `knocktool serve: Cannot use set "inet kt allow4" of "Nft_Set" (line 5): it has no "flags timeout": recreate it with: nft delete set inet kt allow4; nft add table inet kt; nft add set inet kt allow4 '{ type ipv4_addr; flags timeout; }'\n`,
      );
      const c = await ns!.exec(knocktoolArgv("check", "-i", "lo", "-c", conf), { check: false });
      assert.equal(c.code, 1);
      assert.match(
        c.stdout,
        /^Not loadable by knockd 0\.8: uses the knocktool extensions "State_Dir" \(line 2\), "Nft_Set" \(line 5\)$/m,
      );
      assert.match(
        c.stderr,
        /^Cannot use set "inet kt allow4" of "Nft_Set" \(line 5\): it has no "flags timeout"/,
      );
    });
  },
});

Deno.test({
  name: "grants e2e: after kill -9 with a command grant pending, the restart runs its stop once",
  ignore,
  async fn() {
    if (!available) throw new Error(PREREQ);
    await withGrantServer(
      (stateDir, dir) =>
        `[options]
  State_Dir = ${stateDir}
[cmdDoor]
  sequence      = 7000,8000,9000
  tcpflags      = syn
  start_command = echo start %IP% >> ${dir}/commands.txt
  stop_command  = echo stop %IP% >> ${dir}/commands.txt
  cmd_timeout   = 2
  # Any grant directive makes the doors grants; Cooldown = 0 changes nothing else.
  Cooldown      = 0
`,
      async (ctx) => {
        const commands = () => readText(`${ctx.srv.dir}/commands.txt`);
        await ctx.knock(SRV4);
        await waitUntil(() => commands().includes(`start ${CLI4}`), {
          what: "the start command",
          context: ctx.context,
        });
        const stored = JSON.parse(readText(`${ctx.stateDir}/grants.json`)) as {
          grants: { door: string; address: string; until: number; stop: string }[];
        };
        assert.equal(stored.grants.length, 1);
        assert.equal(stored.grants[0]!.address, CLI4);
        assert.equal(stored.grants[0]!.stop, `echo stop ${CLI4} >> ${ctx.srv.dir}/commands.txt`);
        ctx.server.kill("SIGKILL");
        await ctx.server.status;
        const until = stored.grants[0]!.until;
        await waitUntil(() => Date.now() > until + 200, { what: "the grant's end to pass" });
        assert.equal(commands(), `start ${CLI4}\n`, "nothing may run while the server is down");
        await ctx.start();
        await waitUntil(() => commands().includes(`stop ${CLI4}`), {
          what: "the overdue stop command after the restart",
          context: ctx.context,
        });
        // A clean shutdown now would run every pending stop command: there must be none left.
        await ctx.server.stop("SIGTERM");
        assert.equal(commands(), `start ${CLI4}\nstop ${CLI4}\n`);
        const after = JSON.parse(readText(`${ctx.stateDir}/grants.json`)) as { grants: unknown[] };
        assert.deepEqual(after.grants, []);
      },
    );
  },
});

Deno.test({
  name:
    "grants e2e: knocktool grant opens the door from the command line; bad requests change nothing",
  ignore,
  async fn() {
    if (!available) throw new Error(PREREQ);
    await withGrantServer((s) => setConfig(s), async (ctx) => {
      assert.equal(await ctx.canConnect(SRV4), false);
      const bad = await ctx.kt(["grant", CLI4, "--door", "nope"]);
      assert.equal(bad.code, 1);
      assert.equal(bad.stderr, 'Cannot grant: no door is named "nope"\n');
      const bad2 = await ctx.kt(["grant", "192.0.2.300", "--door", "setDoor"]);
      assert.equal(bad2.stderr, 'Cannot grant "192.0.2.300": not an IPv4 or IPv6 address\n');
      assert.deepEqual(await grantsOf(ctx), []);
      assert.equal((await ctx.elements("allow4")).size, 0);
      const ok = await ctx.kt(["grant", CLI4, "--door", "setDoor", "--for", "60"]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.stdout, `Granted ${CLI4} on door "setDoor"\n`);
      const left = (await ctx.elements("allow4")).get(CLI4) ?? 0;
      assert.ok(left > 50 && left <= 60, `expected a 60 s element, got ${left}`);
      assert.equal(await ctx.canConnect(SRV4), true, "grant must open the service");
      const st = await ctx.status();
      assert.deepEqual(st.grants.map((g) => `${g.address} ${g.via}`), [`${CLI4} grant`]);
      assert.ok(ctx.log().includes(`${CLI4}: setDoor: OPEN SESAME (granted by hand for 60 s)`));
      // A reload naming a missing set keeps the running config (and its grant).
      await Deno.writeTextFile(
        ctx.confPath,
        setConfig(ctx.stateDir).replace("inet kt allow4", "inet kt nosuch"),
      );
      ctx.server.kill("SIGHUP");
      await waitUntil(() => ctx.log().includes("keeping the running configuration"), {
        what: "the refused reload",
        context: ctx.context,
      });
      assert.ok(
        ctx.log().includes(
          `Cannot use set "inet kt nosuch" of "Nft_Set" (line 7): it does not exist: create it with: nft add table inet kt; nft add set inet kt nosuch '{ type ipv4_addr; flags timeout; }'`,
        ),
        ctx.context(),
      );
      assert.deepEqual(await grantsOf(ctx), [`setDoor ${CLI4} set inet kt allow4`]);
    });
  },
});

Deno.test({
  name: "grants e2e: a source outside From never opens, one inside does; both counted",
  ignore,
  async fn() {
    if (!available) throw new Error(PREREQ);
    const inside = "192.0.2.3";
    await withGrantServer(
      (s) => setConfig(s, 30, `  From        = ${inside}/32, 2001:db8::3\n`),
      async (ctx) => {
        await ctx.knock(SRV4);
        await waitUntil(
          () => ctx.log().includes(`${CLI4}: setDoor: not opened: source is outside "From"`),
          {
            what: "the ACL line",
            context: ctx.context,
          },
        );
        assert.equal((await ctx.elements("allow4")).size, 0);
        assert.equal(await ctx.canConnect(SRV4), false);
        await ctx.knock(SRV4, ["--source", inside, "7000", "8000", "9000"]);
        await waitUntil(async () => (await ctx.elements("allow4")).has(inside), {
          what: `${inside} in allow4`,
          context: ctx.context,
        });
        assert.deepEqual([...(await ctx.elements("allow4")).keys()], [inside]);
        const st = await ctx.status();
        assert.deepEqual(st.grants.map((g) => g.address), [inside]);
        assert.equal(st.counters.aclDrops, 1);
        assert.equal(st.counters.opens, 1);
        assert.deepEqual(st.doors.map((d) => [d.name, d.opens, d.aclDrops]), [["setDoor", 1, 1]]);
      },
      { clientAddrs: [`${inside}/24`] },
    );
  },
});

const hasPromtool = await run(["promtool", "--version"], { check: false }).then(
  (r) => r.code === 0,
  () => false,
);

/** `promtool check metrics` on a text: its exit status and complaints. */
async function promtool(text: string): Promise<{ code: number; out: string }> {
  const r = await run(["promtool", "check", "metrics"], { check: false, stdin: text });
  return { code: r.code, out: r.stdout + r.stderr };
}

Deno.test({
  name:
    "grants e2e: a cooldown'd single-knock UDP door hit 100 times runs its command once; metrics count it",
  ignore: ignoreUnlessCi(available && hasPromtool),
  async fn() {
    if (!available || !hasPromtool) throw new Error(`${PREREQ}, and promtool (prometheus)`);
    await withGrantServer(
      (stateDir, dir) =>
        `[options]
  State_Dir = ${stateDir}
[udpDoor]
  sequence      = 7777:udp
  start_command = echo hit %IP% >> ${dir}/hits.txt
  cmd_timeout   = 0
  Cooldown      = 600
`,
      async (ctx) => {
        // cmd_timeout 0: each grant ends at once, so the cooldown, not a live grant, is what keeps
        // the next 99 hits from running the command again.
        await ctx.knock(SRV4, ["-u", "-d", "10", ...Array(100).fill("7777")]);
        await waitUntil(async () => (await ctx.status()).counters.knocks === 100, {
          what: "100 knocks in the counters",
          context: ctx.context,
        });
        await waitUntil(() => readText(`${ctx.srv.dir}/hits.txt`) !== "", { what: "the hit" });
        const st = await ctx.status();
        assert.equal(readText(`${ctx.srv.dir}/hits.txt`), `hit ${CLI4}\n`);
        assert.equal(st.counters.opens, 100);
        assert.equal(st.counters.commandsRun, 1);
        assert.equal(st.counters.commandsFailed, 0);
        assert.ok(ctx.log().includes(`${CLI4}: udpDoor: cooldown: not running the start command`));
        const prom = await ctx.kt(["status", "--prometheus"]);
        assert.equal(prom.code, 0, prom.stderr);
        assert.deepEqual(await promtool(prom.stdout), { code: 0, out: "" });
        assert.match(prom.stdout, /^knocktool_knocks_total\{door="udpDoor"\} 100$/m);
        assert.match(prom.stdout, /^knocktool_opens_total\{door="udpDoor"\} 100$/m);
        assert.match(prom.stdout, /^knocktool_commands_run_total 1$/m);
        assert.match(prom.stdout, /^knocktool_packets_seen_total 100$/m);
        // The same text over HTTP (--metrics-listen), from inside the server's namespace.
        const http = await ctx.srv.exec(["curl", "-sS", "http://127.0.0.1:19100/metrics"]);
        assert.deepEqual(await promtool(http.stdout), { code: 0, out: "" });
        assert.match(http.stdout, /^knocktool_knocks_total\{door="udpDoor"\} 100$/m);
      },
      { serveArgs: ["--metrics-listen", "127.0.0.1:19100"] },
    );
  },
});

Deno.test({
  name: "grants e2e: Max_Starts_Per_Minute caps one source's starts and counts the drops",
  ignore,
  async fn() {
    if (!available) throw new Error(PREREQ);
    await withGrantServer(
      (stateDir) =>
        `[options]
  State_Dir = ${stateDir}
  Max_Starts_Per_Minute = 5
[udpDoor]
  sequence    = 7777:udp
  Nft_Set     = inet kt allow4
  cmd_timeout = 30
`,
      async (ctx) => {
        // The cap counts per minute of capture time: stay clear of a minute boundary.
        await waitUntil(() => new Date().getSeconds() < 45, {
          timeoutMs: 20_000,
          what: "a fresh minute",
        });
        await ctx.knock(SRV4, ["-u", ...Array(20).fill("7777")]);
        await waitUntil(
          async () => {
            const c = (await ctx.status()).counters;
            return (c.knocks ?? 0) + (c.rateLimitDrops ?? 0) === 20;
          },
          { what: "20 hits counted", context: ctx.context },
        );
        const st = await ctx.status();
        assert.equal(st.counters.knocks, 5);
        assert.equal(st.counters.opens, 5);
        assert.equal(st.counters.rateLimitDrops, 15);
        assert.deepEqual([...(await ctx.elements("allow4")).keys()], [CLI4]);
      },
    );
  },
});

Deno.test({
  name:
    "grants e2e: a knockd config lists its pending stop commands as grants, and revoke runs them",
  ignore,
  async fn() {
    if (!available) throw new Error(PREREQ);
    await withGrantServer(
      (_stateDir, dir) =>
        `[plainDoor]
  sequence      = 7000,8000,9000
  tcpflags      = syn
  start_command = echo start %IP% >> ${dir}/commands.txt
  stop_command  = echo stop %IP% >> ${dir}/commands.txt
  cmd_timeout   = 600
`,
      async (ctx) => {
        const commands = () => readText(`${ctx.srv.dir}/commands.txt`);
        await ctx.knock(SRV4);
        await waitUntil(async () => (await ctx.status()).grants.length === 1, {
          what: "the pending stop command in status",
          context: ctx.context,
        });
        const st = await ctx.status();
        assert.equal(st.grantMode, false);
        assert.deepEqual(st.grants.map((g) => `${g.door} ${g.address} ${g.closes}`), [
          `plainDoor ${CLI4} command`,
        ]);
        const rv = await ctx.kt(["revoke", CLI4]);
        assert.equal(rv.code, 0, rv.stderr);
        assert.equal(rv.stdout, `Revoked ${CLI4} on door "plainDoor" (closed by command)\n`);
        await waitUntil(() => commands().includes(`stop ${CLI4}`), { what: "the stop command" });
        assert.equal(commands(), `start ${CLI4}\nstop ${CLI4}\n`);
        assert.deepEqual((await ctx.status()).grants, []);
        assert.equal(readText(`${ctx.stateDir}/grants.json`), "", "a knockd config keeps no state");
      },
    );
  },
});
