/**
 * tportknockd files (docs/FLAG-KNOCKING.md): the corpus in tests/testdata/tportknockd/ (the three
 * examples of tportknockd's page and files of our own, accepted and rejected with the exact
 * message and line in expected.json), what the page's examples mean, and that `check` explains
 * them and the matcher opens each on its sequence and stays shut on a wrong flag.
 *
 * @module
 */
import assert from "node:assert/strict";
import { loadConfig } from "../src/config/load.ts";
import { runCheck } from "../src/cli/check.ts";
import { captureIo } from "../src/util/io.ts";
import { Matcher } from "../src/match/matcher.ts";
import type { Packet } from "../src/wire/packet.ts";

const CORPUS = new URL("./testdata/tportknockd/", import.meta.url).pathname;

type Expected =
  | { accept: true; doors: number; format: "tportknockd" }
  | { message: string; line: number };

const expected: Record<string, Expected> = JSON.parse(
  Deno.readTextFileSync(`${CORPUS}expected.json`),
);
const names = [...Deno.readDirSync(CORPUS)].map((e) => e.name).filter((n) => n.endsWith(".conf"))
  .sort();

Deno.test("tportknockd corpus: every file has an expectation, both kinds are there", () => {
  assert.deepEqual(names, Object.keys(expected).sort());
  const accepted = Object.values(expected).filter((e) => "accept" in e).length;
  assert(accepted >= 9 && names.length - accepted >= 25, `${accepted} of ${names.length}`);
});

Deno.test("tportknockd corpus: loadConfig accepts and rejects with the expected messages", () => {
  for (const name of names) {
    const want = expected[name]!;
    const got = loadConfig(`${CORPUS}${name}`);
    if ("accept" in want) {
      assert(got.ok, `${name}: ${got.ok ? "" : got.error.message}`);
      assert.equal(got.config.format, "tportknockd", name);
      assert.equal(got.config.doors.length, want.doors, name);
    } else {
      assert(!got.ok, `${name} was accepted`);
      assert.deepEqual([got.error.message, got.error.line], [want.message, want.line], name);
    }
  }
});

Deno.test("tportknockd: the page's three examples as doors", () => {
  const r = loadConfig(`${CORPUS}page-all-three.conf`);
  assert(r.ok);
  const [ssh, vpn, ssh2] = r.config.doors;
  assert.deepEqual(ssh?.sequence, [
    { port: 1234, protocol: "udp" },
    { port: 543, protocol: "tcp", flags: 0 },
    { port: 543, protocol: "tcp", flags: "any" },
    { port: 123, protocol: "tcp", flags: 0x1d },
    { port: 434, protocol: "tcp", flags: 0x3f },
    { port: 2345, protocol: "tcp", flags: 0 },
  ]);
  assert.deepEqual(
    [ssh?.seqTimeout, ssh?.cmdTimeout, ssh?.line, ssh?.sequenceLine],
    [10, 30, 1, 2],
  );
  assert.equal(
    ssh?.startCommand,
    "/usr/sbin/iptables -A INPUT -s %IP% -p tcp --dport 22 -j ACCEPT",
  );
  assert.equal(vpn?.name, "OpenVPN");
  assert.equal(vpn?.stopCommand, undefined);
  assert.equal(vpn?.startCommand, "/bin/openvpn --remote %IP% --config /opt/openvpn/client.conf");
  assert.deepEqual(ssh2?.sequence.map((k) => k.flags), [0x3f, 0x28, 0x28, 0, "any"]);
});

Deno.test("tportknockd: check explains a tportknockd file", async () => {
  const io = captureIo();
  const status = await runCheck(
    { cmd: "check", config: `${CORPUS}page-all-three.conf`, iface: "lo" },
    io,
    { addresses: () => ({ v4: ["127.0.0.1"], v6: [] }) },
  );
  assert.equal(status, 0, io.err);
  const out = io.out;
  assert(out.startsWith(`Config "${CORPUS}page-all-three.conf" is valid: 3 doors\n`), out);
  assert(
    out.includes("\nNot loadable by knockd 0.8: a tportknockd file (docs/FLAG-KNOCKING.md)\n"),
    out,
  );
  assert(
    out.includes(
      `\nDoor "SSH2" (line 15)\n  Sequence       110:tcp:fin+syn+rst+psh+ack+urg, 110:tcp:psh+urg, ` +
        `110:tcp:psh+urg, 110:tcp:none, 110:tcp:any\n  TCP flags      per step (see Sequence)\n`,
    ),
    out,
  );
  assert(
    out.includes(
      "\n  Sequence       1234:udp, 543:tcp:none, 543:tcp:any, 123:tcp:fin+rst+psh+ack, " +
        "434:tcp:fin+syn+rst+psh+ack+urg, 2345:tcp:none\n",
    ),
    out,
  );
  const json = captureIo();
  await runCheck(
    { cmd: "check", config: `${CORPUS}page-ssh2.conf`, iface: "lo", json: true },
    json,
    { addresses: () => ({ v4: ["127.0.0.1"], v6: [] }) },
  );
  const j = JSON.parse(json.out);
  assert.equal(j.format, "tportknockd");
  assert.deepEqual(j.doors[0].sequence, [
    "110:tcp:fin+syn+rst+psh+ack+urg",
    "110:tcp:psh+urg",
    "110:tcp:psh+urg",
    "110:tcp:none",
    "110:tcp:any",
  ]);
});

/** Knocks with the given (protocol, port, flags) from one source, one per second. */
function knocks(steps: readonly [("tcp" | "udp"), number, number][]): Packet[] {
  return steps.map(([protocol, dstPort, tcpFlags], i) => ({
    tsSec: 100 + i,
    tsUsec: 0,
    family: 4,
    src: "198.51.100.7",
    dst: "192.0.2.1",
    protocol,
    srcPort: 40000,
    dstPort,
    tcpFlags: protocol === "tcp" ? tcpFlags : 0,
    wireLen: 60,
  }));
}

function opens(file: string, traffic: Packet[], strict: boolean): number {
  const r = loadConfig(`${CORPUS}${file}`);
  assert(r.ok);
  const m = new Matcher(r.config.doors, { localAddresses: ["192.0.2.1"], strict });
  return traffic.flatMap((p) => m.handle(p)).filter((e) => e.kind === "open").length;
}

Deno.test("tportknockd: each page example opens on its sequence and stays shut on a wrong flag", () => {
  const X = 0x3f, UP = 0x28, FRAP = 0x1d, A = 0x10, SYN = 0x02;
  const cases: [string, [("tcp" | "udp"), number, number][], number][] = [
    ["page-ssh.conf", [
      ["udp", 1234, 0],
      ["tcp", 543, 0],
      ["tcp", 543, SYN],
      [
        "tcp",
        123,
        FRAP,
      ],
      ["tcp", 434, X],
      ["tcp", 2345, 0],
    ], 1],
    ["page-ssh.conf", [
      ["udp", 1234, 0],
      ["tcp", 543, SYN],
      ["tcp", 543, SYN],
      [
        "tcp",
        123,
        FRAP,
      ],
      ["tcp", 434, X],
      ["tcp", 2345, 0],
    ], 0],
    ["page-openvpn.conf", [["tcp", 12430, A], ["tcp", 2711, SYN], ["tcp", 123, 0x11], [
      "tcp",
      8375,
      0,
    ], ["tcp", 1155, 0]], 1],
    ["page-openvpn.conf", [["tcp", 12430, A], ["tcp", 2711, SYN], ["tcp", 123, 0x11], [
      "tcp",
      8375,
      0,
    ], ["tcp", 1155, SYN]], 0],
    ["page-ssh2.conf", [["tcp", 110, X], ["tcp", 110, UP], ["tcp", 110, UP], ["tcp", 110, 0], [
      "tcp",
      110,
      SYN,
    ]], 1],
    ["page-ssh2.conf", [["tcp", 110, X], ["tcp", 110, UP], ["tcp", 110, 0x08], ["tcp", 110, 0], [
      "tcp",
      110,
      SYN,
    ]], 0],
  ];
  for (const [file, steps, want] of cases) {
    for (const strict of [true, false]) {
      assert.equal(opens(file, knocks(steps), strict), want, `${file} ${JSON.stringify(steps)}`);
    }
  }
});
