/**
 * End-to-end tier with the knock clients people already have: a server namespace with a bridge
 * (192.0.2.1, 2001:db8::1), one client namespace per client joined to it by a veth pair (each with
 * its own IPv4 and IPv6 address, so the clients can knock at the same time without meeting in the
 * matcher), and an nftables rule on the server that DROPs the knock ports, or REJECTs them with a
 * TCP reset, or with an ICMP port-unreachable. The door is `7000,8000,9000` (tcpflags = syn) and
 * its command creates a marker named after the knocker.
 *
 * Clients, from Debian packages, each knocking 7000, 8000, 9000 once per port as a user would:
 * `nmap -Pn -p PORT` (default retries), OpenBSD `nc -z -w 2`, `curl --connect-timeout 1.5`,
 * bash's `/dev/tcp` under `timeout 1.5`, a Python `socket.connect` with a 1.5 s timeout,
 * Debian's `knock`, `knock` once per port and twice in a row (as mobile apps send every hit),
 * `hping3 -S -c 1` (IPv4 only: hping3 has no IPv6) and `knocktool knock`. Over IPv4 and IPv6.
 *
 * Default mode: every client opens the door through every rule (docs/COMPATIBILITY.md
 * "Repeats and retransmissions"). `serve --knockd-strict`: Debian's knockd 0.8 runs beside
 * knocktool on the same bridge, and knocktool opens for exactly the knockers knockd opens for.
 *
 * In default mode the clients knock at the same time; with `--knockd-strict` one after the other
 * (knockd's B1 would otherwise decide the result, see `runCase`).
 *
 * A knock from a separate sentinel namespace (Debian's `knock`, one SYN per port) before the
 * clients shows that every daemon captures; a second one after them is a barrier: a daemon reads
 * the bridge's packets in order, so once it has logged the sentinel's second opening it has seen
 * everything the clients sent.
 *
 * A second test drives knocktool's own client through a DROP rule over one veth: flag steps in the
 * notation (`7000:tcp:syn 8000:tcp:fin+urg+psh 9000:tcp:none`) and tportknockd's frames open a flag
 * door and a wrong flag does not; a name with A and AAAA records (the client namespace's
 * `/etc/netns/NS/hosts`) is knocked over one family without `-A` and over both with it; the
 * three examples of tportknockd's page, served from a tportknockd file as it is, open on their
 * frames sent by `knocktool knock`, and SSH2 stays shut on a wrong flag.
 *
 * Needs root, `ip`, `nft`, knockd, knock, nmap, nc (OpenBSD), curl, bash, timeout, python3 and
 * hping3; fails under CI=true when one is missing. `KT_CLIENTS_FILTER=<substring>` runs the
 * matching cases only.
 *
 * @module
 */

import { deepStrictEqual, ok } from "node:assert/strict";
import {
  type BgProcess,
  canUseNetns,
  ignoreUnlessCi,
  Netns,
  readText,
  run,
  uniqueIfName,
  vethPair,
  waitUntil,
} from "../testing/netns.ts";
import { knocktoolArgv, serveArgv, startServer } from "../testing/knocktool_cmd.ts";

const KNOCKD = "/usr/sbin/knockd";
const SRV4 = "192.0.2.1";
const SRV6 = "2001:db8::1";
const SENTINEL4 = "192.0.2.250";
const SENTINEL6 = "2001:db8::250";
const PORTS = ["7000", "8000", "9000"] as const;
const DOOR = "clientDoor";

/** A knock client: how it knocks one port (or the whole sequence) of `host`. */
interface Client {
  /** Short name, used in addresses' order and in messages. */
  readonly name: string;
  /** Whether it speaks IPv6. */
  readonly ipv6: boolean;
  /** The command lines of one knock of `PORTS` on `host`, run one after the other. */
  commands(host: string, family: 4 | 6): string[][];
}

const PY_CONNECT = "import socket,sys\n" +
  "h,p=sys.argv[1],int(sys.argv[2])\n" +
  "s=socket.socket(socket.AF_INET6 if ':' in h else socket.AF_INET)\n" +
  "s.settimeout(1.5)\n" +
  "try:\n s.connect((h,p))\nexcept OSError:\n pass\n";

const perPort = (f: (host: string, port: string, family: 4 | 6) => string[]) =>
(
  host: string,
  family: 4 | 6,
) => PORTS.map((p) => f(host, p, family));

const urlHost = (host: string) => host.includes(":") ? `[${host}]` : host;

/** The clients, as a user types them. */
const CLIENTS: readonly Client[] = [
  {
    name: "nmap",
    ipv6: true,
    commands: perPort((h, p, f) => ["nmap", ...(f === 6 ? ["-6"] : []), "-n", "-Pn", "-p", p, h]),
  },
  { name: "nc", ipv6: true, commands: perPort((h, p) => ["nc", "-z", "-w", "2", h, p]) },
  {
    name: "curl",
    ipv6: true,
    commands: perPort((h, p) => [
      "curl",
      "-s",
      "--connect-timeout",
      "1.5",
      `http://${urlHost(h)}:${p}/`,
    ]),
  },
  {
    name: "bash",
    ipv6: true,
    commands: perPort((h, p) => [
      "timeout",
      "1.5",
      "bash",
      "-c",
      `exec 3<>/dev/tcp/${h}/${p}`,
    ]),
  },
  { name: "python3", ipv6: true, commands: perPort((h, p) => ["python3", "-c", PY_CONNECT, h, p]) },
  { name: "knock", ipv6: true, commands: (h) => [["knock", h, ...PORTS]] },
  {
    name: "knock-twice",
    ipv6: true,
    commands: (h) => PORTS.flatMap((p) => [["knock", h, p], ["knock", h, p]]),
  },
  {
    name: "hping3",
    ipv6: false,
    commands: perPort((h, p) => ["hping3", "-q", "-S", "-c", "1", "-p", p, h]),
  },
  {
    name: "knocktool",
    ipv6: true,
    commands: (h) => [knocktoolArgv("knock", h, ...PORTS)],
  },
];

/** The nftables rules a case puts in front of the knock ports. */
const RULES = {
  drop: "drop",
  "reject-tcp-reset": "reject with tcp reset",
  "reject-icmp": "reject with icmpx type port-unreachable",
} as const;

type RuleName = keyof typeof RULES;

function nftRules(rule: RuleName): string {
  return `table inet ktclients {
  chain input {
    type filter hook input priority 0; policy accept;
    tcp dport { ${PORTS.join(", ")} } ${RULES[rule]}
  }
}
`;
}

function doorConfig(markDir: string): string {
  return `[options]
[${DOOR}]
    sequence    = ${PORTS.join(",")}
    seq_timeout = 600
    tcpflags    = syn
    command     = touch ${markDir}/%IP%
`;
}

/** One client knocking over one family from its own address. */
interface Knocker {
  readonly client: Client;
  readonly family: 4 | 6;
  readonly ns: Netns;
  /** Its source address. */
  readonly src: string;
}

/** Key of a knocker in results: `nmap/4`. */
const key = (k: Knocker) => `${k.client.name}/${k.family}`;

/** The network: server, bridge, one namespace per client, the sentinel. */
interface Net {
  readonly srv: Netns;
  readonly bridge: string;
  readonly sentinel: Netns;
  readonly knockers: readonly Knocker[];
  readonly all: readonly Netns[];
}

async function buildNet(): Promise<Net> {
  const all: Netns[] = [];
  try {
    const srv = await Netns.create("clis");
    all.push(srv);
    const bridge = uniqueIfName("br");
    await srv.exec([
      "ip",
      "link",
      "add",
      bridge,
      "type",
      "bridge",
      "forward_delay",
      "0",
      "mcast_snooping",
      "0",
    ]);
    await srv.addAddress(bridge, `${SRV4}/24`);
    await srv.addAddress(bridge, `${SRV6}/64`);
    await srv.exec(["ip", "link", "set", bridge, "up"]);
    const attach = async (ns: Netns, v4: string, v6: string) => {
      const [port] = await vethPair(srv, ns, { addrsB: [`${v4}/24`, `${v6}/64`] });
      await srv.exec(["ip", "link", "set", port, "master", bridge]);
    };
    const sentinel = await Netns.create("clin");
    all.push(sentinel);
    await attach(sentinel, SENTINEL4, SENTINEL6);
    const knockers: Knocker[] = [];
    for (const [i, client] of CLIENTS.entries()) {
      const ns = await Netns.create("clic");
      all.push(ns);
      const v4 = `192.0.2.${10 + i}`;
      const v6 = `2001:db8::${10 + i}`;
      await attach(ns, v4, v6);
      knockers.push({ client, family: 4, ns, src: v4 });
      if (client.ipv6) knockers.push({ client, family: 6, ns, src: v6 });
    }
    return { srv, bridge, sentinel, knockers, all };
  } catch (e) {
    for (const ns of all.reverse()) await ns.destroy();
    throw e;
  }
}

/** A running server daemon with its own config, log and marker directory. */
interface Daemon {
  readonly label: string;
  readonly proc: BgProcess;
  readonly logPath: string;
  readonly markDir: string;
  log(): string;
}

async function startDaemon(
  srv: Netns,
  label: string,
  argv: (conf: string, log: string) => string[],
  config: (markDir: string) => string = doorConfig,
): Promise<Daemon> {
  const dir = `${srv.dir}/${label}`;
  const markDir = `${dir}/marks`;
  await Deno.mkdir(markDir, { recursive: true });
  const conf = `${dir}/knockd.conf`;
  const logPath = `${dir}/log`;
  await Deno.writeTextFile(conf, config(markDir));
  const proc = await startServer(srv, label, argv(conf, logPath), { logPath, cwd: dir });
  return { label, proc, logPath, markDir, log: () => readText(logPath) };
}

const openLine = (src: string, door = DOOR) => `${src}: ${door}: OPEN SESAME`;

function opens(d: Daemon, src: string, door = DOOR): number {
  return d.log().split("\n").filter((l) => l.endsWith(openLine(src, door))).length;
}

/** The sentinel knocks the door (one SYN per port); every daemon must log its n-th opening. */
async function sentinelKnock(net: Net, daemons: readonly Daemon[], n: number): Promise<void> {
  for (const [host, src] of [[SRV4, SENTINEL4], [SRV6, SENTINEL6]] as const) {
    await net.sentinel.exec(["knock", host, ...PORTS]);
    for (const d of daemons) {
      await waitUntil(() => opens(d, src) >= n, {
        timeoutMs: 15_000,
        what: `${d.label} to log the sentinel's opening number ${n} from ${src}`,
        context: () => d.proc.describe() + d.log(),
      });
    }
  }
}

/** Runs one client's knock; its own failures (no answer, refused) are expected and ignored. */
async function knock(k: Knocker): Promise<string> {
  const host = k.family === 6 ? SRV6 : SRV4;
  const out: string[] = [];
  for (const argv of k.client.commands(host, k.family)) {
    // Bounded: no client may hang the tier.
    const r = await k.ns.exec(["timeout", "30", ...argv], { check: false });
    out.push(`$ ${argv.join(" ")} -> ${r.code}\n${r.stdout}${r.stderr}`);
  }
  return out.join("");
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** What one daemon did for each knocker: opened (log) and its command's marker. */
async function results(d: Daemon, knockers: readonly Knocker[]): Promise<Map<string, boolean>> {
  const m = new Map<string, boolean>();
  for (const k of knockers) {
    const opened = opens(d, k.src) > 0;
    const marker = `${d.markDir}/${k.src}`;
    if (opened) {
      await waitUntil(() => exists(marker), {
        timeoutMs: 10_000,
        what: `${d.label}'s door command to create "${marker}"`,
        context: () => d.proc.describe() + d.log(),
      });
    } else {
      ok(!(await exists(marker)), `${d.label}: a marker for ${key(k)} without an opening`);
    }
    m.set(key(k), opened);
  }
  return m;
}

/** Runs one case: the rule, the daemons, every knocker at once, the barrier; returns results. */
async function runCase(
  net: Net,
  rule: RuleName,
  strict: boolean,
): Promise<{ knocktool: Map<string, boolean>; knockd?: Map<string, boolean>; context: string }> {
  await net.srv.exec(["nft", "-f", "-"], {
    stdin: `table inet ktclients\ndelete table inet ktclients\n${nftRules(rule)}`,
  });
  const tag = `${rule}-${strict ? "strict" : "default"}`;
  const daemons: Daemon[] = [];
  try {
    daemons.push(
      await startDaemon(
        net.srv,
        `knocktool-${tag}`,
        (conf, log) => serveArgv(net.bridge, conf, log, ...(strict ? ["--knockd-strict"] : [])),
      ),
    );
    if (strict) {
      daemons.push(
        await startDaemon(net.srv, `knockd-${tag}`, (conf, log) => [
          KNOCKD,
          "-i",
          net.bridge,
          "-c",
          conf,
          "-g",
          log,
        ]),
      );
    }
    await sentinelKnock(net, daemons, 1);
    // Default mode: all at once (attempts are independent). Strict mode: one knocker after the
    // other, because knockd drops every attempt in progress when it removes the oldest one
    // (docs/COMPATIBILITY.md B1), which knocktool fixes in both modes: concurrent knockers would
    // compare B1, not the matching. The long Seq_Timeout keeps the sweep from removing an attempt
    // left behind while a later knocker is half-way.
    const outputs: string[] = [];
    if (strict) { for (const k of net.knockers) outputs.push(await knock(k)); }
    else outputs.push(...await Promise.all(net.knockers.map(knock)));
    await sentinelKnock(net, daemons, 2);
    const [kt, kd] = [daemons[0]!, daemons[1]];
    const context = () =>
      daemons.map((d) => `--- ${d.label} log:\n${d.log()}`).join("") +
      net.knockers.map((k, i) => `--- ${key(k)} from ${k.src}:\n${outputs[i]}`).join("");
    return {
      knocktool: await results(kt, net.knockers),
      ...(kd === undefined ? {} : { knockd: await results(kd, net.knockers) }),
      context: context(),
    };
  } finally {
    for (const d of daemons) await d.proc.stop("SIGTERM");
  }
}

function table(m: Map<string, boolean>): string {
  return [...m].map(([k, v]) => `${k}:${v ? "open" : "shut"}`).join(" ");
}

async function have(argv: string[]): Promise<boolean> {
  return await run(argv, { check: false }).then((r) => r.code === 0, () => false);
}

const available = (await canUseNetns()) && (await have(["nft", "--version"])) &&
  (await have(["test", "-x", KNOCKD])) && (await have(["knock", "-V"])) &&
  (await have([
    "sh",
    "-c",
    "command -v nmap && command -v curl && command -v bash && command -v timeout && " +
    "command -v python3 && command -v hping3 && nc -h 2>&1 | grep -q OpenBSD",
  ]));
const PREREQ =
  "Cannot run the clients tier: needs root, ip, nft, knockd, knock, nmap, OpenBSD nc, " +
  "curl, bash, timeout, python3 and hping3";
const FILTER = Deno.env.get("KT_CLIENTS_FILTER");

const CASES = (Object.keys(RULES) as RuleName[]).flatMap((rule) =>
  [false, true].map((strict) => ({
    rule,
    strict,
    name: `${rule}, ${
      strict ? "--knockd-strict opens exactly where knockd 0.8 opens" : "every client opens"
    }`,
  }))
).filter((c) => FILTER === undefined || c.name.includes(FILTER));

Deno.test({
  name: "clients e2e: real clients through DROP and REJECT rules, IPv4 and IPv6",
  ignore: ignoreUnlessCi(available),
  async fn(t) {
    ok(available, PREREQ);
    // One network for every case: each case loads its rule and starts its own daemons.
    const net = await buildNet();
    try {
      for (const c of CASES) {
        await t.step(c.name, async () => {
          const r = await runCase(net, c.rule, c.strict);
          const mode = c.strict ? "strict" : "default";
          console.log(`${c.rule} ${mode} knocktool: ${table(r.knocktool)}`);
          if (r.knockd !== undefined) {
            console.log(`${c.rule} ${mode} knockd:    ${table(r.knockd)}`);
            deepStrictEqual(r.knocktool, r.knockd, `knocktool differs from knockd\n${r.context}`);
          } else {
            const all = new Map(net.knockers.map((k) => [key(k), true]));
            deepStrictEqual(r.knocktool, all, `a client did not open the door\n${r.context}`);
          }
        });
      }
    } finally {
      for (const ns of [...net.all].reverse()) await ns.destroy();
    }
  },
});

/** `knocktool serve` (default mode) on `iface`, logging to its own file. */
const defaultServe = (iface: string) => (conf: string, log: string) => serveArgv(iface, conf, log);

const FLAG_DOORS = (markDir: string) =>
  `[options]
[flagDoor]
    sequence    = 7000:tcp:syn,8000:tcp:fin+urg+psh,9000:tcp:none
    seq_timeout = 60
    command     = touch ${markDir}/flag-%IP%
[plainDoor]
    sequence    = 7100,8100,9100
    seq_timeout = 60
    tcpflags    = syn
    command     = touch ${markDir}/plain-%IP%
`;

/** The three examples of tportknockd's page, with a marker command each. */
const TPORTKNOCKD_EXAMPLES = (markDir: string) =>
  `<SSH>
 sequence      = udp:1234 tcp:543 tcp:543:i tcp:123:frap tcp:434:x tcp:2345:n
 timeout       = 10
 start_command = touch ${markDir}/SSH-%IP%
 stop_command  = rm ${markDir}/SSH-%IP%
 command_delay = 30
</SSH>

<OpenVPN>
 sequence      = tcp:12430:a tcp:2711:i tcp:123:i tcp:8375:n tcp:1155:n
 timeout       = 10
 start_command = touch ${markDir}/OpenVPN-%IP%
</OpenVPN>

<SSH2>
 sequence      = tcp:110:x tcp:110:up tcp:110:up tcp:110:n tcp:110:i
 timeout       = 10
 start_command = touch ${markDir}/SSH2-%IP%
 stop_command  = rm ${markDir}/SSH2-%IP%
 command_delay = 30
</SSH2>
`;

Deno.test({
  name: "clients e2e: knocktool knock drives flag doors (notation and tportknockd frames) " +
    "and knocks both families of a name with -A, through a DROP rule",
  ignore: ignoreUnlessCi(available),
  async fn(t) {
    ok(available, PREREQ);
    const srv = await Netns.create("clfs");
    let cli: Netns | undefined;
    const etc: string[] = [];
    try {
      cli = await Netns.create("clfc");
      const [srvIf] = await vethPair(srv, cli, {
        addrsA: [`${SRV4}/24`, `${SRV6}/64`],
        addrsB: ["192.0.2.2/24", "192.0.2.3/24", "192.0.2.4/24", "192.0.2.5/24", "2001:db8::2/64"],
      });
      await srv.exec(["nft", "-f", "-"], {
        stdin: `table inet ktclients {
  chain input {
    type filter hook input priority 0; policy accept;
    tcp dport { 7000, 8000, 9000, 7100, 8100, 9100, 543, 123, 434, 2345, 12430, 2711, 8375, 1155, 110 } drop
    udp dport 1234 drop
  }
}
`,
      });
      const hosts = `/etc/netns/${cli.name}`;
      etc.push(hosts);
      await Deno.mkdir(hosts, { recursive: true });
      await Deno.writeTextFile(`${hosts}/hosts`, `${SRV4} door.test\n${SRV6} door.test\n`);
      const d = await startDaemon(srv, "knocktool", defaultServe(srvIf), FLAG_DOORS);
      const client = cli;
      const knock = async (args: string[]) => {
        const r = await client.exec(knocktoolArgv("knock", ...args), { check: false });
        deepStrictEqual(r.code, 0, `knocktool knock ${args.join(" ")}\n${r.stderr}${r.stdout}`);
      };
      const opened = (src: string, door: string) =>
        waitUntil(() => opens(d, src, door) > 0, {
          timeoutMs: 15_000,
          what: `${door} to open for ${src}`,
          context: () => d.proc.describe() + d.log(),
        });

      await t.step("flag steps in the notation open the flag door, IPv4 and IPv6", async () => {
        for (const host of [SRV4, SRV6]) {
          await knock([host, "7000:tcp:syn", "8000:tcp:fin+urg+psh", "9000:tcp:none"]);
        }
        await opened("192.0.2.2", "flagDoor");
        await opened("2001:db8::2", "flagDoor");
      });

      await t.step("a wrong flag keeps it shut; tportknockd's frames open it", async () => {
        await knock([
          "--source",
          "192.0.2.3",
          SRV4,
          "7000:tcp:syn",
          "8000:tcp:fin",
          "9000:tcp:none",
        ]);
        // The next knocker is the barrier: the daemon reads packets in order.
        await knock(["--source", "192.0.2.4", SRV4, "tcp:7000:s", "tcp:8000:fup", "tcp:9000"]);
        await opened("192.0.2.4", "flagDoor");
        deepStrictEqual(opens(d, "192.0.2.3", "flagDoor"), 0, d.log());
      });

      await t.step("without -A one family is knocked, with -A both", async () => {
        await knock(["door.test", "7100", "8100", "9100"]);
        await waitUntil(
          () => opens(d, "192.0.2.2", "plainDoor") + opens(d, "2001:db8::2", "plainDoor") > 0,
          { timeoutMs: 15_000, what: "plainDoor to open", context: () => d.log() },
        );
        deepStrictEqual(
          opens(d, "192.0.2.2", "plainDoor") + opens(d, "2001:db8::2", "plainDoor"),
          1,
          `one family only without -A\n${d.log()}`,
        );
        await knock(["-A", "door.test", "7100", "8100", "9100"]);
        await waitUntil(
          () => opens(d, "192.0.2.2", "plainDoor") + opens(d, "2001:db8::2", "plainDoor") === 3,
          {
            timeoutMs: 15_000,
            what: "plainDoor to open for both families",
            context: () => d.log(),
          },
        );
        deepStrictEqual(
          [opens(d, "192.0.2.2", "plainDoor") > 0, opens(d, "2001:db8::2", "plainDoor") > 0],
          [true, true],
          d.log(),
        );
        await waitUntil(() => exists(`${d.markDir}/plain-192.0.2.2`), { what: "the v4 marker" });
        await waitUntil(() => exists(`${d.markDir}/plain-2001:db8::2`), { what: "the v6 marker" });
      });
      await d.proc.stop("SIGTERM");

      await t.step(
        "tportknockd's page examples, served as they are, open on their frames",
        async () => {
          const tp = await startDaemon(
            srv,
            "tportknockd",
            defaultServe(srvIf),
            TPORTKNOCKD_EXAMPLES,
          );
          try {
            const wrong = ["tcp:110:x", "tcp:110:up", "tcp:110:up", "tcp:110:s", "tcp:110:i"];
            const cases: [string, string, string[]][] = [
              ["SSH", "192.0.2.2", [
                "udp:1234",
                "tcp:543",
                "tcp:543:i",
                "tcp:123:frap",
                "tcp:434:x",
                "tcp:2345:n",
              ]],
              ["OpenVPN", "192.0.2.3", [
                "tcp:12430:a",
                "tcp:2711:i",
                "tcp:123:i",
                "tcp:8375:n",
                "tcp:1155:n",
              ]],
              ["SSH2", "192.0.2.4", [
                "tcp:110:x",
                "tcp:110:up",
                "tcp:110:up",
                "tcp:110:n",
                "tcp:110:i",
              ]],
            ];
            // A wrong flag first (SSH2 with s where n belongs), then the right knocks: the last
            // opening is the barrier for the wrong one, read in order.
            await knock(["--source", "192.0.2.5", SRV4, ...wrong]);
            for (const [, src, frames] of cases) await knock(["--source", src, SRV4, ...frames]);
            for (const [door, src] of cases) {
              await waitUntil(() => opens(tp, src, door) > 0, {
                timeoutMs: 15_000,
                what: `${door} to open for ${src}`,
                context: () => tp.proc.describe() + tp.log(),
              });
            }
            deepStrictEqual(opens(tp, "192.0.2.5", "SSH2"), 0, tp.log());
          } finally {
            await tp.proc.stop("SIGTERM");
          }
        },
      );
    } finally {
      for (const p of etc) await Deno.remove(p, { recursive: true }).catch(() => {});
      await cli?.destroy();
      await srv.destroy();
    }
  },
});
