/**
 * Knock → element in the kernel set (docs/GRANTS.md): how long from sending a one-packet UDP knock
 * to the knocker's address being an element of the door's nftables set, p50 and p99.
 *
 * `deno run -A bench/grants_bench.ts [--knocks N] [--watch looks|events]` as root. The process
 * creates a network namespace `kt-gbench-<pid>`, re-runs itself inside it (`--inner`), and deletes
 * the namespace on every exit path. Inside: an `inet kt` table with a timeout set, `knocktool
 * serve -i lo` with a single-knock UDP door on that set, and a loop: flush the set, send the knock
 * to 127.0.0.1, poll the set through libnftables (about 0.1 ms per look) until the element is
 * there. The figure therefore includes up to one poll interval, and the capture's delivery.
 *
 * With `--watch events` it does not look: it waits, asleep, for the kernel's notification of the
 * new element (`_nft_events.ts`, what `nft monitor` reads), stamped when this process receives it;
 * that figure includes the bench's own wake-up instead of the looks and the busy wait.
 *
 * @module
 */
import { Nftables } from "../ffi/libnftables.ts";
import { createSocket } from "node:dgram";
import { serveArgv } from "../testing/knocktool_cmd.ts";
import { runInNetns } from "./_netns_self.ts";
import { RealtimeClock } from "./_clock.ts";
import { NftEvents } from "./_nft_events.ts";

const PORT = 47_777;

/** How the bench sees the element: `looks` (list the set every ~0.25 ms) or `events`. */
const WATCH = (() => {
  const i = Deno.args.indexOf("--watch");
  const v = i >= 0 ? Deno.args[i + 1] : "looks";
  if (v !== "looks" && v !== "events") {
    throw new Error(`Cannot parse "--watch": "${v}" is neither "looks" nor "events"`);
  }
  return v;
})();

function arg(name: string, fallback: number): number {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
}

async function sh(argv: string[], stdin?: string): Promise<void> {
  const c = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  if (stdin !== undefined) {
    const w = c.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const s = await c.status;
  if (!s.success) throw new Error(`Cannot run "${argv.join(" ")}": exit status ${s.code}`);
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

async function inner(): Promise<void> {
  const knocks = arg("--knocks", 500);
  await sh(["ip", "link", "set", "lo", "up"]);
  await sh(
    ["nft", "-f", "-"],
    "table inet kt {\n set allow4 { type ipv4_addr; flags timeout; }\n}\n",
  );
  const dir = await Deno.makeTempDir({ prefix: "kt-gbench-" });
  const conf = `${dir}/knockd.conf`;
  await Deno.writeTextFile(
    conf,
    `[options]\n State_Dir = ${dir}/state\n[bench]\n sequence = ${PORT}:udp\n` +
      ` Nft_Set = inet kt allow4\n cmd_timeout = 600\n`,
  );
  const log = `${dir}/serve.log`;
  const [deno, ...args] = serveArgv("lo", conf, log, "--control", `${dir}/c.sock`);
  const serve = new Deno.Command(deno!, {
    args,
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const nft = Nftables.open();
  using clock = new RealtimeClock();
  const sock = createSocket("udp4");
  try {
    const deadline = Date.now() + 30_000;
    while (!(await Deno.readTextFile(log).catch(() => "")).includes("starting up")) {
      if (Date.now() > deadline) throw new Error("Cannot start knocktool serve within 30 s");
      await new Promise((r) => setTimeout(r, 50));
    }
    const has = () => nft.run("list set inet kt allow4").output.includes("127.0.0.1");
    const send = () =>
      new Promise<void>((res) => sock.send(Buffer.alloc(0), PORT, "127.0.0.1", () => res()));
    const times: number[] = [];
    let polls = 0;
    using events = WATCH === "events" ? new NftEvents() : undefined;
    for (let i = 0; i < knocks + 20; i++) {
      nft.run("flush set inet kt allow4");
      if (events !== undefined) {
        events.drain(); // the flush's own notifications
        const sent = clock.nowNs();
        await send();
        const seen = await events.waitNewElement();
        if (seen === null) throw new Error(`Cannot see knock ${i} in the set within 2 s`);
        if (i >= 20) times.push(Number(seen - sent) / 1e6); // the first 20 warm up
        continue;
      }
      const t0 = performance.now();
      await send();
      while (!has()) {
        polls++;
        // Look about every 0.25 ms: back-to-back netlink dumps would compete with the server.
        const until = performance.now() + 0.25;
        while (performance.now() < until) { /* spin */ }
        if (performance.now() - t0 > 5000) {
          throw new Error(`Cannot see knock ${i} in the set within 5 s`);
        }
      }
      if (i >= 20) times.push(performance.now() - t0); // the first 20 warm up
    }
    times.sort((a, b) => a - b);
    if (events !== undefined) {
      console.log(
        `knock -> set element notification, ${times.length} knocks: p50 ${
          percentile(times, 0.5).toFixed(2)
        } ms, p99 ${percentile(times, 0.99).toFixed(2)} ms, max ${times.at(-1)!.toFixed(2)} ms`,
      );
      return;
    }
    const t = performance.now();
    for (let i = 0; i < 200; i++) nft.run("list set inet kt allow4");
    const look = (performance.now() - t) / 200;
    console.log(
      `knock -> element in set, ${times.length} knocks: p50 ${
        percentile(times, 0.5).toFixed(2)
      } ms, ` +
        `p99 ${percentile(times, 0.99).toFixed(2)} ms, max ${times.at(-1)!.toFixed(2)} ms ` +
        `(one libnftables look ${look.toFixed(3)} ms, ${
          (polls / times.length).toFixed(1)
        } looks per knock)`,
    );
  } finally {
    sock.close();
    nft.close();
    serve.kill("SIGTERM");
    await serve.status;
    await Deno.remove(dir, { recursive: true });
  }
}

if (Deno.args.includes("--inner")) await inner();
else {
  const code = await runInNetns({
    name: `kt-gbench-${Deno.pid}`,
    script: import.meta.filename!,
    args: Deno.args,
  });
  if (code !== 0) throw new Error(`Cannot run the inner bench: exit status ${code}`);
}
