/**
 * knocktool's knock client beyond knock 0.8, verified on the wire in a private network
 * namespace: TCP flags through a raw socket (`--flags`, `PORT:tcp:FLAGS`, tportknockd's
 * `tcp:PORT:LETTERS` frames) for IPv4 and IPv6, `-A` over a name with A and AAAA records,
 * with checksums the kernel accepts (it answers each with a RST), `--source`, `--interface`, the
 * error without CAP_NET_RAW, and `--check` against a listener that is or is not there.
 *
 * Needs root, `ip`, tcpdump, setpriv and python3; fails under CI=true when one is missing.
 *
 * @module
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { type CapturedPacket, captureLo } from "../testing/lo_capture.ts";
import {
  canUseNetns,
  ignoreUnlessCi,
  type Netns,
  run,
  waitUntil,
  withNetns,
} from "../testing/netns.ts";

const MAIN = Deno.env.get("KNOCKTOOL_MAIN") ?? new URL("../main.ts", import.meta.url).pathname;

async function have(program: string): Promise<boolean> {
  try {
    return (await run(["sh", "-c", `command -v ${program}`], { check: false })).code === 0;
  } catch {
    return false;
  }
}

const available = (await canUseNetns()) && (await have("tcpdump")) &&
  (await have("setpriv")) && (await have("python3"));

type Pkt = CapturedPacket;

const FLAG_NAMES = ["F", "S", "R", "P", "A", "U", "E", "W"];

function describe(p: Pkt): string {
  if (p.proto === "udp") return `udp ${p.family} ${p.src} > ${p.dstPort} len ${p.payloadLen}`;
  const f = FLAG_NAMES.filter((_, i) => (p.flags & (1 << i)) !== 0).join("");
  return `tcp ${p.family} ${p.src} > ${p.dstPort} [${f}]`;
}

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
  /** Packets sent to the knocked ports (the client's hits), in order. */
  hits: string[];
  all: Pkt[];
}

/** Runs `knocktool knock ARGS` in `ns` (optionally behind a prefix such as setpriv), captured. */
async function knocktool(
  ns: Netns,
  args: string[],
  ports: number[],
  prefix: string[] = [],
): Promise<Outcome> {
  let r = { code: -1, stdout: "", stderr: "" };
  const all = await captureLo(ns, async () => {
    r = await ns.exec([...prefix, Deno.execPath(), "run", "-A", MAIN, "knock", ...args], {
      check: false,
    });
  });
  const set = new Set(ports);
  return { ...r, all, hits: all.filter((p) => set.has(p.dstPort)).map(describe) };
}

function detail(o: Outcome): string {
  return `status ${o.code}\nstdout:\n${o.stdout}stderr:\n${o.stderr}packets:\n${
    o.all.map((p) => `${describe(p)} from ${p.srcPort}`).join("\n")
  }`;
}

/** Each raw hit must be answered with a RST: the kernel accepted our checksum. */
function assertAnswered(o: Outcome, ports: number[]): void {
  for (const p of o.all.filter((p) => ports.includes(p.dstPort) && p.proto === "tcp")) {
    ok(
      o.all.some((q) =>
        q.proto === "tcp" && q.srcPort === p.dstPort && q.dstPort === p.srcPort &&
        (q.flags & 0x04) !== 0
      ),
      `no RST answered ${describe(p)} from ${p.srcPort}: bad checksum?\n${detail(o)}`,
    );
  }
}

Deno.test({
  name: "knock client: TCP flags, source, interface and --check on the wire",
  ignore: ignoreUnlessCi(available),
  async fn(t) {
    ok(available, "needs root, ip netns, tcpdump, setpriv and python3");
    await withNetns(["cli"], async ([ns]) => {
      await ns!.addAddress("lo", "2001:db8::5/128");

      await t.step(
        "--flags for every TCP hit, a per-step override, UDP untouched (IPv4)",
        async () => {
          const o = await knocktool(
            ns!,
            ["-v", "--flags", "fin+ack", "127.0.0.1", "7000", "7001:tcp:syn", "7002:udp"],
            [7000, 7001, 7002],
          );
          strictEqual(o.code, 0, detail(o));
          deepStrictEqual(o.hits, [
            "tcp 4 127.0.0.1 > 7000 [FA]",
            "tcp 4 127.0.0.1 > 7001 [S]",
            "udp 4 127.0.0.1 > 7002 len 1",
          ], detail(o));
          strictEqual(
            o.stdout,
            "hitting tcp 127.0.0.1:7000 (fin+ack)\nhitting tcp 127.0.0.1:7001 (syn)\n" +
              "hitting udp 127.0.0.1:7002\n",
          );
          assertAnswered(o, [7000, 7001]);
        },
      );

      await t.step("-vv and -v -v knock and print as -v does (knock 0.8 takes them)", async () => {
        for (const v of [["-vv"], ["-v", "-v"]]) {
          const o = await knocktool(ns!, [...v, "127.0.0.1", "7000", "7001:udp"], [7000, 7001]);
          strictEqual(o.code, 0, detail(o));
          deepStrictEqual(o.hits, ["tcp 4 127.0.0.1 > 7000 [S]", "udp 4 127.0.0.1 > 7001 len 1"]);
          deepStrictEqual(
            [o.stdout, o.stderr],
            ["hitting tcp 127.0.0.1:7000\nhitting udp 127.0.0.1:7001\n", ""],
          );
        }
      });

      await t.step("the notation PORT:tcp:FLAGS, one step each, IPv4 and IPv6", async () => {
        for (const host of ["127.0.0.1", "::1"]) {
          const fam = host === "::1" ? 6 : 4;
          const o = await knocktool(
            ns!,
            ["-v", host, "7000:tcp:syn", "8000:tcp:fin+urg+psh", "9000:tcp:none", "1000:udp"],
            [7000, 8000, 9000, 1000],
          );
          strictEqual(o.code, 0, detail(o));
          deepStrictEqual(o.hits, [
            `tcp ${fam} ${host} > 7000 [S]`,
            `tcp ${fam} ${host} > 8000 [FPU]`,
            `tcp ${fam} ${host} > 9000 []`,
            `udp ${fam} ${host} > 1000 len 1`,
          ], detail(o));
          strictEqual(
            o.stdout,
            `hitting tcp ${host}:7000 (syn)\nhitting tcp ${host}:8000 (fin+psh+urg)\n` +
              `hitting tcp ${host}:9000 (none)\nhitting udp ${host}:1000\n`,
          );
          assertAnswered(o, [7000, 8000]);
        }
      });

      await t.step("tportknockd's frames: tcp:PORT[:LETTERS] and udp:PORT", async () => {
        const o = await knocktool(
          ns!,
          ["127.0.0.1", "tcp:7000:s", "tcp:7001", "tcp:7002:x", "tcp:7003:i", "tcp:7004:frap"]
            .concat(["tcp:7005:up", "udp:7006"]),
          [7000, 7001, 7002, 7003, 7004, 7005, 7006],
        );
        strictEqual(o.code, 0, detail(o));
        deepStrictEqual(o.hits, [
          "tcp 4 127.0.0.1 > 7000 [S]",
          "tcp 4 127.0.0.1 > 7001 []",
          "tcp 4 127.0.0.1 > 7002 [FSRPAU]",
          "tcp 4 127.0.0.1 > 7003 [S]",
          "tcp 4 127.0.0.1 > 7004 [FRPA]",
          "tcp 4 127.0.0.1 > 7005 [PU]",
          "udp 4 127.0.0.1 > 7006 len 1",
        ], detail(o));
        const bad = await knocktool(ns!, ["127.0.0.1", "tcp:7000:s", "tcp:7001:q"], [7000, 7001]);
        strictEqual(bad.code, 1, detail(bad));
        strictEqual(
          bad.stderr,
          'Cannot parse frame "tcp:7001:q": unknown flag "q" in "q" (use letters from fsrpauxni)\n',
        );
        deepStrictEqual(bad.hits, [], "a bad argument sends nothing");
      });

      await t.step("-A knocks every address of a name, whole sequence per address", async () => {
        const etc = `/etc/netns/${ns!.name}`;
        await Deno.mkdir(etc, { recursive: true });
        try {
          await Deno.writeTextFile(`${etc}/hosts`, "127.0.0.1 both.test\n::1 both.test\n");
          const one = await knocktool(ns!, ["both.test", "7000", "8000:tcp:fin"], [7000, 8000]);
          strictEqual(one.code, 0, detail(one));
          strictEqual(one.hits.length, 2, `without -A one address only\n${detail(one)}`);
          const o = await knocktool(
            ns!,
            ["-A", "-v", "both.test", "7000", "8000:tcp:fin", "9000:udp"],
            [7000, 8000, 9000],
          );
          strictEqual(o.code, 0, detail(o));
          const seq = (fam: 4 | 6, a: string) => [
            `tcp ${fam} ${a} > 7000 [S]`,
            `tcp ${fam} ${a} > 8000 [F]`,
            `udp ${fam} ${a} > 9000 len 1`,
          ];
          const v6First = o.hits[0]?.startsWith("tcp 6") === true;
          deepStrictEqual(
            o.hits,
            v6First
              ? [...seq(6, "::1"), ...seq(4, "127.0.0.1")]
              : [...seq(4, "127.0.0.1"), ...seq(6, "::1")],
            detail(o),
          );
          const four = await knocktool(ns!, ["-A", "-4", "both.test", "7000"], [7000]);
          deepStrictEqual(four.hits, ["tcp 4 127.0.0.1 > 7000 [S]"], detail(four));
        } finally {
          await Deno.remove(etc, { recursive: true });
        }
      });

      await t.step("per-step flags over IPv6, then a plain connect hit", async () => {
        const o = await knocktool(ns!, ["::1", "7000:tcp:fin,psh,urg", "7001"], [7000, 7001]);
        strictEqual(o.code, 0, detail(o));
        deepStrictEqual(o.hits, ["tcp 6 ::1 > 7000 [FPU]", "tcp 6 ::1 > 7001 [S]"], detail(o));
        assertAnswered(o, [7000]);
      });

      await t.step("--source sets the source of raw, TCP and UDP hits", async () => {
        const o = await knocktool(
          ns!,
          ["--source", "127.0.0.5", "127.0.0.1", "7000:tcp:rst", "7001", "7002:udp"],
          [7000, 7001, 7002],
        );
        strictEqual(o.code, 0, detail(o));
        deepStrictEqual(o.hits, [
          "tcp 4 127.0.0.5 > 7000 [R]",
          "tcp 4 127.0.0.5 > 7001 [S]",
          "udp 4 127.0.0.5 > 7002 len 1",
        ], detail(o));
        const o6 = await knocktool(
          ns!,
          ["--source", "2001:db8::5", "::1", "7000:tcp:fin", "7001"],
          [7000, 7001],
        );
        strictEqual(o6.code, 0, detail(o6));
        deepStrictEqual(
          o6.hits,
          ["tcp 6 2001:db8::5 > 7000 [F]", "tcp 6 2001:db8::5 > 7001 [S]"],
          detail(o6),
        );
        assertAnswered(o6, [7000]);
      });

      await t.step("--source of the wrong family or not local is an error", async () => {
        const o = await knocktool(ns!, ["--source", "127.0.0.1", "::1", "7000"], [7000]);
        strictEqual(o.code, 1, detail(o));
        strictEqual(
          o.stderr,
          'Cannot send from "127.0.0.1" to "::1": the address families differ\n',
        );
        deepStrictEqual(o.hits, []);
        const o2 = await knocktool(ns!, ["--source", "192.0.2.77", "127.0.0.1", "7000"], [7000]);
        strictEqual(o2.code, 1, detail(o2));
        strictEqual(
          o2.stderr,
          'Cannot bind to source "192.0.2.77": cannot assign requested address\n',
        );
      });

      await t.step("--interface binds the hits; an unknown interface is an error", async () => {
        const o = await knocktool(
          ns!,
          ["--interface", "lo", "127.0.0.1", "7000:tcp:fin", "7001"],
          [7000, 7001],
        );
        strictEqual(o.code, 0, detail(o));
        deepStrictEqual(o.hits, ["tcp 4 127.0.0.1 > 7000 [F]", "tcp 4 127.0.0.1 > 7001 [S]"]);
        const bad = await knocktool(
          ns!,
          ["--interface", "nosuch0", "127.0.0.1", "7000"],
          [7000],
        );
        strictEqual(bad.code, 1, detail(bad));
        strictEqual(bad.stderr, 'Cannot bind to interface "nosuch0": no such device\n');
        deepStrictEqual(bad.hits, []);
      });

      await t.step("without CAP_NET_RAW: a clear error before any hit", async () => {
        const o = await knocktool(
          ns!,
          ["127.0.0.1", "7001", "7000:tcp:fin"],
          [7000, 7001],
          ["setpriv", "--bounding-set", "-net_raw", "--"],
        );
        strictEqual(o.code, 1, detail(o));
        strictEqual(
          o.stderr,
          "Cannot open a raw socket: operation not permitted: --flags needs root or CAP_NET_RAW\n",
        );
        deepStrictEqual(o.hits, [], "no hit may be sent when the sequence cannot be completed");
      });

      await t.step("bad flag lists are usage errors", async () => {
        const o = await knocktool(ns!, ["--flags", "fin,foo", "127.0.0.1", "7000"], [7000]);
        strictEqual(o.code, 1, detail(o));
        strictEqual(
          o.stderr,
          'Cannot parse TCP flags "fin,foo": unknown flag "foo" ' +
            '(use fin, syn, rst, psh, ack, urg, ece, cwr joined by "+", or none, or any)\n',
        );
        const o2 = await knocktool(ns!, ["127.0.0.1", "7000:udp:fin"], [7000]);
        strictEqual(o2.code, 1, detail(o2));
        strictEqual(
          o2.stderr,
          'Cannot parse port "7000:udp:fin": flags need protocol "tcp", not "udp"\n',
        );
        deepStrictEqual([...o.hits, ...o2.hits], []);
      });

      await t.step("--check: exit 0 when the port answers, 3 after bounded retries", async () => {
        const server = ns!.spawn("http", [
          "python3",
          "-m",
          "http.server",
          "8080",
          "--bind",
          "127.0.0.1",
        ]);
        try {
          await waitUntil(
            async () =>
              (await ns!.exec(["python3", "-c", PROBE_8080], { check: false })).code === 0,
            { what: "the listener on 8080", context: () => server.describe() },
          );
          const good = await knocktool(
            ns!,
            ["-v", "127.0.0.1", "7000", "--check", "8080"],
            [7000, 8080],
          );
          strictEqual(good.code, 0, detail(good));
          strictEqual(
            good.stdout,
            "hitting tcp 127.0.0.1:7000\ndoor open: connected to 127.0.0.1 port 8080 (attempt 1)\n",
          );
          const bad = await knocktool(
            ns!,
            [
              "127.0.0.1",
              "7000",
              "--check",
              "8081",
              "--check-retries",
              "3",
              "--check-interval",
              "100",
            ],
            [7000, 8081],
          );
          strictEqual(bad.code, 3, detail(bad));
          strictEqual(
            bad.stderr,
            'Cannot connect to "127.0.0.1" port "8081" after 3 attempts: ' +
              "the door did not open (connection refused)\n",
          );
          deepStrictEqual(bad.hits, [
            "tcp 4 127.0.0.1 > 7000 [S]",
            "tcp 4 127.0.0.1 > 8081 [S]",
            "tcp 4 127.0.0.1 > 8081 [S]",
            "tcp 4 127.0.0.1 > 8081 [S]",
          ], detail(bad));
        } finally {
          await server.stop("SIGTERM");
        }
      });

      await t.step("-A --check checks every address; exit 3 names each one closed", async () => {
        const etc = `/etc/netns/${ns!.name}`;
        await Deno.mkdir(etc, { recursive: true });
        const listen = (bind: string) =>
          ns!.spawn(`http${bind.length}`, ["python3", "-m", "http.server", "8090", "--bind", bind]);
        const ready = (host: string) => async () =>
          (await ns!.exec(["python3", "-c", probe(host, 8090)], { check: false })).code === 0;
        const servers = [listen("127.0.0.1")];
        try {
          await Deno.writeTextFile(`${etc}/hosts`, "127.0.0.1 both.test\n::1 both.test\n");
          await waitUntil(ready("127.0.0.1"), {
            what: "the listener on 127.0.0.1 8090",
            context: () => servers[0]!.describe(),
          });
          const args = ["-A", "-v", "both.test", "7000", "--check", "8090"];
          const retries = ["--check-retries", "2", "--check-interval", "100"];
          // Only the IPv4 address answers: the door is not open on ::1.
          const half = await knocktool(ns!, [...args, ...retries], [7000]);
          strictEqual(half.code, 3, detail(half));
          ok(
            half.stdout.includes("door open: connected to 127.0.0.1 port 8090 (attempt 1)\n"),
            detail(half),
          );
          strictEqual(
            half.stderr,
            'Cannot connect to "::1" port "8090" after 2 attempts: the door did not open ' +
              "(connection refused)\n",
          );
          servers.push(listen("::1"));
          await waitUntil(ready("::1"), {
            what: "the listener on ::1 8090",
            context: () => servers[1]!.describe(),
          });
          const both = await knocktool(ns!, args, [7000]);
          strictEqual(both.code, 0, detail(both));
          deepStrictEqual(
            both.stdout.split("\n").filter((l) => l.startsWith("door open")).sort(),
            [
              "door open: connected to 127.0.0.1 port 8090 (attempt 1)",
              "door open: connected to ::1 port 8090 (attempt 1)",
            ],
            detail(both),
          );
        } finally {
          for (const s of servers) await s.stop("SIGTERM");
          await Deno.remove(etc, { recursive: true });
        }
      });

      await t.step(
        "a knocktool serve door with tcpflags = fin,!ack opens only for FIN hits",
        async () => {
          const marker = `${ns!.dir}/opened`;
          const conf = `${ns!.dir}/knockd.conf`;
          await Deno.writeTextFile(
            conf,
            `[options]\n  logfile = ${ns!.dir}/knockd.log\n  interface = lo\n` +
              `[finDoor]\n  sequence = 7000,8000,9000\n  seq_timeout = 10\n` +
              `  tcpflags = fin,!ack\n  command = touch ${marker}\n`,
          );
          const serve = ns!.spawn("serve", [
            Deno.execPath(),
            "run",
            "-A",
            MAIN,
            "serve",
            "-c",
            conf,
            "-v",
          ]);
          try {
            await waitUntil(() => serve.stdout().includes("listening on lo"), {
              what: "knocktool serve to listen",
              context: () => serve.describe(),
            });
            // Plain SYN hits and FIN+ACK hits do not match the flags: knockd ignores them.
            const syn = await knocktool(ns!, ["127.0.0.1", "7000", "8000", "9000"], [7000]);
            strictEqual(syn.code, 0, detail(syn));
            const finAck = await knocktool(
              ns!,
              ["--flags", "fin,ack", "127.0.0.1", "7000", "8000", "9000"],
              [7000],
            );
            strictEqual(finAck.code, 0, detail(finAck));
            const fin = await knocktool(
              ns!,
              ["--flags", "fin", "127.0.0.1", "7000", "8000", "9000"],
              [7000, 8000, 9000],
            );
            strictEqual(fin.code, 0, detail(fin));
            deepStrictEqual(fin.hits, [
              "tcp 4 127.0.0.1 > 7000 [F]",
              "tcp 4 127.0.0.1 > 8000 [F]",
              "tcp 4 127.0.0.1 > 9000 [F]",
            ]);
            await waitUntil(async () => await exists(marker), {
              what: "the door's command to create its marker",
              context: () => serve.describe(),
            });
            const stages = serve.stdout().split("\n").filter((l) => l.includes("finDoor: Stage"));
            deepStrictEqual(
              stages,
              [
                "127.0.0.1: finDoor: Stage 1",
                "127.0.0.1: finDoor: Stage 2",
                "127.0.0.1: finDoor: Stage 3",
              ],
              `only the FIN hits count\n${serve.describe()}`,
            );
          } finally {
            await serve.stop("SIGTERM");
          }
        },
      );
    });
  },
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** A python3 snippet that exits 0 when `host` accepts a TCP connection on `port`. */
function probe(host: string, port: number): string {
  const family = host.includes(":") ? "socket.AF_INET6" : "socket.AF_INET";
  return `import socket,sys\ns=socket.socket(${family})\ntry:\n s.connect(('${host}',${port}))\nexcept OSError:\n sys.exit(1)`;
}

const PROBE_8080 =
  "import socket,sys\ns=socket.socket()\ntry:\n s.connect(('127.0.0.1',8080))\nexcept OSError:\n sys.exit(1)";
