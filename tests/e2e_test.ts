/**
 * End-to-end suite: a server namespace and a client namespace joined by a veth
 * pair (server 192.0.2.1 / 2001:db8::1, client 192.0.2.2 / 2001:db8::2). On the server: a TCP
 * service on port 8080, an nftables table that drops that port except for sources in the sets
 * `allow4` (ipv4_addr) and `allow6` (ipv6_addr), and `knocktool serve -i <veth>` whose door adds
 * `%IP%` to the set and removes it after `cmd_timeout`. From the client: `knocktool knock`, and
 * TCP connection attempts through bash's `/dev/tcp`.
 *
 * Needs root, `ip`, `nft`, `bash`, `timeout`. `KT_E2E_SERVER=knockd` runs Debian's knockd as the
 * server instead (harness validation).
 *
 * @module
 */

import { deepStrictEqual } from "node:assert/strict";
import {
  type BgProcess,
  bpfTestsValue,
  canUseNetns,
  ignoreUnlessCi,
  type Netns,
  readText,
  run,
  sleep,
  uniqueIfName,
  vethPair,
  waitUntil,
  withNetns,
} from "../testing/netns.ts";
import { knocktoolArgv, serveArgv, waitStarted } from "../testing/knocktool_cmd.ts";

const SERVICE_PORT = 8080;
const SRV4 = "192.0.2.1";
const SRV6 = "2001:db8::1";
const CLI4 = "192.0.2.2";
const CLI6 = "2001:db8::2";

const NFT_RULES = `table inet kt {
  set allow4 { type ipv4_addr; }
  set allow6 { type ipv6_addr; }
  chain input {
    type filter hook input priority 0; policy accept;
    tcp dport ${SERVICE_PORT} ip saddr @allow4 accept
    tcp dport ${SERVICE_PORT} ip6 saddr @allow6 accept
    tcp dport ${SERVICE_PORT} drop
  }
}
`;

/** The door every test uses: opens the service for the knocker for `cmdTimeout` seconds. */
function config(opts: { seqTimeout?: number; cmdTimeout?: number } = {}): string {
  return `[options]
[openService]
    sequence    = 7000,8000,9000
    seq_timeout = ${opts.seqTimeout ?? 5}
    tcpflags    = syn
    start_command   = nft add element inet kt allow4 { %IP% }
    start_command_6 = nft add element inet kt allow6 { %IP% }
    cmd_timeout = ${opts.cmdTimeout ?? 2}
    stop_command    = nft delete element inet kt allow4 { %IP% }
    stop_command_6  = nft delete element inet kt allow6 { %IP% }
`;
}

/** What a test body gets. */
interface Ctx {
  readonly srv: Netns;
  readonly cli: Netns;
  readonly srvIf: string;
  readonly cliIf: string;
  readonly server: BgProcess;
  readonly confPath: string;
  readonly logPath: string;
  /** The server's log file text. */
  log(): string;
  /** Everything known, for failure messages. */
  context(): string;
  /** Runs `knocktool knock` in the client namespace. */
  knock(host: string, ports: readonly string[], client?: "knocktool" | "knock"): Promise<void>;
  /** Whether a TCP connection from the client to the service succeeds (within 1.5 s). */
  canConnect(host: string): Promise<boolean>;
}

function serverArgv(iface: string, confPath: string, logPath: string): string[] {
  // KT_E2E_SERVER=knockd runs Debian's knockd instead, to validate the harness against the
  // reference daemon (it is expected to fail the idle-timeout, reload and interface cases:
  // docs/COMPATIBILITY.md B16, B9, B6).
  if (Deno.env.get("KT_E2E_SERVER") === "knockd") {
    return ["/usr/sbin/knockd", "-i", iface, "-c", confPath, "-g", logPath];
  }
  return serveArgv(iface, confPath, logPath);
}

/** Creates both namespaces, the link, the service, the firewall and the server; always cleans up. */
function withServer(
  conf: string,
  fn: (ctx: Ctx) => Promise<void>,
  opts: { linkAfterStart?: boolean } = {},
): Promise<void> {
  return withNetns(["e2es", "e2ec"], async ([srv, cli]) => {
    const srvIf = uniqueIfName("s");
    const cliIf = uniqueIfName("c");
    const link = () =>
      vethPair(srv!, cli!, {
        nameA: srvIf,
        nameB: cliIf,
        addrsA: [`${SRV4}/24`, `${SRV6}/64`],
        addrsB: [`${CLI4}/24`, `${CLI6}/64`],
      });
    if (!opts.linkAfterStart) await link();
    await srv!.exec(["nft", "-f", "-"], { stdin: NFT_RULES });
    const service = srv!.spawn("service", [
      Deno.execPath(),
      "eval",
      `const l = Deno.listen({ hostname: "::", port: ${SERVICE_PORT} });
       console.log("listening");
       for await (const c of l) c.close();`,
    ]);
    await waitUntil(() => service.stdout().includes("listening"), {
      what: "the TCP service to listen",
      context: () => service.describe(),
    });
    const confPath = `${srv!.dir}/knockd.conf`;
    const logPath = `${srv!.dir}/knocktool.log`;
    await Deno.writeTextFile(confPath, conf);
    const server = srv!.spawn("serve", serverArgv(srvIf, confPath, logPath), { cwd: srv!.dir });
    const ctx: Ctx = {
      srv: srv!,
      cli: cli!,
      srvIf,
      cliIf,
      server,
      confPath,
      logPath,
      log: () => readText(logPath),
      context: () =>
        `${server.describe()}--- server log:\n${readText(logPath)}--- nft:\n` +
        readText(`${srv!.dir}/nft.txt`),
      async knock(host, ports, client) {
        // KT_E2E_CLIENT=knock uses Debian's knock 0.8 instead of `knocktool knock`.
        const which = client ?? (Deno.env.get("KT_E2E_CLIENT") === "knock" ? "knock" : "knocktool");
        const argv = which === "knock"
          ? ["knock", host, ...ports]
          : knocktoolArgv("knock", host, ...ports);
        const r = await cli!.exec(argv, { check: false });
        if (r.code !== 0) {
          throw new Error(
            `Cannot knock on "${host}": exit status ${r.code}\n${r.stderr}${r.stdout}`,
          );
        }
      },
      async canConnect(host) {
        const r = await cli!.exec([
          "timeout",
          "1.5",
          "bash",
          "-c",
          `exec 3<>/dev/tcp/${host}/${SERVICE_PORT}`,
        ], { check: false });
        return r.code === 0;
      },
    };
    if (opts.linkAfterStart) {
      // The interface does not exist yet: wait until the server says something about it.
      await waitUntil(
        () =>
          ctx.log().includes(srvIf) || server.stderr().includes(srvIf) ||
          server.exited !== undefined,
        { timeoutMs: 30_000, what: `knocktool serve to mention "${srvIf}"`, context: ctx.context },
      );
      if (server.exited !== undefined) {
        throw new Error(`Expected serve to wait for the missing interface:\n${ctx.context()}`);
      }
      await link();
    }
    await waitStarted(server, logPath, 0, ctx.context);
    try {
      await fn(ctx);
    } catch (e) {
      // Snapshot the firewall for the failure message, then rethrow with everything.
      const nft = await srv!.exec(["nft", "list", "table", "inet", "kt"], { check: false });
      await Deno.writeTextFile(`${srv!.dir}/nft.txt`, nft.stdout + nft.stderr);
      const msg = e instanceof Error ? e.message : String(e);
      throw new Error(`${msg}\n${ctx.context()}`);
    }
  });
}

/** Knock on `host`, see the port open, then closed again after cmd_timeout. */
async function openAndClose(
  ctx: Ctx,
  host: string,
  client: string,
  ports: readonly string[] = ["7000", "8000", "9000"],
  program?: "knocktool" | "knock",
): Promise<void> {
  if (await ctx.canConnect(host)) {
    throw new Error(`Cannot test: the service on "${host}" is reachable before the knock`);
  }
  await ctx.knock(host, ports, program);
  await waitUntil(() => ctx.canConnect(host), {
    timeoutMs: 8000,
    intervalMs: 100,
    what: `the service on "${host}" to accept connections after the knock`,
  });
  if (!ctx.log().includes(`${client}: openService: OPEN SESAME`)) {
    throw new Error(`Expected "${client}: openService: OPEN SESAME" in the log`);
  }
  await waitUntil(() => ctx.log().includes(`${client}: openService: command timeout`), {
    timeoutMs: 10_000,
    what: "the stop timer to fire",
  });
  await waitUntil(async () => !(await ctx.canConnect(host)), {
    timeoutMs: 8000,
    intervalMs: 200,
    what: `the service on "${host}" to refuse connections again after cmd_timeout`,
  });
}

const available = (await canUseNetns()) &&
  (await run(["nft", "--version"], { check: false }).then((r) => r.code === 0, () => false));
const ignore = ignoreUnlessCi(available);
const PREREQ = "Cannot run the end-to-end suite: needs root, ip and nft";

Deno.test({
  name: "e2e: an IPv4 knock opens the service for cmd_timeout, then it closes",
  ignore,
  async fn() {
    if (!available) throw new Error(PREREQ);
    await withServer(config(), (ctx) => openAndClose(ctx, SRV4, CLI4));
  },
});

Deno.test({
  name: "e2e: an IPv6 knock opens the service for cmd_timeout, then it closes",
  ignore,
  async fn() {
    if (!available) throw new Error(PREREQ);
    await withServer(config(), (ctx) => openAndClose(ctx, SRV6, CLI6));
  },
});

const hasKnock = await run(["knock", "-V"], { check: false }).then(
  (r) => r.code === 0,
  () => false,
);

Deno.test({
  name: "e2e: Debian's knock 0.8 client opens the door over IPv6",
  ignore: ignoreUnlessCi(available && hasKnock),
  async fn() {
    if (!available || !hasKnock) throw new Error(`${PREREQ}, and knock`);
    await withServer(config(), (ctx) => openAndClose(ctx, SRV6, CLI6, undefined, "knock"));
  },
});

Deno.test({
  name: "e2e: a UDP knock (knocktool knock -u) opens a UDP door",
  ignore,
  async fn() {
    if (!available) throw new Error(PREREQ);
    const conf = config().replace("sequence    = 7000,8000,9000", "sequence    = 7000:udp,8000:udp")
      .replace("tcpflags    = syn\n", "");
    await withServer(conf, (ctx) => openAndClose(ctx, SRV4, CLI4, ["-u", "7000", "8000"]));
  },
});

Deno.test({
  name: "e2e: knocks much longer than the snaplen (1400-byte datagrams) open, IPv4 and IPv6",
  ignore,
  async fn() {
    if (!available) throw new Error(PREREQ);
    // serve captures 202 bytes of each frame (docs/PERFORMANCE.md, "The capture ring"): these
    // datagrams arrive cut after their UDP header, caplen < len, and must still count.
    const conf = config().replace("sequence    = 7000,8000,9000", "sequence    = 7000:udp,8000:udp")
      .replace("tcpflags    = syn\n", "");
    await withServer(conf, async (ctx) => {
      for (const [host, client] of [[SRV4, CLI4], [SRV6, CLI6]] as const) {
        const send = (port: number) =>
          `head -c 1400 /dev/zero | tr '\\0' k > /dev/udp/${host}/${port}`;
        await ctx.cli.exec(["bash", "-c", `${send(7000)}; ${send(8000)}`]);
        await waitUntil(() => ctx.canConnect(host), {
          timeoutMs: 8000,
          intervalMs: 100,
          what: `the service on "${host}" to accept connections after 1400-byte knocks`,
        });
        deepStrictEqual(ctx.log().includes(`${client}: openService: OPEN SESAME`), true);
      }
    });
  },
});

Deno.test({
  name: "e2e: an idle link still logs the sequence timeout (timers alive)",
  ignore,
  async fn() {
    if (!available) throw new Error(PREREQ);
    await withServer(config({ seqTimeout: 2 }), async (ctx) => {
      await ctx.knock(SRV4, ["7000"]);
      await waitUntil(() => ctx.log().includes(`${CLI4}: openService: Stage 1`), {
        what: "Stage 1",
      });
      // No further packet is sent: only a timer can produce this line.
      await waitUntil(
        () => ctx.log().includes(`${CLI4}: openService: sequence timeout (stage 1)`),
        { timeoutMs: 8000, what: "the sequence timeout line on an idle link" },
      );
    });
  },
});

Deno.test({
  name: "e2e: SIGHUP with a broken config keeps the old config serving and logs the error",
  ignore,
  async fn() {
    if (!available) throw new Error(PREREQ);
    await withServer(config(), async (ctx) => {
      const before = ctx.log().length;
      // Line 3 is an unknown key: knockd 0.8 says `config: line 3: syntax error` and exits 1.
      await Deno.writeTextFile(ctx.confPath, "[options]\n[openService]\n    bogus_key = 1\n");
      ctx.server.kill("SIGHUP");
      const error = "config: line 3: syntax error";
      await waitUntil(
        () => ctx.log().slice(before).includes(error) || ctx.server.exited !== undefined,
        { timeoutMs: 8000, what: `the reload error "${error}" in the log file` },
      );
      if (!ctx.log().slice(before).includes(error)) {
        throw new Error(`Expected the reload error "${error}" in the log file`);
      }
      await sleep(200);
      if (ctx.server.exited !== undefined) {
        throw new Error("Expected the server to keep running after a failed reload");
      }
      await openAndClose(ctx, SRV4, CLI4);
    });
  },
});

Deno.test({
  name: "e2e: SIGHUP with a changed config serves the new sequence only",
  ignore,
  async fn() {
    if (!available) throw new Error(PREREQ);
    await withServer(config(), async (ctx) => {
      const before = ctx.log().length;
      await Deno.writeTextFile(ctx.confPath, config().replace("7000,8000,9000", "7100,8100,9100"));
      ctx.server.kill("SIGHUP");
      await waitUntil(() => ctx.log().slice(before).includes("re-reading config file"), {
        what: "the reload to be logged",
      });
      // The new sequence's knocks must not meet the old capture filter.
      await waitUntil(
        async () =>
          ((await ctx.srv.packetFilters()).get(ctx.server.pid) ?? []).some((f) =>
            bpfTestsValue(f, 7100)
          ),
        { what: "the capture filter of the new sequence (port 7100)" },
      );
      await ctx.knock(SRV4, ["7000", "8000", "9000"]);
      await openAndClose(ctx, SRV4, CLI4, ["7100", "8100", "9100"]);
      // The old sequence's knocks came first, so they have been handled by now: no Stage of theirs.
      const stages = ctx.log().slice(before).split("\n").filter((l) => l.includes("Stage"));
      deepStrictEqual(
        stages.map((l) => l.replace(/^\[[^\]]*\] /, "")),
        [1, 2, 3].map((n) => `${CLI4}: openService: Stage ${n}`),
        "the old sequence is ignored after the reload",
      );
    });
  },
});

Deno.test({
  name: "e2e: SIGHUP adding Cluster applies the rest and logs that Cluster needs a restart; " +
    "adding a grant directive keeps the running config and names the line",
  ignore,
  async fn() {
    if (!available) throw new Error(PREREQ);
    await withServer(config(), async (ctx) => {
      const reload = async (conf: string, expect: readonly string[]) => {
        const before = ctx.log().length;
        await Deno.writeTextFile(ctx.confPath, conf);
        ctx.server.kill("SIGHUP");
        for (const line of expect) {
          await waitUntil(
            () => ctx.log().slice(before).includes(line) || ctx.server.exited !== undefined,
            { what: `"${line}" in the log file`, context: ctx.context },
          );
          deepStrictEqual(ctx.log().slice(before).includes(line), true, ctx.context());
        }
      };
      const withCluster = config().replace(
        "[options]\n",
        "[options]\n  Cluster = nats://192.0.2.9:4222\n",
      )
        .replace("7000,8000,9000", "7100,8100,9100");
      await reload(withCluster, [
        'Cannot apply "Cluster = nats://192.0.2.9:4222" (line 2) on reload: the server started ' +
        "without cluster mode; restart it to join the fleet",
      ]);
      await waitUntil(
        async () =>
          ((await ctx.srv.packetFilters()).get(ctx.server.pid) ?? []).some((f) =>
            bpfTestsValue(f, 7100)
          ),
        { what: "the capture filter of the new sequence (port 7100)" },
      );
      await openAndClose(ctx, SRV4, CLI4, ["7100", "8100", "9100"]);
      await reload(
        config().replace("    cmd_timeout", "    Cooldown = 5\n    cmd_timeout"),
        [
          'Cannot apply "Cooldown" (line 8) on reload: the server started without the grant ' +
          "extensions; restart it",
          `Cannot reload ${JSON.stringify(ctx.confPath)}: keeping the running configuration`,
        ],
      );
      await openAndClose(ctx, SRV4, CLI4, ["7100", "8100", "9100"]);
      deepStrictEqual(ctx.server.exited, undefined, ctx.context());
    });
  },
});

Deno.test({
  name: "e2e: the interface is deleted and re-created while serving; knocks work again",
  ignore,
  async fn() {
    if (!available) throw new Error(PREREQ);
    await withServer(config(), async (ctx) => {
      const before = ctx.log().length;
      const errBefore = ctx.server.stderr().length;
      // Deleting one end of a veth pair deletes both.
      await ctx.srv.exec(["ip", "link", "del", ctx.srvIf]);
      // The status line may go to the log file or to stderr (the journal under systemd).
      const mentioned = () =>
        ctx.log().slice(before).includes(ctx.srvIf) ||
        ctx.server.stderr().slice(errBefore).includes(ctx.srvIf);
      await waitUntil(mentioned, {
        timeoutMs: 8000,
        what: `a log line naming "${ctx.srvIf}" after it was deleted`,
      });
      await vethPair(ctx.srv, ctx.cli, {
        nameA: ctx.srvIf,
        nameB: ctx.cliIf,
        addrsA: [`${SRV4}/24`, `${SRV6}/64`],
        addrsB: [`${CLI4}/24`, `${CLI6}/64`],
      });
      if (ctx.server.exited !== undefined) {
        throw new Error("Expected the server to survive the interface going away");
      }
      // Knock until capture is back (each round is a full fresh sequence), bounded.
      const deadline = Date.now() + 15_000;
      while (!ctx.log().slice(before).includes(`${CLI4}: openService: OPEN SESAME`)) {
        if (Date.now() > deadline) {
          throw new Error("Cannot open the door after the interface was re-created");
        }
        await ctx.knock(SRV4, ["7000", "8000", "9000"]);
        await sleep(500);
      }
      await waitUntil(() => ctx.canConnect(SRV4), {
        timeoutMs: 8000,
        intervalMs: 100,
        what: "the service to accept connections after the re-created interface's knock",
      });
    });
  },
});

Deno.test({
  name: "e2e: an address added while serving can be knocked on (B7)",
  ignore,
  async fn() {
    if (!available) throw new Error(PREREQ);
    await withServer(config(), async (ctx) => {
      const added = "192.0.2.10";
      await ctx.srv.addAddress(ctx.srvIf, `${added}/24`);
      // Knock until the server has picked the address up (each round a fresh sequence), bounded.
      const deadline = Date.now() + 15_000;
      while (!ctx.log().includes(`${CLI4}: openService: OPEN SESAME`)) {
        if (Date.now() > deadline) {
          throw new Error(`Cannot open the door on "${added}", added after the start`);
        }
        await ctx.knock(added, ["7000", "8000", "9000"]);
        await sleep(500);
      }
      await waitUntil(() => ctx.canConnect(added), {
        timeoutMs: 8000,
        intervalMs: 100,
        what: `the service on "${added}" to accept connections after the knock`,
      });
    });
  },
});

Deno.test({
  name: "e2e: serve started before its interface exists waits for it (B6), then knocks work",
  ignore,
  async fn() {
    if (!available) throw new Error(PREREQ);
    await withServer(config(), async (ctx) => {
      const deadline = Date.now() + 15_000;
      while (!ctx.log().includes(`${CLI4}: openService: OPEN SESAME`)) {
        if (Date.now() > deadline) {
          throw new Error("Cannot open the door on the interface created after the start");
        }
        await ctx.knock(SRV4, ["7000", "8000", "9000"]);
        await sleep(500);
      }
      await waitUntil(() => ctx.canConnect(SRV4), {
        timeoutMs: 8000,
        intervalMs: 100,
        what: "the service to accept connections after the knock",
      });
    }, { linkAfterStart: true });
  },
});

Deno.test({
  name: "e2e: SIGTERM with a stop command pending runs it before exiting with status 15",
  ignore,
  async fn() {
    if (!available) throw new Error(PREREQ);
    // The stop timer must not fire on its own before SIGTERM, however slow the machine.
    await withServer(config({ cmdTimeout: 3600 }), async (ctx) => {
      await ctx.knock(SRV4, ["7000", "8000", "9000"]);
      await waitUntil(() => ctx.canConnect(SRV4), {
        timeoutMs: 8000,
        intervalMs: 100,
        what: "the service to accept connections after the knock",
      });
      const stopLine =
        `openService: running command: nft delete element inet kt allow4 { ${CLI4} }`;
      if (ctx.log().includes(stopLine)) {
        throw new Error("Cannot test: the stop command already ran before SIGTERM");
      }
      const status = await ctx.server.stop("SIGTERM", 10_000);
      const log = ctx.log();
      const stop = log.indexOf(stopLine);
      const down = log.indexOf("shutting down");
      if (stop < 0 || down < 0 || stop > down) {
        throw new Error('Expected the stop command to run before "shutting down"');
      }
      const set = await ctx.srv.exec(["nft", "list", "set", "inet", "kt", "allow4"]);
      if (set.stdout.includes(CLI4)) {
        throw new Error(`Expected "${CLI4}" to be removed from the set:\n${set.stdout}`);
      }
      if (status.code !== 15) {
        throw new Error(`Expected exit status 15, got ${status.code} (${status.signal})`);
      }
    });
  },
});
