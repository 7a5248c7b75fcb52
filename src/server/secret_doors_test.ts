import assert from "node:assert/strict";
import { resetSync } from "@logtape/logtape";
import type { captureIo } from "../util/io.ts";
import { parseConfig } from "../config/parse.ts";
import type { Config, Knock } from "../config/model.ts";
import { buildEthernet, buildIp, TCP_FLAGS } from "../wire/build.ts";
import { deriveSequence, importSecretKey } from "../match/secret_derive.ts";
import { DoorActions, RecordingRunner } from "./actions.ts";
import { Daemon, DaemonSetupError } from "./daemon.ts";
import { ServerLog } from "./log.ts";
import { markName, USED_MARKS_FILE } from "./secret_doors.ts";
import { VECTOR_KEY } from "../../testing/secret_vectors.ts";
import { captureServerLog } from "../../testing/server_log.ts";

const STEP = 56666667;
const NOW_MS = (STEP * 30 + 10) * 1000;
const PARAMS = { length: 4, low: 1024, high: 65535, step: 30, protocols: "both" as const };

function config(text: string): Config {
  const r = parseConfig(text);
  if (!r.ok) throw new Error(r.error.message);
  return r.config;
}

function frame(k: Knock, src: string) {
  const ip = buildIp({
    family: 4,
    src,
    dst: "192.0.2.1",
    protocol: k.protocol,
    srcPort: 40000,
    dstPort: k.port,
    tcpFlags: TCP_FLAGS.SYN,
    ...(k.protocol === "udp" ? { payload: new Uint8Array(1) } : {}),
  });
  return {
    linkType: 1,
    data: buildEthernet(ip, 4),
    wireLen: ip.length + 14,
    tsSec: NOW_MS / 1000,
    tsUsec: 0,
  };
}

async function withDaemon(
  fn: (
    d: { daemon: Daemon; runner: RecordingRunner; io: ReturnType<typeof captureIo>; dir: string },
  ) => Promise<void> | void,
  dir?: string,
): Promise<void> {
  const own = dir === undefined;
  dir ??= await Deno.makeTempDir({ prefix: "kt-secret-daemon-" });
  const { io } = captureServerLog();
  try {
    await Deno.writeTextFile(`${dir}/secret`, VECTOR_KEY + "\n", { mode: 0o600 });
    await Deno.chmod(`${dir}/secret`, 0o600);
    const log = new ServerLog();
    const runner = new RecordingRunner();
    const actions = new DoorActions({ runner, log });
    const daemon = new Daemon({
      config: config(
        `[options]\nState_Dir = ${dir}/state\n[plain]\nsequence = 7000\ncommand = p %IP%\n` +
          `[ssh]\nSecret_File = ${dir}/secret\nSecret_Protocols = both\ncommand = open %IP%\n`,
      ),
      configPath: "k.conf",
      reloadConfig: () => ({ ok: false, error: { message: "x", knockdText: "x" } }),
      actions,
      log,
      localAddresses: { v4: ["192.0.2.1"], v6: [] },
      ipv4Only: false,
      now: () => NOW_MS,
    });
    try {
      await daemon.refreshSecrets();
      await fn({ daemon, runner, io, dir });
      await actions.shutdown();
    } finally {
      daemon.close();
    }
  } finally {
    resetSync();
    if (own) await Deno.remove(dir, { recursive: true });
  }
}

/** The protocol/port pairs a capture filter's port terms admit. */
function coveredPorts(filter: string): Set<string> {
  const out = new Set<string>();
  for (const m of filter.matchAll(/(tcp|udp) dst port(?:range)? (\d+)(?:-(\d+))?/g)) {
    const low = Number(m[2]);
    const high = m[3] === undefined ? low : Number(m[3]);
    for (let p = low; p <= high; p++) out.add(`${m[1]}/${p}`);
  }
  return out;
}

async function sequence(step: number, slot: number): Promise<Knock[]> {
  const key = await importSecretKey(new TextEncoder().encode(VECTOR_KEY));
  return await deriveSequence(key, PARAMS, "ssh", step, slot);
}

/** The name the `ssh` door's marks are kept under, with the vector key. */
function sshMarks(key = VECTOR_KEY, params = PARAMS): Promise<string> {
  return markName("ssh", new TextEncoder().encode(key), params);
}

Deno.test("secret door: opens once per (step, slot); a replay from anywhere is refused", async () => {
  await withDaemon(async ({ daemon, runner, io, dir }) => {
    const seq = await sequence(STEP, 3);
    for (const k of seq) daemon.handleFrame(frame(k, "198.51.100.1"));
    for (const k of seq) daemon.handleFrame(frame(k, "198.51.100.1"));
    for (const k of seq) daemon.handleFrame(frame(k, "203.0.113.9"));
    // The previous and next steps are accepted, another slot too; two steps ahead is not.
    for (const k of await sequence(STEP - 1, 0)) daemon.handleFrame(frame(k, "198.51.100.2"));
    for (const k of await sequence(STEP + 1, 7)) daemon.handleFrame(frame(k, "198.51.100.3"));
    for (const k of await sequence(STEP, 4)) daemon.handleFrame(frame(k, "198.51.100.4"));
    for (const k of await sequence(STEP + 2, 0)) daemon.handleFrame(frame(k, "198.51.100.5"));
    await new Promise((r) => setTimeout(r, 0));
    assert.deepEqual(runner.commands, [
      "open 198.51.100.1",
      "open 198.51.100.2",
      "open 198.51.100.3",
      "open 198.51.100.4",
    ]);
    const lines = io.out.split("\n").filter((l) => !/Stage|running command/.test(l));
    assert.deepEqual(lines.filter((l) => l !== ""), [
      "198.51.100.1: ssh: OPEN SESAME",
      `198.51.100.1: ssh: replayed sequence refused (step ${STEP}, slot 3)`,
      `203.0.113.9: ssh: replayed sequence refused (step ${STEP}, slot 3)`,
      "198.51.100.2: ssh: OPEN SESAME",
      "198.51.100.3: ssh: OPEN SESAME",
      "198.51.100.4: ssh: OPEN SESAME",
    ]);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir}/state/${USED_MARKS_FILE}`)), {
      version: 1,
      used: { [await sshMarks()]: { [STEP - 1]: [0], [STEP]: [3, 4], [STEP + 1]: [7] } },
    });
    // The plain door still works beside the secret one.
    daemon.handleFrame(frame({ port: 7000, protocol: "tcp" }, "198.51.100.9"));
    assert.ok(daemon.filter().length > 0);
  });
});

Deno.test("secret door: marks survive a restart; the filter holds only the window's ports", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kt-secret-restart-" });
  try {
    const seq = await sequence(STEP, 5);
    await withDaemon(async ({ daemon, runner }) => {
      for (const k of seq) daemon.handleFrame(frame(k, "198.51.100.1"));
      await new Promise((r) => setTimeout(r, 0));
      assert.deepEqual(runner.commands, ["open 198.51.100.1"]);
    }, dir);
    await withDaemon(({ daemon, runner, io }) => {
      for (const k of seq) daemon.handleFrame(frame(k, "203.0.113.9"));
      assert.deepEqual(runner.commands, []);
      assert.match(io.out, /203\.0\.113\.9: ssh: replayed sequence refused \(step \d+, slot 5\)/);
      const [exact] = daemon.filter();
      const covered = coveredPorts(exact!.split(" or (vlan")[0]!);
      for (const k of [...seq, { port: 7000, protocol: "tcp" as const }]) {
        assert.ok(covered.has(`${k.protocol}/${k.port}`), `${k.protocol}/${k.port} in ${exact}`);
      }
      // 3 steps x 8 slots x 4 knocks, merged into at most a few dozen ranges: far from all.
      assert.ok(covered.size < 20000, `${covered.size} ports admitted`);
    }, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("secret door: an unsafe secret file stops the daemon with the door and file named", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kt-secret-unsafe-" });
  try {
    await Deno.writeTextFile(`${dir}/secret`, VECTOR_KEY + "\n");
    await Deno.chmod(`${dir}/secret`, 0o644);
    const log = new ServerLog();
    assert.throws(
      () =>
        new Daemon({
          config: config(`[options]\nState_Dir = ${dir}/s\n[ssh]\nSecret_File = ${dir}/secret\n`),
          configPath: "k.conf",
          reloadConfig: () => ({ ok: false, error: { message: "x", knockdText: "x" } }),
          actions: new DoorActions({ runner: new RecordingRunner(), log }),
          log,
          localAddresses: { v4: ["192.0.2.1"], v6: [] },
          ipv4Only: false,
        }),
      new DaemonSetupError(
        `Cannot use secret file "${dir}/secret" of door "ssh": mode 0644 lets group or others ` +
          `access it (run "chmod 600 ${dir}/secret")`,
      ),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("secret door: a state file that is not used marks stops the daemon", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kt-secret-state-" });
  try {
    await Deno.writeTextFile(`${dir}/secret`, VECTOR_KEY + "\n", { mode: 0o600 });
    await Deno.chmod(`${dir}/secret`, 0o600);
    await Deno.mkdir(`${dir}/s`);
    await Deno.writeTextFile(`${dir}/s/${USED_MARKS_FILE}`, '{"version":2}\n');
    const log = new ServerLog();
    assert.throws(
      () =>
        new Daemon({
          config: config(`[options]\nState_Dir = ${dir}/s\n[ssh]\nSecret_File = ${dir}/secret\n`),
          configPath: "k.conf",
          reloadConfig: () => ({ ok: false, error: { message: "x", knockdText: "x" } }),
          actions: new DoorActions({ runner: new RecordingRunner(), log }),
          log,
          localAddresses: { v4: ["192.0.2.1"], v6: [] },
          ipv4Only: false,
        }),
      new DaemonSetupError(
        `Cannot read state file "${dir}/s/${USED_MARKS_FILE}": expected {"version": 1, ` +
          `"used": {...}} (remove it only if no spent sequence can still be replayed)`,
      ),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("secret door: the window moves with the clock; marks older than step-1 are pruned", async () => {
  await withDaemon(async ({ daemon, runner, dir }) => {
    const seq = await sequence(STEP, 1);
    for (const k of seq) daemon.handleFrame(frame(k, "198.51.100.1"));
    await new Promise((r) => setTimeout(r, 0));
    assert.deepEqual(runner.commands, ["open 198.51.100.1"]);
    // Three steps later the old step is out of the window: its sequence matches nothing.
    await daemon.refreshSecrets(NOW_MS + 3 * 30_000);
    const later = await sequence(STEP + 3, 1);
    for (const k of later) daemon.handleFrame(frame(k, "198.51.100.2"));
    for (const k of seq) daemon.handleFrame(frame(k, "198.51.100.3"));
    await new Promise((r) => setTimeout(r, 0));
    assert.deepEqual(runner.commands, ["open 198.51.100.1", "open 198.51.100.2"]);
    const state = JSON.parse(await Deno.readTextFile(`${dir}/state/${USED_MARKS_FILE}`));
    assert.deepEqual(state, { version: 1, used: { [await sshMarks()]: { [STEP + 3]: [1] } } });
  });
});

Deno.test("secret door: a reload applies a new secret with fresh marks; going back keeps the old marks; an unsafe file keeps the running config and names the line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kt-secret-reload-" });
  const { io } = captureServerLog();
  const other = "0123456789abcdef".repeat(4);
  try {
    for (const [f, key, mode] of [["a", VECTOR_KEY, 0o600], ["b", other, 0o600]] as const) {
      await Deno.writeTextFile(`${dir}/${f}`, key + "\n");
      await Deno.chmod(`${dir}/${f}`, mode);
    }
    await Deno.writeTextFile(`${dir}/loose`, other + "\n");
    await Deno.chmod(`${dir}/loose`, 0o644);
    const text = (file: string) =>
      `[options]\nState_Dir = ${dir}/state\n[ssh]\nSecret_File = ${dir}/${file}\n` +
      `Secret_Protocols = both\ncommand = open %IP%\n`;
    let next = text("a");
    const log = new ServerLog();
    const runner = new RecordingRunner();
    const actions = new DoorActions({ runner, log });
    const daemon = new Daemon({
      config: config(next),
      configPath: "k.conf",
      reloadConfig: () => parseConfig(next),
      actions,
      log,
      localAddresses: { v4: ["192.0.2.1"], v6: [] },
      ipv4Only: false,
      now: () => NOW_MS,
    });
    const knock = async (key: string, slot: number, src: string) => {
      const k = await importSecretKey(new TextEncoder().encode(key));
      for (const p of await deriveSequence(k, PARAMS, "ssh", STEP, slot)) {
        daemon.handleFrame(frame(p, src));
      }
    };
    const reload = async (file: string) => {
      next = text(file);
      const ok = daemon.reload();
      await daemon.refreshSecrets();
      return ok;
    };
    try {
      await daemon.refreshSecrets();
      await knock(VECTOR_KEY, 3, "198.51.100.1");
      assert.equal(await reload("b"), true);
      // The new secret's (step, slot) already spent with the old secret opens: new sequences.
      await knock(other, 3, "198.51.100.2");
      await knock(VECTOR_KEY, 5, "198.51.100.3");
      assert.equal(await reload("a"), true);
      await knock(VECTOR_KEY, 3, "198.51.100.4");
      await knock(VECTOR_KEY, 6, "198.51.100.5");
      assert.equal(await reload("loose"), false);
      await knock(VECTOR_KEY, 7, "198.51.100.6");
      await new Promise((r) => setTimeout(r, 0));
      assert.deepEqual(runner.commands, [
        "open 198.51.100.1",
        "open 198.51.100.2",
        "open 198.51.100.5",
        "open 198.51.100.6",
      ]);
      const all = io.out + io.err;
      assert.ok(
        all.includes(`198.51.100.4: ssh: replayed sequence refused (step ${STEP}, slot 3)`),
      );
      assert.ok(
        all.includes(
          `config: line 4: Cannot use secret file "${dir}/loose" of door "ssh": mode 0644 lets ` +
            `group or others access it (run "chmod 600 ${dir}/loose")\n`,
        ),
        all,
      );
      assert.ok(all.includes(`Cannot reload "k.conf": keeping the running configuration\n`), all);
      await actions.shutdown();
      assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir}/state/${USED_MARKS_FILE}`)), {
        version: 1,
        used: {
          [await sshMarks()]: { [STEP]: [3, 6, 7] },
          [await sshMarks(other)]: { [STEP]: [3] },
        },
      });
    } finally {
      daemon.close();
    }
  } finally {
    resetSync();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("secret door: marks of a state file written before marks named the derivation still count", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kt-secret-legacy-" });
  try {
    await Deno.mkdir(`${dir}/state`);
    await Deno.writeTextFile(
      `${dir}/state/${USED_MARKS_FILE}`,
      JSON.stringify({ version: 1, used: { ssh: { [STEP]: [2] }, gone: { [STEP]: [1] } } }),
    );
    await withDaemon(async ({ daemon, runner, dir }) => {
      for (const k of await sequence(STEP, 2)) daemon.handleFrame(frame(k, "198.51.100.1"));
      for (const k of await sequence(STEP, 4)) daemon.handleFrame(frame(k, "198.51.100.2"));
      await new Promise((r) => setTimeout(r, 0));
      assert.deepEqual(runner.commands, ["open 198.51.100.2"]);
      assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir}/state/${USED_MARKS_FILE}`)), {
        version: 1,
        used: { [await sshMarks()]: { [STEP]: [2, 4] } },
      });
    }, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("secret door: the fleet-wide single-use mark names step, slot and the derivation", async () => {
  await withDaemon(async ({ daemon, runner }) => {
    const claims: [string, string][] = [];
    daemon.setSingleUse((door, mark) => {
      claims.push([door, mark]);
      return Promise.resolve("claimed");
    });
    for (const k of await sequence(STEP, 5)) daemon.handleFrame(frame(k, "198.51.100.1"));
    await new Promise((r) => setTimeout(r, 0));
    const fp = (await sshMarks()).split("|")[2];
    assert.deepEqual(claims, [["ssh", `${STEP}:5:${fp}`]]);
    assert.deepEqual(runner.commands, ["open 198.51.100.1"]);
  });
});
