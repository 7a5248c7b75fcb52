/**
 * `knocktool serve --pcap-file … --dry-run` on flag knocks and repeats, through the whole server
 * path (decode, pre-filter, matcher, log, actions): tportknockd's SSH2 example (flags on one port)
 * opens on its sequence, also with a retransmitted frame in the default mode, stays shut on a wrong
 * flag, and stays shut on the retransmission with `--knockd-strict` (docs/FLAG-KNOCKING.md,
 * docs/COMPATIBILITY.md "Repeats and retransmissions").
 *
 * @module
 */
import assert from "node:assert/strict";
import { main } from "../main.ts";
import { captureIo } from "../src/util/io.ts";
import { buildEthernet, buildIp } from "../src/wire/build.ts";
import { writePcap } from "../src/wire/pcapfile.ts";

const X = 0x3f, UP = 0x28, SYN = 0x02;

/** A pcap of TCP packets to 192.0.2.1:110 with the given flags, one a second. */
function pcap(flags: readonly number[]): Uint8Array {
  return writePcap(
    1,
    flags.map((f, i) => ({
      tsSec: 1_700_000_000 + i,
      tsUsec: 0,
      data: buildEthernet(
        buildIp({
          family: 4,
          src: "198.51.100.7",
          dst: "192.0.2.1",
          protocol: "tcp",
          srcPort: 40000 + i,
          dstPort: 110,
          tcpFlags: f,
        }),
        4,
      ),
    })),
  );
}

const CONFIG = `<SSH2>
 sequence      = tcp:110:x tcp:110:up tcp:110:up tcp:110:n tcp:110:i
 timeout       = 10
 start_command = echo open %IP%
</SSH2>
`;

async function serve(flags: readonly number[], extra: readonly string[] = []): Promise<string> {
  const dir = Deno.makeTempDirSync({ prefix: "kt-serve-flags-" });
  try {
    Deno.writeTextFileSync(`${dir}/t.conf`, CONFIG);
    Deno.writeFileSync(`${dir}/k.pcap`, pcap(flags));
    const io = captureIo();
    const status = await main([
      "serve",
      "--pcap-file",
      `${dir}/k.pcap`,
      "--dry-run",
      "-v",
      "-c",
      `${dir}/t.conf`,
      "--address",
      "192.0.2.1",
      ...extra,
    ], io);
    assert.deepEqual([status, io.err], [0, ""]);
    return io.out;
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

const OPEN = [
  "198.51.100.7: SSH2: Stage 1",
  "198.51.100.7: SSH2: Stage 2",
  "198.51.100.7: SSH2: Stage 3",
  "198.51.100.7: SSH2: Stage 4",
  "198.51.100.7: SSH2: Stage 5",
  "198.51.100.7: SSH2: OPEN SESAME",
  "SSH2: running command: echo open 198.51.100.7",
  "would run: echo open 198.51.100.7",
];

/** The matcher's and the actions' lines (not the start and shutdown status lines). */
const lines = (out: string) =>
  out.split("\n").filter((l) =>
    l !== "" && !/^(listening on |waiting for child processes|closing\.\.\.)/.test(l)
  );

Deno.test("serve: a tportknockd flag door opens on its sequence, in both modes", async () => {
  for (const extra of [[], ["--knockd-strict"]]) {
    assert.deepEqual(lines(await serve([X, UP, UP, 0, SYN], extra)), OPEN, extra.join(" "));
  }
});

Deno.test("serve: a wrong flag keeps the flag door shut", async () => {
  assert.deepEqual(lines(await serve([X, UP, SYN, UP, 0, SYN])), [
    "198.51.100.7: SSH2: Stage 1",
    "198.51.100.7: SSH2: Stage 2",
  ]);
});

Deno.test("serve: a retransmitted frame is ignored by default, fatal with --knockd-strict", async () => {
  assert.deepEqual(lines(await serve([X, X, UP, UP, 0, SYN])), OPEN);
  assert.deepEqual(lines(await serve([X, X, UP, UP, 0, SYN], ["--knockd-strict"])), [
    "198.51.100.7: SSH2: Stage 1",
  ]);
  const debug = await serve([X, X, UP, UP, 0, SYN], ["-D"]);
  assert(
    debug.includes(
      "ignoring repeated knock 110:tcp:fin+syn+rst+psh+ack+urg (198.51.100.7) for door SSH2 at stage 1\n",
    ),
    debug,
  );
  assert(debug.includes("repeated knocks ignored: 1\n"), debug);
});
