/**
 * The harness's w5g (`bench/harness.ts`): knock → grant latency of a door whose effect is an
 * nftables set (`Nft_Set`, docs/GRANTS.md), which starts no process. knocktool alone (knockd 0.8
 * has no grants): one `knocktool serve` on the namespace's `lo`, a door with w5's knock shape
 * (three TCP SYNs to 7000, 8000, 9000 sent back to back through the AF_PACKET socket), and per
 * knock: flush the set, send the three frames, then wait, asleep, for the kernel's notification of
 * the new element (`_nft_events.ts`, what `nft monitor` reads). The figure is last frame sent →
 * notification received (both `CLOCK_REALTIME`), so it includes the harness's own wake-up (~0.3
 * ms), not a busy loop of looks beside the daemon it measures (which an earlier version used:
 * docs/PERFORMANCE.md, "Knock to grant (w5g)").
 *
 * @module
 */
import { Nftables } from "../ffi/libnftables.ts";
import type { PacketSocket } from "../testing/af_packet.ts";
import { percentile } from "./_report.ts";
import { RealtimeClock } from "./_clock.ts";
import { NftEvents } from "./_nft_events.ts";

/** The table and set the harness creates in its namespace. */
const TABLE = "inet kt_bench";
const SET = `${TABLE} w5g`;

/** What the harness gives to {@link measureGrantLatency}. */
export interface GrantLatencyBench {
  /** A directory for the config, log, state and control socket. */
  readonly dir: string;
  /** The `knocktool serve` command line for a config file (and extra options). */
  readonly serveCommand: (conf: string, ...extra: string[]) => { cmd: string; args: string[] };
  /** The AF_PACKET socket on `lo`. */
  readonly sock: PacketSocket;
  /** The three frames of one knock from `src` (w5's shape: 7000, 8000, 9000 SYN). */
  readonly knockFrames: (src: string) => readonly Uint8Array[];
  /** Knocks measured. */
  readonly knocks: number;
  /** Knocks sent first, not measured (JIT). */
  readonly warmup: number;
  /** Throws when the run must stop (interrupted, out of time). */
  readonly check: () => void;
}

/** w5g's figures (knocktool only). */
export interface GrantLatencyResult {
  /** Knocks measured. */
  readonly knocks: number;
  /** Knocks whose element appeared within 2 s. */
  readonly seen: number;
  /** Median, ms. */
  readonly p50Ms: number | null;
  /** 99th percentile (nearest rank), ms. */
  readonly p99Ms: number | null;
  /** Largest, ms. */
  readonly maxMs: number | null;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function nftScript(script: string): Promise<void> {
  const c = new Deno.Command("nft", { args: ["-f", "-"], stdin: "piped", stderr: "piped" })
    .spawn();
  const w = c.stdin.getWriter();
  await w.write(new TextEncoder().encode(script));
  await w.close();
  const o = await c.output();
  if (!o.success) {
    throw new Error(
      `Cannot run "nft -f -": ${new TextDecoder().decode(o.stderr).trim() || `exit ${o.code}`}`,
    );
  }
}

/**
 * Creates the set, starts knocktool with one grant door, waits until a probe knock's address
 * appears, measures, and removes the process and the table on every path.
 *
 * @param b The harness's context.
 * @returns The figures.
 * @throws {Error} When nft or knocktool cannot be started, or the door never opens.
 */
export async function measureGrantLatency(b: GrantLatencyBench): Promise<GrantLatencyResult> {
  await nftScript(`table ${TABLE} {\n set w5g { type ipv4_addr; flags timeout; }\n}\n`);
  let child: Deno.ChildProcess | undefined;
  let nft: Nftables | undefined;
  try {
    nft = Nftables.open();
    const n = nft;
    const conf = `${b.dir}/w5g.conf`;
    Deno.writeTextFileSync(
      conf,
      [
        "[options]",
        `  LogFile   = ${b.dir}/w5g.log`,
        `  State_Dir = ${b.dir}/w5g-state`,
        "",
        "[G]",
        "  Sequence    = 7000,8000,9000",
        "  Seq_Timeout = 5",
        "  TCPFlags    = syn",
        `  Nft_Set     = ${SET}`,
        "  Cmd_Timeout = 600",
        "",
      ].join("\n"),
    );
    const { cmd, args } = b.serveCommand(conf, "--control", `${b.dir}/w5g.sock`);
    child = new Deno.Command(cmd, {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const c = child;
    let stderr = "";
    const drained = (async () => {
      const d = new TextDecoder();
      for await (const chunk of c.stderr) stderr = (stderr + d.decode(chunk)).slice(-4096);
    })().catch(() => {});
    const has = (src: string) => n.run(`list set ${SET}`).output.includes(` ${src} `);
    const send = (src: string) => {
      for (const f of b.knockFrames(src)) b.sock.send(f);
    };
    // Ready: a probe knock's address is in the set (the capture is open and the door works).
    let ready = false;
    const end = Date.now() + 60_000;
    for (let probe = 0; Date.now() < end && !ready; probe++) {
      b.check();
      const st = await Promise.race([c.status, sleep(0).then(() => null)]);
      if (st !== null) {
        throw new Error(`Cannot start knocktool for w5g: exit status ${st.code}: ${stderr.trim()}`);
      }
      send(`127.252.${probe >> 8}.${(probe & 255) + 1}`);
      await sleep(300);
      ready = has(`127.252.${probe >> 8}.${(probe & 255) + 1}`);
    }
    if (!ready) throw new Error(`Cannot see w5g's probe knock in set "${SET}" within 60 s`);
    const times: number[] = [];
    using clock = new RealtimeClock();
    using events = new NftEvents(2000);
    for (let i = 0; i < b.warmup + b.knocks; i++) {
      b.check();
      n.run(`flush set ${SET}`);
      events.drain(); // the flush's own notifications
      const src = `127.203.${(i >> 8) & 255}.${(i & 255) + 1}`;
      const [f1, f2, f3] = b.knockFrames(src);
      b.sock.send(f1!);
      b.sock.send(f2!);
      const sent = clock.nowNs();
      b.sock.send(f3!);
      const seen = await events.waitNewElement(); // null after 2 s
      if (i >= b.warmup && seen !== null) times.push(Number(seen - sent) / 1e6);
      await sleep(20); // as w5: the next knock finds the loop idle
    }
    c.kill("SIGTERM");
    await Promise.race([c.status, sleep(3000)]);
    await Promise.race([drained, sleep(1000)]);
    return {
      knocks: b.knocks,
      seen: times.length,
      p50Ms: percentile(times, 50),
      p99Ms: percentile(times, 99),
      maxMs: percentile(times, 100),
    };
  } finally {
    nft?.close();
    if (child !== undefined) {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      await child.status;
    }
    await nftScript(`delete table ${TABLE}\n`).catch((e) => console.error(`bench: ${e.message}`));
  }
}
