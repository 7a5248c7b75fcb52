/**
 * The config corpus of knocktool's extension directives (docs/COMPATIBILITY.md, "Extensions"):
 * tests/testdata/configs-ext/*.conf, with tests/testdata/configs-ext/expected.json. knockd 0.8
 * rejects every one of these files, so they are kept apart from tests/testdata/configs/, whose
 * files config_differential_test.ts feeds to knockd expecting knocktool's verdict.
 *
 * The first test does not need knockd: `check` must print exactly the expected
 * "Not loadable by knockd 0.8: …" line for each accepted file (once), knocktool must reject the
 * others with the expected message and line, and the accepted files together must use every
 * directive of the extension registry (src/config/extensions.ts), so a new extension needs a
 * corpus file. The second test gives every file to Debian's knockd 0.8 and checks that it really
 * rejects it, with the expected line (the first extension directive it meets).
 *
 * Files refer to a temporary directory as `@TMP@` (a secret file with mode 0600 is made there).
 *
 * @module
 */
import assert from "node:assert/strict";
import { loadConfig } from "../src/config/load.ts";
import { EXTENSIONS } from "../src/config/extensions.ts";
import { runCheck } from "../src/cli/check.ts";
import { captureIo } from "../src/util/io.ts";
import { haveKnockd, KNOCKD, runKnockdParse } from "../testing/knockd.ts";

const CORPUS = new URL("./testdata/configs-ext/", import.meta.url).pathname.replace(/\/$/, "");

type Expected =
  | { notLoadable: string; knockd: string }
  | { knockdText: string; message: string; line: number; knockd: string };

const expected: Record<string, Expected> = JSON.parse(
  Deno.readTextFileSync(`${CORPUS}/expected.json`),
);
const names = [...Deno.readDirSync(CORPUS)]
  .filter((e) => e.isFile && e.name.endsWith(".conf"))
  .map((e) => e.name)
  .sort();

/** Copies every corpus file into a temporary directory with `@TMP@` replaced, and runs `fn`. */
async function withCorpus(fn: (path: (name: string) => string) => Promise<void>): Promise<void> {
  const tmp = await Deno.makeTempDir({ prefix: "kt-ext-corpus-" });
  try {
    await Deno.writeTextFile(`${tmp}/ssh.secret`, "0123456789abcdef".repeat(2) + "\n");
    await Deno.chmod(`${tmp}/ssh.secret`, 0o600);
    for (const name of names) {
      const text = await Deno.readTextFile(`${CORPUS}/${name}`);
      await Deno.writeTextFile(`${tmp}/${name}`, text.replaceAll("@TMP@", tmp));
    }
    await fn((name) => `${tmp}/${name}`);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

Deno.test("extension corpus: check prints the expected 'Not loadable by knockd 0.8' line; bad values are refused with their line; every extension directive is covered", async () => {
  assert.deepEqual(names, Object.keys(expected).sort());
  await withCorpus(async (path) => {
    const covered = new Set<string>();
    for (const name of names) {
      const want = expected[name]!;
      const io = captureIo();
      const status = await runCheck({ cmd: "check", config: path(name) }, io);
      const got = loadConfig(path(name));
      if ("notLoadable" in want) {
        assert.ok(got.ok, `${name}: rejected: ${got.ok ? "" : got.error.message}`);
        const lines = io.out.split("\n").filter((l) => l.startsWith("Not loadable"));
        assert.deepEqual(lines, [want.notLoadable], `${name}\n${io.out}${io.err}`);
        for (const u of got.config.extensions ?? []) covered.add(u.directive);
        continue;
      }
      assert.ok(!got.ok, `${name}: accepted, expected ${want.message}`);
      const sub = (s: string) => s.replaceAll("@TMP@", path("").replace(/\/$/, ""));
      assert.deepEqual(
        [got.error.knockdText, got.error.message, got.error.line],
        [want.knockdText, sub(want.message), want.line],
        name,
      );
      assert.deepEqual([status, io.err], [1, sub(want.message) + "\n"], name);
    }
    const all = [...new Set(Object.values(EXTENSIONS).map((e) => e.directive))].sort();
    assert.deepEqual([...covered].sort(), all, "extension directives without a corpus file");
  });
});

Deno.test({
  name: "extension corpus: knockd 0.8 rejects every file at the expected line",
  ignore: !haveKnockd && Deno.env.get("CI") !== "true",
  async fn() {
    if (!haveKnockd) throw new Error(`Cannot run the knockd side: ${KNOCKD} is missing`);
    await withCorpus(async (path) => {
      for (const name of names) {
        const run = await runKnockdParse(path(name));
        assert.deepEqual([run.code, run.stderrLines[0]], [1, expected[name]!.knockd], name);
      }
    });
  },
});
