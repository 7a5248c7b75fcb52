/**
 * `knocktool check` on secret doors: explains the door and names the extensions, never prints the
 * key, and prints the current sequences and the filter only under --show-sequence; refuses an
 * unsafe secret file with the door and the file named.
 */
import assert from "node:assert/strict";
import { runCheck } from "../src/cli/check.ts";
import { captureIo } from "../src/util/io.ts";
import { deriveSequence, importSecretKey, sequenceWords } from "../src/match/secret_derive.ts";
import { VECTOR_KEY } from "../testing/secret_vectors.ts";

const STEP = 56666667;
const NOW_MS = (STEP * 30 + 10) * 1000;
const deps = { addresses: () => ({ v4: ["192.0.2.1"], v6: [] }), now: () => NOW_MS };

async function withConfig(fn: (conf: string, secret: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kt-check-secret-" });
  try {
    const secret = `${dir}/ssh.secret`;
    await Deno.writeTextFile(secret, VECTOR_KEY + "\n", { mode: 0o600 });
    await Deno.chmod(secret, 0o600);
    const conf = `${dir}/knockd.conf`;
    await Deno.writeTextFile(
      conf,
      `[options]\n State_Dir = ${dir}/state\n[ssh]\n Secret_File = ${secret}\n` +
        ` Secret_Length = 3\n Command = open %IP%\n`,
    );
    await fn(conf, secret);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("check: a secret door is explained without its key or current sequence", async () => {
  await withConfig(async (conf, secret) => {
    const io = captureIo();
    assert.equal(await runCheck({ cmd: "check", config: conf }, io, deps), 0);
    assert.equal(io.err, "");
    const lines = io.out.split("\n");
    assert.equal(
      lines[1],
      'Not loadable by knockd 0.8: uses the knocktool extensions "State_Dir" (line 2), ' +
        '"Secret_File" (line 4), "Secret_Length" (line 5)',
    );
    const door = lines.slice(
      lines.indexOf('Door "ssh" (line 3)'),
      lines.indexOf('Door "ssh" (line 3)') + 5,
    );
    assert.deepEqual(door, [
      'Door "ssh" (line 3)',
      `  Secret file    ${secret} (line 4; mode 0600, key not shown)`,
      "  Sequence       derived every 30 s: 3 knocks from ports 1024-65535, tcp",
      "  Accepted       the previous, current and next step, 8 slots each; each sequence opens " +
      "once (docs/SECRET-SEQUENCES.md)",
      `  Current        not shown (--show-sequence prints step ${STEP}'s sequences)`,
    ]);
    assert.ok(!io.out.includes(VECTOR_KEY), "key printed");
    const key = await importSecretKey(new TextEncoder().encode(VECTOR_KEY));
    const p = { length: 3, low: 1024, high: 65535, step: 30, protocols: "tcp" as const };
    for (let slot = 0; slot < 8; slot++) {
      for (const k of await deriveSequence(key, p, "ssh", STEP, slot)) {
        assert.ok(!io.out.includes(String(k.port)), `port ${k.port} of slot ${slot} printed`);
      }
    }
    assert.ok(io.out.includes("  not shown: it holds the ports of the secret doors'"));

    const json = captureIo();
    assert.equal(await runCheck({ cmd: "check", config: conf, json: true }, json, deps), 0);
    const parsed = JSON.parse(json.out);
    assert.equal(parsed.filter.capture, null);
    assert.equal(parsed.doors[0].currentSequences, undefined);
    assert.ok(!json.out.includes(VECTOR_KEY));
  });
});

Deno.test("check --show-sequence prints the current step's sequences and the filter", async () => {
  await withConfig(async (conf) => {
    const io = captureIo();
    const status = await runCheck({ cmd: "check", config: conf, showSequence: true }, io, deps);
    assert.equal(status, 0, io.err);
    const key = await importSecretKey(new TextEncoder().encode(VECTOR_KEY));
    const p = { length: 3, low: 1024, high: 65535, step: 30, protocols: "tcp" as const };
    const lines = io.out.split("\n");
    assert.ok(lines.includes(`  Current step   ${STEP}`));
    for (let slot = 0; slot < 8; slot++) {
      const words = sequenceWords(await deriveSequence(key, p, "ssh", STEP, slot));
      assert.ok(lines.includes(`  Slot ${slot}         ${words}`), `slot ${slot}`);
    }
    assert.ok(!io.out.includes(VECTOR_KEY), "key printed");
    assert.ok(io.out.includes("tcp dst port"), "filter not shown");
  });
});

Deno.test("check refuses an unsafe, short or missing secret file, naming door and file", async () => {
  await withConfig(async (conf, secret) => {
    await Deno.chmod(secret, 0o604);
    const io = captureIo();
    assert.equal(await runCheck({ cmd: "check", config: conf }, io, deps), 1);
    assert.equal(
      io.err,
      `Cannot use secret file "${secret}" of door "ssh": mode 0604 lets group or others access ` +
        `it (run "chmod 600 ${secret}")\n`,
    );
    assert.equal(io.out, "");
    await Deno.writeTextFile(secret, "0123456789\n");
    await Deno.chmod(secret, 0o600);
    const short = captureIo();
    assert.equal(await runCheck({ cmd: "check", config: conf }, short, deps), 1);
    assert.equal(
      short.err,
      `Cannot use secret file "${secret}" of door "ssh": the secret has 10 bytes, fewer than 16 ` +
        `(make one with "knocktool keygen")\n`,
    );
    await Deno.remove(secret);
    const missing = captureIo();
    assert.equal(await runCheck({ cmd: "check", config: conf }, missing, deps), 1);
    assert.equal(
      missing.err,
      `Cannot read secret file "${secret}" of door "ssh": no such file or directory\n`,
    );
  });
});
