/**
 * Differential wire test of the knock client: Debian's knock 0.8 and knocktool get the SAME
 * argument sets inside a private network namespace, and what they put on `lo` (captured with
 * tcpdump) must agree hit for hit: family, protocol, destination port, UDP payload length,
 * order, count (exactly one SYN per TCP hit) and pacing with `-d`; exit statuses and
 * stdout/stderr too.
 *
 * Three programs per case: `knock` (the reference), knocktool's knock-link mode
 * (`runKnockCompat`, which must match knock byte for byte, usage texts included) and
 * `knocktool knock` (main.ts; same wire and runtime messages, but its own option parser, so
 * usage errors and `-h` differ by design).
 *
 * Needs root, `ip`, tcpdump and Debian's knock; fails under CI=true when one is missing.
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
  sleep,
  withNetns,
} from "../testing/netns.ts";

const MAIN = Deno.env.get("KNOCKTOOL_MAIN") ?? new URL("../main.ts", import.meta.url).pathname;
const COMPAT_MODULE = new URL("../src/cli/knock.ts", import.meta.url).href;
const IO_MODULE = new URL("../src/util/io.ts", import.meta.url).href;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;

async function have(program: string): Promise<boolean> {
  try {
    return (await run(["sh", "-c", `command -v ${program}`], { check: false })).code === 0;
  } catch {
    return false;
  }
}

const available = (await canUseNetns()) && (await have("tcpdump")) &&
  (await have("/usr/bin/knock"));

type Hit = CapturedPacket;

/** What one client run did. */
interface RunOutcome {
  code: number;
  stdout: string;
  stderr: string;
  hits: Hit[];
  elapsedMs: number;
}

interface WireCase {
  name: string;
  args: string[];
  /** Expected hits as `proto family port [len]`, derived from knock 0.8's documented behaviour. */
  expect: string[];
  status: number;
  /** Expected stdout (when the case checks it independently of knock). */
  stdout?: string;
  /** knocktool knock's own parser differs for this case (usage errors, -h): its expectation. */
  knocktoolStatus?: number;
  /** knocktool knock's own message (std voice) when it differs from knock's. */
  knocktoolStderr?: string;
  knocktoolArgs?: string[];
  /** -d pacing in ms to check. */
  delayMs?: number;
}

const HOSTS = [
  "127.0.0.1 localhost",
  "::1 localhost ip6-localhost ip6-loopback",
  "127.0.0.9 door.test",
  "127.0.0.10 both.test",
  "2001:db8::10 both.test",
  "",
].join("\n");

const CASES: WireCase[] = [
  {
    name: "a name from the namespace's hosts file, mixed protocols, -v",
    args: ["-v", "door.test", "7000", "7001:udp", "7002"],
    expect: ["tcp 4 7000", "udp 4 7001 1", "tcp 4 7002"],
    status: 0,
    stdout: "hitting tcp 127.0.0.9:7000\nhitting udp 127.0.0.9:7001\nhitting tcp 127.0.0.9:7002\n",
  },
  {
    name: "-4 with a name that has both families",
    args: ["-4", "-v", "both.test", "7000"],
    expect: ["tcp 4 7000"],
    status: 0,
    stdout: "hitting tcp 127.0.0.10:7000\n",
  },
  {
    name: "-6 with a name that has both families",
    args: ["--ipv6", "-v", "both.test", "7000:udp"],
    expect: ["udp 6 7000 1"],
    status: 0,
    stdout: "hitting udp 2001:db8::10:7000\n",
  },
  {
    name: "service names (ssh, domain)",
    args: ["-v", "127.0.0.1", "ssh", "domain:udp"],
    expect: ["tcp 4 22", "udp 4 53 1"],
    status: 0,
    stdout: "hitting tcp 127.0.0.1:ssh\nhitting udp 127.0.0.1:domain\n",
  },
  {
    // knock 0.8 leaves ai_socktype 0, so a UDP-only service name still resolves for a TCP hit.
    name: "a UDP-only service name used for a TCP hit (hints without a socket type)",
    args: ["127.0.0.1", "bootps", "tftp:udp"],
    expect: ["tcp 4 67", "udp 4 69 1"],
    status: 0,
  },
  {
    name: "70000 wraps to 4464 in glibc",
    args: ["127.0.0.1", "70000"],
    expect: ["tcp 4 4464"],
    status: 0,
  },
  {
    name: "1234:UDP is TCP (only exactly lower-case udp is UDP)",
    args: ["-v", "127.0.0.1", "1234:UDP", "1235:foo"],
    expect: ["tcp 4 1234", "tcp 4 1235"],
    status: 0,
  },
  {
    name: "-u overrides :tcp, option after the operands (GNU permutation)",
    args: ["127.0.0.1", "7000:tcp", "7001", "-u"],
    expect: ["udp 4 7000 1", "udp 4 7001 1"],
    status: 0,
  },
  {
    name: "IPv6 literal, -v prints no brackets",
    args: ["-v", "::1", "7000", "7001:udp"],
    expect: ["tcp 6 7000", "udp 6 7001 1"],
    status: 0,
    stdout: "hitting tcp ::1:7000\nhitting udp ::1:7001\n",
  },
  {
    name: "unknown service fails mid-sequence after the first hit",
    args: ["-v", "127.0.0.1", "7000", "nosuchservice", "7001"],
    expect: ["tcp 4 7000"],
    status: 1,
  },
  {
    name: "unresolvable host",
    args: ["nosuchhost.invalid", "7000"],
    expect: [],
    status: 1,
  },
  {
    name: "negative delay",
    args: ["-d", "-5", "127.0.0.1", "7000"],
    expect: [],
    status: 1,
    knocktoolStatus: 1,
    knocktoolStderr: 'Cannot use delay "-5": it must not be negative\n',
  },
  {
    name: "-d pacing: the delay follows every hit, the last one included",
    args: ["-d", "150", "127.0.0.1", "7000", "7001:udp", "7002"],
    expect: ["tcp 4 7000", "udp 4 7001 1", "tcp 4 7002"],
    status: 0,
    delayMs: 150,
  },
  {
    name: "-h prints the usage and exits 1",
    args: ["-h"],
    expect: [],
    status: 1,
    knocktoolArgs: ["--help"],
    knocktoolStatus: 0,
  },
  {
    name: "too few arguments",
    args: ["127.0.0.1"],
    expect: [],
    status: 1,
    knocktoolStatus: 1,
  },
];

function describeHit(h: Hit): string {
  return `${h.proto} ${h.family} ${h.dstPort}${h.proto === "udp" ? ` ${h.payloadLen}` : ""}`;
}

async function timed(
  ns: Netns,
  argv: string[],
): Promise<{ code: number; stdout: string; stderr: string; start: number; end: number }> {
  const start = Date.now();
  const r = await ns.exec(argv, { check: false });
  const end = Date.now();
  return { code: r.code, stdout: r.stdout, stderr: r.stderr, start, end };
}

function checkPacing(label: string, o: RunOutcome, delayMs: number): void {
  const tolerance = 10; // capture timestamps vs usleep granularity
  for (let i = 1; i < o.hits.length; i++) {
    const gap = o.hits[i]!.timeMs - o.hits[i - 1]!.timeMs;
    ok(gap >= delayMs - tolerance, `${label}: gap ${i} is ${gap} ms, less than ${delayMs} ms`);
  }
  ok(
    o.elapsedMs >= o.hits.length * delayMs - tolerance,
    `${label}: ran ${o.elapsedMs} ms, less than ${o.hits.length} × ${delayMs} ms`,
  );
}

Deno.test({
  name: "knock client: knock 0.8 and knocktool send the same hits and print the same",
  ignore: ignoreUnlessCi(available),
  async fn(t) {
    ok(available, "needs root, ip netns, tcpdump and /usr/bin/knock (Debian package knock)");
    await withNetns(["cli"], async ([ns]) => {
      // The IPv6 address of both.test; its IPv4 one is on lo already (127.0.0.0/8).
      await ns!.addAddress("lo", "2001:db8::10/128");
      const hostsDir = `/etc/netns/${ns!.name}`;
      const madeNetnsDir = !(await exists("/etc/netns"));
      await Deno.mkdir(hostsDir, { recursive: true });
      try {
        await Deno.writeTextFile(`${hostsDir}/hosts`, HOSTS);
        const compatScript = `${ns!.dir}/knock-compat.ts`;
        await Deno.writeTextFile(
          compatScript,
          `import { runKnockCompat } from ${JSON.stringify(COMPAT_MODULE)};\n` +
            `import { processIo } from ${JSON.stringify(IO_MODULE)};\n` +
            `Deno.exit(await runKnockCompat(Deno.args, processIo));\n`,
        );
        for (const c of CASES) {
          await t.step(c.name, async () => {
            const runs: Record<
              string,
              { code: number; stdout: string; stderr: string; start: number; end: number }
            > = {};
            const hits = await captureLo(ns!, async () => {
              // knock by name, so that getopt's messages say "knock:" as the compat mode does.
              runs.knock = await timed(ns!, ["knock", ...c.args]);
              await sleep(50);
              runs.compat = await timed(ns!, [
                Deno.execPath(),
                "run",
                "-A",
                "--config",
                CONFIG,
                compatScript,
                ...c.args,
              ]);
              await sleep(50);
              runs.knocktool = await timed(ns!, [
                Deno.execPath(),
                "run",
                "-A",
                MAIN,
                "knock",
                ...(c.knocktoolArgs ?? c.args),
              ]);
            });
            const ports = new Set(
              c.expect.map((e) => Number(e.split(" ")[2])).concat([7000, 7001, 7002]),
            );
            const outcome = (k: string): RunOutcome => {
              const r = runs[k]!;
              return {
                ...r,
                elapsedMs: r.end - r.start,
                hits: hits.filter((h) =>
                  h.timeMs >= r.start - 5 && h.timeMs <= r.end + 5 && ports.has(h.dstPort)
                ),
              };
            };
            const ref = outcome("knock");
            const detail = (k: string) => {
              const o = outcome(k);
              return `${k}: status ${o.code}\nstdout:\n${o.stdout}stderr:\n${o.stderr}hits: ${
                o.hits.map(describeHit).join(", ")
              }\nall packets: ${
                hits.map((h) => `${describeHit(h)}@${h.timeMs}`).join(", ")
              }\nruns: ${JSON.stringify(Object.values(runs).map((r) => [r.start, r.end]))}`;
            };
            // The reference does what knock 0.8 is documented to do (guards the test itself).
            deepStrictEqual(ref.hits.map(describeHit), c.expect, detail("knock"));
            strictEqual(ref.code, c.status, detail("knock"));
            if (c.stdout !== undefined) strictEqual(ref.stdout, c.stdout, detail("knock"));
            for (const k of ["compat", "knocktool"]) {
              const o = outcome(k);
              deepStrictEqual(o.hits.map(describeHit), c.expect, detail(k));
              for (let i = 0; i < o.hits.length; i++) {
                strictEqual(o.hits[i]!.family, ref.hits[i]!.family);
                strictEqual(o.hits[i]!.dst, ref.hits[i]!.dst, `${k}: same destination address`);
              }
              if (c.delayMs !== undefined) checkPacing(k, o, c.delayMs);
            }
            if (c.delayMs !== undefined) checkPacing("knock", ref, c.delayMs);
            const compat = outcome("compat");
            deepStrictEqual(
              { code: compat.code, stdout: compat.stdout, stderr: compat.stderr },
              { code: ref.code, stdout: ref.stdout, stderr: ref.stderr },
              detail("compat"),
            );
            const kt = outcome("knocktool");
            if (c.knocktoolStatus === undefined) {
              deepStrictEqual(
                { code: kt.code, stdout: kt.stdout, stderr: kt.stderr },
                { code: ref.code, stdout: ref.stdout, stderr: ref.stderr },
                detail("knocktool"),
              );
            } else {
              strictEqual(kt.code, c.knocktoolStatus, detail("knocktool"));
              if (c.knocktoolStderr !== undefined) {
                strictEqual(kt.stderr, c.knocktoolStderr, detail("knocktool"));
              }
            }
          });
        }
      } finally {
        await Deno.remove(hostsDir, { recursive: true }).catch(() => {});
        if (madeNetnsDir) await Deno.remove("/etc/netns").catch(() => {});
      }
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
