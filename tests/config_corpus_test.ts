/**
 * The config corpus: every file in tests/testdata/configs/*.conf is loaded with loadConfig and
 * must be accepted or rejected exactly as tests/testdata/configs/expected.json says (knockd's
 * own error line, knocktool's message and line). The expected knockd texts were captured from
 * Debian's knockd 0.8; tests/config_differential_test.ts re-checks them against the binary.
 *
 * Config files refer to their one-time sequences files as `@DIR@/onetime/...`; each file is
 * copied to a temporary directory with `@DIR@` replaced by the corpus directory.
 *
 * @module
 */
import assert from "node:assert/strict";
import { loadConfig } from "../src/config/load.ts";

const CORPUS = new URL("./testdata/configs/", import.meta.url).pathname.replace(/\/$/, "");

type Expected =
  | { accept: true }
  | { knockdText: string; message: string; line?: number };

const expected: Record<string, Expected> = JSON.parse(
  Deno.readTextFileSync(`${CORPUS}/expected.json`),
);

/** Copies a corpus file into `tmp` with `@DIR@` replaced; returns the new path. */
function materialise(name: string, tmp: string): string {
  const raw = Deno.readFileSync(`${CORPUS}/${name}`);
  // Byte-exact substitution: the corpus holds non-UTF-8 and NUL bytes on purpose.
  const text = new TextDecoder("latin1").decode(raw).replaceAll("@DIR@", CORPUS);
  const path = `${tmp}/${name}`;
  Deno.writeFileSync(path, Uint8Array.from(text, (c) => c.charCodeAt(0)));
  return path;
}

const names = [...Deno.readDirSync(CORPUS)]
  .filter((e) => e.isFile && e.name.endsWith(".conf"))
  .map((e) => e.name)
  .sort();

Deno.test("config corpus: every .conf file has an expectation and vice versa", () => {
  assert.deepEqual(names, Object.keys(expected).sort());
  assert(names.length >= 80, `only ${names.length} corpus files`);
  const rejected = Object.values(expected).filter((e) => !("accept" in e)).length;
  assert(rejected >= 40, `only ${rejected} rejected corpus files`);
});

Deno.test("config corpus: loadConfig accepts and rejects like knockd, with the expected texts", () => {
  const tmp = Deno.makeTempDirSync({ prefix: "kt-corpus-" });
  try {
    for (const name of names) {
      const want = expected[name];
      assert(want !== undefined, name);
      const got = loadConfig(materialise(name, tmp));
      if ("accept" in want) {
        assert(got.ok, `${name}: rejected: ${got.ok ? "" : got.error.message}`);
        continue;
      }
      assert(!got.ok, `${name}: accepted, expected ${want.knockdText}`);
      const sub = (s: string) => s.replaceAll("@DIR@", CORPUS);
      assert.deepEqual(got.error.knockdText, sub(want.knockdText), `${name}: knockdText`);
      assert.deepEqual(got.error.message, sub(want.message), `${name}: message`);
      assert.deepEqual(got.error.line, want.line, `${name}: line`);
    }
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

Deno.test("config corpus: a missing config file gives knockd's perror text", () => {
  const path = `${CORPUS}/no-such-file.conf`;
  const got = loadConfig(path);
  assert(!got.ok);
  assert.deepEqual(got.error.knockdText, `${path}: No such file or directory`);
  assert.deepEqual(
    got.error.message,
    `Cannot read config file "${path}": No such file or directory`,
  );
});

Deno.test("config corpus: a directory reads as a config without doors, as in knockd", () => {
  const got = loadConfig(`${CORPUS}/onetime`);
  assert(got.ok);
  assert.deepEqual(got.config.doors.length, 0);
});
