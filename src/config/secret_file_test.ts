import assert from "node:assert/strict";
import { newSecretText, readSecretFile, secretKey } from "./secret_file.ts";

Deno.test("secret file: a private file of 16 bytes or more is read, trailing blanks cut", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const f = `${dir}/s`;
    await Deno.writeTextFile(f, "0123456789abcdef \r\n", { mode: 0o600 });
    await Deno.chmod(f, 0o600);
    const r = readSecretFile(f, "ssh");
    assert.ok(r.ok);
    assert.equal(new TextDecoder().decode(r.key), "0123456789abcdef");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("secret file: group or other access, a short key and an unreadable file are refused", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const f = `${dir}/s`;
    await Deno.writeTextFile(f, newSecretText());
    await Deno.chmod(f, 0o640);
    assert.deepEqual(readSecretFile(f, "ssh"), {
      ok: false,
      message: `Cannot use secret file "${f}" of door "ssh": mode 0640 lets group or others ` +
        `access it (run "chmod 600 ${f}")`,
    });
    await Deno.writeTextFile(f, "short secret\n");
    await Deno.chmod(f, 0o600);
    assert.deepEqual(readSecretFile(f, "ssh"), {
      ok: false,
      message: `Cannot use secret file "${f}" of door "ssh": the secret has 12 bytes, fewer ` +
        `than 16 (make one with "knocktool keygen")`,
    });
    assert.deepEqual(readSecretFile(dir, "ssh"), {
      ok: false,
      message: `Cannot read secret file "${dir}" of door "ssh": it is not a file`,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("secret file: new secrets are 64 hex digits and differ", () => {
  const a = newSecretText();
  assert.match(a, /^[0-9a-f]{64}\n$/);
  assert.notEqual(a, newSecretText());
  assert.equal(secretKey(new TextEncoder().encode(a)).length, 64);
});
