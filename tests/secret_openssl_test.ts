/**
 * The spec is enough: derives every test vector of docs/SECRET-SEQUENCES.md with `openssl dgst`
 * for the HMAC and this file's own reading of §2 and §3 (no code from src/), and checks that the
 * document's table shows exactly the shared vectors.
 */
import assert from "node:assert/strict";
import { ignoreUnlessCi, run } from "../testing/netns.ts";
import {
  SECRET_VECTORS,
  type SecretVector,
  VECTOR_BLOCK0,
  VECTOR_KEY,
  VECTOR_MESSAGE0,
} from "../testing/secret_vectors.ts";

const hasOpenssl = await run(["openssl", "version"], { check: false }).then(
  (r) => r.code === 0,
  () => false,
);

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

/** §2, as the document writes it. */
function message(door: string, step: number, slot: number, counter: number): string {
  const name = new TextEncoder().encode(door);
  return hex(new TextEncoder().encode("knocktool-secret-sequence-v1")) + "00" +
    name.length.toString(16).padStart(4, "0") + hex(name) +
    step.toString(16).padStart(16, "0") + slot.toString(16).padStart(4, "0") +
    counter.toString(16).padStart(8, "0");
}

/** `openssl dgst -sha256 -mac HMAC -macopt hexkey:K FILE` on the message bytes. */
async function hmac(dir: string, msgHex: string): Promise<string> {
  const file = `${dir}/m`;
  await Deno.writeFile(file, Uint8Array.from(msgHex.match(/../g)!.map((h) => parseInt(h, 16))));
  const keyHex = hex(new TextEncoder().encode(VECTOR_KEY));
  const r = await run([
    "openssl",
    "dgst",
    "-sha256",
    "-mac",
    "HMAC",
    "-macopt",
    `hexkey:${keyHex}`,
    file,
  ]);
  const m = r.stdout.trim().match(/= ([0-9a-f]{64})$/);
  assert.ok(m, `unexpected openssl output: ${r.stdout}`);
  return m[1]!;
}

/** §3, as the document writes it. */
async function draw(dir: string, v: SecretVector): Promise<string> {
  const { length, low, high, protocols } = v.params;
  const r = high - low + 1;
  const limit = 65536 - (65536 % r);
  const chunks: number[] = [];
  let counter = 0;
  const next = async () => {
    if (chunks.length === 0) {
      const b = await hmac(dir, message(v.door, v.step, v.slot, counter++));
      for (let i = 0; i < 64; i += 4) chunks.push(parseInt(b.slice(i, i + 4), 16));
    }
    return chunks.shift()!;
  };
  const out: string[] = [];
  const ports: number[] = [];
  while (out.length < length) {
    const c = await next();
    if (c >= limit) continue;
    const port = low + (c % r);
    if (ports.includes(port)) continue;
    ports.push(port);
    const proto = protocols === "both" ? ((await next()) % 2 === 0 ? "tcp" : "udp") : protocols;
    out.push(`${port}:${proto}`);
  }
  return out.join(" ");
}

Deno.test({
  name: "secret spec: openssl dgst and the document's text derive every test vector",
  ignore: ignoreUnlessCi(hasOpenssl),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "kt-secret-openssl-" });
    try {
      assert.equal(message("ssh", 56666667, 0, 0), VECTOR_MESSAGE0);
      assert.equal(await hmac(dir, VECTOR_MESSAGE0), VECTOR_BLOCK0);
      for (const v of SECRET_VECTORS) {
        assert.equal(await draw(dir, v), v.sequence, `${v.door} step ${v.step} slot ${v.slot}`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("secret spec: the document's §8 shows exactly the shared test vectors", async () => {
  const doc = await Deno.readTextFile(new URL("../docs/SECRET-SEQUENCES.md", import.meta.url));
  const rows = doc.split("\n").filter((l) => /^\| `[^`]+` +\| \d/.test(l)).map((l) =>
    l.split("|").slice(1, -1).map((c) => c.trim().replace(/^`|`$/g, ""))
  );
  assert.deepEqual(
    rows,
    SECRET_VECTORS.map((v) => [
      v.door,
      String(v.step),
      String(v.slot),
      `${v.params.length}, ${v.params.low}-${v.params.high}, ${v.params.protocols}`,
      v.sequence,
    ]),
  );
  assert.ok(doc.includes(VECTOR_MESSAGE0) && doc.includes(VECTOR_BLOCK0));
});
