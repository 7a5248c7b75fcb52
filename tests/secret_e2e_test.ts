/**
 * Secret-derived sequences end to end (docs/SECRET-SEQUENCES.md): `knocktool serve` in a server
 * namespace, `knocktool knock --secret-file` from a client namespace joined by a veth pair
 * (server 192.0.2.1, client 192.0.2.2-9). The knocks are captured with tcpdump on the client's
 * interface and the captured frames are sent again (AF_PACKET, testing/inject.ts) from the same
 * source after the grant ended, from another source, and after a `kill -9` and restart.
 *
 * Two doors: `replay` (Secret_Step 300, so the captured sequence stays in the window for the
 * whole test) and `clock` (the default 30 s step, for the clock-skew cases).
 *
 * Needs root, `ip` and `tcpdump`; fails under CI=true when one is missing.
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
import { knocktoolArgv, startServer } from "../testing/knocktool_cmd.ts";
import { type FrameSpec, injectInNetns } from "../testing/inject.ts";
import { readPcap } from "../src/wire/pcapfile.ts";
import { decodeFrame } from "../src/wire/decode.ts";

const SRV = "192.0.2.1";
const cli = (n: number) => `192.0.2.${n}`;

const available = (await canUseNetns()) &&
  (await run(["tcpdump", "--version"], { check: false }).then((r) => r.code === 0, () => false));
const PREREQ = "Cannot run the secret-sequence end-to-end test: needs root, ip and tcpdump";

const knocktool = knocktoolArgv;

/** What {@link withSecretNet} gives a test. */
interface SecretNet {
  readonly srv: Netns;
  readonly client: Netns;
  readonly srvIf: string;
  readonly cliIf: string;
  /** The server's directory: the config, the log, the secrets. */
  readonly dir: string;
  readonly confPath: string;
  readonly logPath: string;
  /** The server's log file text. */
  log(): string;
}

/**
 * A server and a client namespace on a veth pair (server {@link SRV}, client `cli(n)` for each
 * `n` of `clients`), with a secret made by `keygen` in the server's directory for each of `secrets`
 * (`NAME.secret`); always cleaned up.
 */
function withSecretNet(
  names: [string, string],
  clients: readonly number[],
  secrets: readonly string[],
  fn: (net: SecretNet) => Promise<void>,
): Promise<void> {
  return withNetns(names, async ([srv, client]) => {
    const srvIf = uniqueIfName("s");
    const cliIf = uniqueIfName("c");
    await vethPair(srv!, client!, {
      nameA: srvIf,
      nameB: cliIf,
      addrsA: [`${SRV}/24`],
      addrsB: clients.map((n) => `${cli(n)}/24`),
    });
    const dir = srv!.dir;
    for (const f of secrets) await run(knocktool("keygen", `${dir}/${f}.secret`));
    const logPath = `${dir}/knocktool.log`;
    await fn({
      srv: srv!,
      client: client!,
      srvIf,
      cliIf,
      dir,
      confPath: `${dir}/knockd.conf`,
      logPath,
      log: () => readText(logPath),
    });
  });
}

function config(dir: string): string {
  return `[options]
  State_Dir = ${dir}/state
[replay]
  Secret_File = ${dir}/replay.secret
  Secret_Step = 300
  Secret_Protocols = both
  Seq_Timeout = 10
  Start_Command = echo open %IP% >> ${dir}/opened
  Cmd_Timeout = 1
  Stop_Command = echo close %IP% >> ${dir}/opened
[clock]
  Secret_File = ${dir}/clock.secret
  Seq_Timeout = 10
  Start_Command = echo clock %IP% >> ${dir}/opened
`;
}

Deno.test({
  name: "secret e2e: opens once; captured frames replayed (same source, other source, " +
    "after kill -9) are refused; wrong secret and a 100 s clock are refused, 25 s is fine; " +
    "two knockers in one step both open; check hides the sequence",
  ignore: ignoreUnlessCi(available),
  async fn() {
    if (!available) throw new Error(PREREQ);
    const secrets = ["replay", "clock", "wrong"];
    const clients = [2, 3, 4, 5, 6, 7, 8, 9];
    await withSecretNet(["secs", "secc"], clients, secrets, async (net) => {
      const { srv, client, srvIf, cliIf, dir, confPath, logPath, log } = net;
      const opened = () => readText(`${dir}/opened`);
      await Deno.writeTextFile(confPath, config(dir));

      let server: BgProcess | undefined;
      let starts = 0;
      const context = () => `${server?.describe() ?? ""}--- log:\n${log()}--- opened:\n${opened()}`;
      const start = async () => {
        const argv = knocktool("serve", "-i", srvIf, "-c", confPath, "-g", logPath);
        server = await startServer(srv, `serve${++starts}`, argv, { logPath, cwd: dir });
      };
      const knock = async (door: string, src: number, extra: string[]) => {
        const args = [
          "knock",
          "--secret-file",
          `${dir}/${door === "wrong" ? "wrong" : door}.secret`,
        ];
        const name = door === "wrong" ? "clock" : door;
        const params = name === "replay" ? ["--step", "300", "--protocols", "both"] : [];
        const r = await client.exec(
          knocktool(...args, "--door", name, ...params, ...extra, "--source", cli(src), SRV),
          { check: false },
        );
        assert.equal(r.code, 0, `knock failed: ${r.stderr}${r.stdout}`);
      };
      const waitLog = (text: string) =>
        waitUntil(() => log().includes(text), { timeoutMs: 15_000, what: `"${text}"`, context });
      const replay = async (frames: readonly FrameSpec[], src: string) => {
        await injectInNetns(client.name, {
          iface: cliIf,
          frames: frames.map((f) => ({ ...f, src })),
          dstMac: macOf(captured!, 0),
          srcMac: macOf(captured!, 6),
        });
      };

      let captured: Uint8Array | undefined;
      await start();
      try {
        // check explains the doors without the key or the current sequences.
        const chk = await srv.exec(knocktool("check", "-c", confPath, "-i", srvIf));
        assert.match(chk.stdout, /Current {8}not shown \(--show-sequence prints step \d+'s/);
        assert.match(chk.stdout, /^Not loadable by knockd 0\.8: uses the knocktool extensions /m);
        for (const f of ["replay", "clock"]) {
          const key = (await Deno.readTextFile(`${dir}/${f}.secret`)).trim();
          assert.ok(!chk.stdout.includes(key), "check printed a key");
        }
        const shown = await srv.exec(
          knocktool("check", "-c", confPath, "-i", srvIf, "--show-sequence"),
        );
        assert.match(shown.stdout, /^ {2}Slot 7 {9}(\d+:(tcp|udp) ){3}\d+:(tcp|udp)$/m);

        // 1. The right secret opens; the knock is captured on the client's interface.
        const pcap = `${client.dir}/knock.pcap`;
        const td = client.spawn("tcpdump", [
          "tcpdump",
          "-n",
          "-U",
          "--immediate-mode",
          "-i",
          cliIf,
          "-w",
          pcap,
          `src host ${cli(2)} and dst host ${SRV}`,
        ]);
        await waitUntil(() => td.stderr().includes("listening on"), {
          what: "tcpdump",
          context: () => td.describe(),
        });
        await knock("replay", 2, ["--slot", "0"]);
        await waitLog(`${cli(2)}: replay: OPEN SESAME`);
        await td.stop("SIGINT");
        captured = await Deno.readFile(pcap);
        const frames = knockFrames(captured);
        assert.equal(
          frames.length,
          4,
          `captured ${JSON.stringify(frames)} from ${captured.length} bytes: ${td.describe()}`,
        );

        // 2. The same frames from the same source, after the grant ended: refused.
        await waitLog(`${cli(2)}: replay: command timeout`);
        await waitUntil(() => opened().includes(`close ${cli(2)}`), {
          what: "the stop command",
          context,
        });
        await replay(frames, cli(2));
        await waitLog(`${cli(2)}: replay: replayed sequence refused (step `);

        // 3. The same frames from another source: refused.
        await replay(frames, cli(3));
        await waitLog(`${cli(3)}: replay: replayed sequence refused (step `);

        // 4. A wrong secret, and a client clock 100 s ahead, do not open; 25 s ahead does.
        const now = Math.floor(Date.now() / 1000);
        await knock("wrong", 4, ["--slot", "0"]);
        await knock("clock", 6, ["--slot", "0", "--at", String(now + 100)]);
        await knock("clock", 5, ["--slot", "4", "--at", String(now + 25)]);
        await waitLog(`${cli(5)}: clock: OPEN SESAME`);
        // 5. Two knockers in the same step, different slots: both open.
        await knock("clock", 8, ["--slot", "2", "--at", String(now)]);
        await knock("clock", 9, ["--slot", "3", "--at", String(now)]);
        await waitLog(`${cli(8)}: clock: OPEN SESAME`);
        await waitLog(`${cli(9)}: clock: OPEN SESAME`);
        // The server handles packets in order: 4 and 6 came before 5, 8 and 9.
        assert.ok(!log().includes(`${cli(4)}: clock: OPEN`), context());
        assert.ok(!log().includes(`${cli(6)}: clock: OPEN`), context());
        await waitUntil(() => opened().includes(`clock ${cli(9)}`), {
          what: "the commands",
          context,
        });

        // 6. kill -9, restart: the spent sequence is still refused.
        server!.kill("SIGKILL");
        await server!.status;
        await start();
        await replay(frames, cli(7));
        await waitLog(`${cli(7)}: replay: replayed sequence refused (step `);
        const opens = opened().split("\n").filter((l) =>
          l.startsWith("open") || l.startsWith("clock")
        );
        assert.deepEqual(opens.sort(), [
          `clock ${cli(5)}`,
          `clock ${cli(8)}`,
          `clock ${cli(9)}`,
          `open ${cli(2)}`,
        ]);
      } finally {
        server?.kill("SIGKILL");
        if (server !== undefined) await server.status;
      }
    });
  },
});

/** The source or destination MAC of the first captured frame, as `aa:bb:…`. */
function macOf(pcap: Uint8Array, offset: number): string {
  const first = readPcap(pcap).records[0];
  assert.ok(first !== undefined, "no frame captured");
  return [...first.data.subarray(offset, offset + 6)].map((b) => b.toString(16).padStart(2, "0"))
    .join(":");
}

/** The captured knocks as injector frames (source filled in by the caller). */
function knockFrames(pcap: Uint8Array): FrameSpec[] {
  const file = readPcap(pcap);
  const out: FrameSpec[] = [];
  for (const r of file.records) {
    const d = decodeFrame(file.linkType, r.data, r.wireLen, r.tsSec, r.tsUsec);
    if (!d.ok) continue;
    const p = d.packet;
    // Only the knocks: a TCP knock is a SYN; anything else the stack sends is left out.
    if (p.protocol === "tcp" && (p.tcpFlags & 0x16) !== 0x02) continue;
    out.push({
      src: p.src,
      dst: p.dst,
      proto: p.protocol,
      port: p.dstPort,
      srcPort: p.srcPort,
      ...(p.protocol === "tcp" ? { flags: p.tcpFlags } : { payloadHex: "00" }),
    });
  }
  return out;
}

/** A one-door config for the reload test: `Secret_File` is on line 4. */
function reloadConfig(dir: string, secret: string, extra = ""): string {
  return `[options]
  State_Dir = ${dir}/state
[door]
  Secret_File = ${dir}/${secret}
  Secret_Step = 300
${extra}  Seq_Timeout = 10
  Start_Command = echo open %IP% >> ${dir}/opened
`;
}

Deno.test({
  name: "secret e2e: SIGHUP reloads secret doors: a new secret and length take effect, the old " +
    "secret stops opening, used marks survive the reload, an unsafe secret file keeps the " +
    "running config and names the line",
  ignore: ignoreUnlessCi(available),
  async fn() {
    if (!available) throw new Error(PREREQ);
    await withSecretNet(["secrs", "secrc"], [2, 3, 4, 5, 6], ["a", "b", "loose"], async (net) => {
      const { srv, client, srvIf, dir, confPath, logPath, log } = net;
      await Deno.chmod(`${dir}/loose.secret`, 0o644);
      await Deno.writeTextFile(confPath, reloadConfig(dir, "a.secret"));
      const argv = knocktool("serve", "-D", "-i", srvIf, "-c", confPath, "-g", logPath);
      const server = await startServer(srv, "serve", argv, { logPath });
      const context = () =>
        `${server.describe()}--- log:\n${log()}--- opened:\n${readText(`${dir}/opened`)}`;
      const waitLog = (text: string, from = 0) =>
        waitUntil(() => log().slice(from).includes(text) || server.exited !== undefined, {
          timeoutMs: 15_000,
          what: `"${text}"`,
          context,
        }).then(() => assert.ok(log().slice(from).includes(text), context()));
      const params = (secret: string, slot: number, length?: number) => [
        "--secret-file",
        `${dir}/${secret}`,
        "--door",
        "door",
        "--step",
        "300",
        "--slot",
        String(slot),
        ...(length === undefined ? [] : ["--length", String(length)]),
      ];
      const knock = async (src: number, ...p: string[]) => {
        const r = await client.exec(knocktool("knock", ...p, "--source", cli(src), SRV), {
          check: false,
        });
        assert.equal(r.code, 0, `knock failed: ${r.stderr}${r.stdout}`);
      };
      // Reloads `conf`; with `derives`, waits until the new sequences are derived and filtered
      // (the -D line the daemon prints then).
      const reload = async (conf: string, derives: boolean) => {
        const from = log().length;
        const out = server.stdout().length;
        await Deno.writeTextFile(confPath, conf);
        server.kill("SIGHUP");
        await waitLog("re-reading config file", from);
        if (derives) {
          await waitUntil(() => server.stdout().slice(out).includes("secret sequences: "), {
            what: "the sequences of the reloaded config",
            context,
          });
        }
        return from;
      };
      try {
        await waitLog("starting up");
        // The spent sequence is derived for one fixed time, so the replay below is the same
        // sequence even when a step boundary passes in between.
        const at = ["--at", String(Math.floor(Date.now() / 1000))];
        await knock(2, ...params("a.secret", 0), ...at);
        await waitLog(`${cli(2)}: door: OPEN SESAME`);

        // A new secret and a new length: the old secret no longer opens, the new one does.
        let from = await reload(reloadConfig(dir, "b.secret", "  Secret_Length = 5\n"), true);
        await knock(3, ...params("a.secret", 1));
        await knock(4, ...params("b.secret", 0, 5));
        await waitLog(`${cli(4)}: door: OPEN SESAME`, from);
        assert.ok(!log().includes(`${cli(3)}: door: OPEN SESAME`), context());

        // Back to the first secret: the sequence spent before the reloads is still refused.
        from = await reload(reloadConfig(dir, "a.secret"), true);
        await knock(5, ...params("a.secret", 0), ...at);
        await waitLog(`${cli(5)}: door: replayed sequence refused (step `, from);

        // An unsafe secret file: the error names the line, the running config keeps serving.
        from = await reload(reloadConfig(dir, "loose.secret"), false);
        await waitLog(
          `config: line 4: Cannot use secret file "${dir}/loose.secret" of door "door": mode ` +
            `0644 lets group or others access it (run "chmod 600 ${dir}/loose.secret")`,
          from,
        );
        await waitLog(
          `Cannot reload ${JSON.stringify(confPath)}: keeping the running configuration`,
          from,
        );
        await knock(6, ...params("a.secret", 2));
        await waitLog(`${cli(6)}: door: OPEN SESAME`, from);
        assert.equal(server.exited, undefined, context());
      } finally {
        await server.stop("SIGKILL");
      }
    });
  },
});
