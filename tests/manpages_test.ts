/**
 * The checked-in man pages: not stale, rendered cleanly by man and groff, listing every option
 * `--help` shows and every directive the parser accepts.
 *
 * @module
 */
import assert from "node:assert/strict";
import { generateManPages, MAN_FILES } from "../tools/manpages.ts";
import { main } from "../main.ts";
import { captureIo } from "../src/util/io.ts";
import { parseConfig } from "../src/config/parse.ts";
import { parseTportknockd } from "../src/config/tportknockd.ts";
import { directiveKeys, DIRECTIVES } from "../src/config/directives.ts";

const ROOT = new URL("..", import.meta.url);

async function run(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command(cmd, { args, env, stdin: "null", cwd: ROOT }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

/** `man -l` output, plain text, wide enough that option terms are never broken. */
async function rendered(path: string): Promise<string> {
  const r = await run("man", ["-l", path], { MANWIDTH: "200" });
  assert.equal(r.code, 0, `man -l ${path} failed: ${r.err}`);
  assert.equal(r.err, "", `man -l ${path} printed on stderr`);
  return r.out;
}

async function help(args: string[]): Promise<string> {
  const io = captureIo();
  const status = await main(args, io);
  assert.equal(status, 0, `knocktool ${args.join(" ")} exited ${status}: ${io.err}`);
  return io.out;
}

/** The first column of `--help`'s entry lines: `-i, --interface IFACE  text` → `-i, --interface`. */
function helpTerms(text: string): string[] {
  const terms: string[] = [];
  for (const line of text.split("\n")) {
    const m = /^ {2}(\S+(?:, \S+)*)(?: [A-Z][^ ]*)?(?: {2,}|$)/.exec(line);
    if (m !== null) terms.push(m[1] as string);
  }
  return terms;
}

/** One `.SS` subsection of the rendered page: from `   knocktool NAME` to the next heading. */
function subsection(page: string, name: string): string {
  const lines = page.split("\n");
  const start = lines.findIndex((l) => l === `   knocktool ${name}`);
  assert.notEqual(start, -1, `knocktool(1) has no subsection "knocktool ${name}"`);
  const end = lines.findIndex((l, i) => i > start && /^ {0,3}\S/.test(l));
  return lines.slice(start, end === -1 ? undefined : end).join("\n");
}

Deno.test("man pages: the checked-in pages are what tools/manpages.ts generates", async () => {
  const pages = await generateManPages();
  assert.deepStrictEqual(Object.keys(pages).sort(), Object.values(MAN_FILES).sort());
  for (const [path, text] of Object.entries(pages)) {
    const onDisk = await Deno.readTextFile(new URL(path, ROOT));
    assert.equal(onDisk, text, `${path} is stale: run "deno task manpages"`);
  }
});

Deno.test("man pages: groff -man -ww renders both without a warning", async () => {
  for (const path of Object.values(MAN_FILES)) {
    const r = await run("groff", ["-man", "-ww", "-Tutf8", "-z", path]);
    assert.equal(r.code, 0, `groff failed on ${path}`);
    assert.equal(r.err, "", `groff warned on ${path}`);
  }
});

Deno.test("man pages: man -l renders both with their NAME and sections", async () => {
  const one = await rendered(MAN_FILES.cli);
  for (const heading of ["NAME", "SYNOPSIS", "COMMANDS", "EXIT STATUS", "EXAMPLES", "SEE ALSO"]) {
    assert(one.includes(`\n${heading}\n`), `knocktool(1) lacks ${heading}`);
  }
  assert(one.includes("knocktool - port-knocking server and client"));
  const five = await rendered(MAN_FILES.conf);
  for (
    const heading of ["NAME", "DESCRIPTION", "DIRECTIVES OF [options]", "DIRECTIVES OF A DOOR"]
  ) {
    assert(five.includes(`\n${heading}\n`), `knocktool.conf(5) lacks ${heading}`);
  }
});

Deno.test("man pages: knocktool(1) lists every command and option --help shows", async () => {
  const page = await rendered(MAN_FILES.cli);
  const top = helpTerms(await help(["--help"]));
  const commands = top.filter((t) => !t.startsWith("-"));
  assert(commands.includes("serve") && commands.includes("check"), `no commands in ${top}`);
  for (const option of top.filter((t) => t.startsWith("-"))) {
    assert(page.includes(`knocktool ${option}`), `knocktool(1) lacks "knocktool ${option}"`);
  }
  let compared = 0;
  for (const name of commands) {
    const section = subsection(page, name);
    if (name === "help" || name === "completion") continue;
    const terms = helpTerms(await help([name, "--help"]));
    for (const term of terms) {
      // The page's tag line starts with the --help term (metavariable and a short text may follow).
      assert.match(
        section,
        new RegExp(`^ {7}${term.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(\\s|$)`, "m"),
        `knocktool(1), "knocktool ${name}", lacks ${term}`,
      );
      compared++;
    }
  }
  assert(compared > 20, `only ${compared} options compared`);
});

Deno.test("man pages: knocktool.conf(5) documents every directive, knocktool's marked", async () => {
  const page = await rendered(MAN_FILES.conf);
  for (const d of DIRECTIVES) {
    const line = [d.name, ...(d.aliases ?? [])].join(", ") + (d.value ? ` = ${d.value}` : "");
    const at = page.indexOf(`\n       ${line}\n`);
    assert.notEqual(at, -1, `knocktool.conf(5) lacks "${line}"`);
    const body = page.slice(at + line.length + 9).split("\n\n")[0] as string;
    assert.equal(
      body.includes("knockd 0.8 rejects it"),
      d.extension === true,
      `${d.name}: extension mark wrong`,
    );
  }
});

/** Every word in src/config's sources, upper-cased: a superset of the directive names. */
async function configWords(): Promise<Set<string>> {
  const words = new Set<string>();
  for await (const entry of Deno.readDir(new URL("src/config/", ROOT))) {
    if (!entry.name.endsWith(".ts") || entry.name.endsWith("_test.ts")) continue;
    const text = await Deno.readTextFile(new URL(`src/config/${entry.name}`, ROOT));
    for (const m of text.matchAll(/[A-Za-z][A-Za-z0-9_]*/g)) words.add(m[0].toUpperCase());
  }
  return words;
}

const oneTimeSequences = () => ({ sequence: [{ port: 1, protocol: "tcp" as const }] });

/** Whether the parser knows `line` in `[options]` or in a door (anything but "unknown"). */
function parserKnows(line: string): boolean {
  return [`[options]\n${line}\n`, `[door]\nsequence = 7000\n${line}\n`].some((text) => {
    const r = parseConfig(text, { oneTimeSequences });
    return r.ok || !/unknown directive|expected "key = value"/.test(r.error.message);
  });
}

Deno.test("directives: every name the parser accepts is in the table", async () => {
  // Each word of the config sources is tried as a directive, with a value and bare: whatever the
  // parser does not call unknown must be documented.
  const known = new Set([...directiveKeys("options"), ...directiveKeys("door")]);
  const accepted = [...await configWords()].filter((w) =>
    parserKnows(`${w} = 1`) || parserKnows(w)
  );
  assert(accepted.includes("SEQUENCE") && accepted.includes("LOGFILE"), "nothing accepted");
  const missing = accepted.filter((k) => !known.has(k));
  assert.deepStrictEqual(missing, [], "add these to src/config/directives.ts");
});

/** Whether a tportknockd event accepts `key` (anything but "unknown directive"). */
function tportknockdKnows(key: string): boolean {
  const r = parseTportknockd(`<E>\n${key} = 1\n</E>\n`);
  return r.ok || !/unknown directive/.test(r.error.message);
}

Deno.test("directives: every key a tportknockd file accepts is in the table, and back", async () => {
  const known = new Set(directiveKeys("tportknockd"));
  const accepted = [...await configWords()].filter(tportknockdKnows);
  assert(accepted.includes("SEQUENCE"), "nothing accepted");
  assert.deepStrictEqual(accepted.filter((k) => !known.has(k)), [], "add to directives.ts");
  assert.deepStrictEqual([...known].filter((k) => !tportknockdKnows(k)), []);
});

Deno.test("directives: the parser knows every directive in the table", () => {
  for (const d of DIRECTIVES.filter((d) => d.section !== "tportknockd")) {
    for (const name of [d.name, ...(d.aliases ?? [])]) {
      const line = d.value === undefined ? name : `${name} = 1`;
      const text = d.section === "options"
        ? `[options]\n${line}\n`
        : `[door]\nsequence = 7000\n${line}\n`;
      const r = parseConfig(text, { oneTimeSequences });
      if (!r.ok) {
        assert.doesNotMatch(r.error.message, /unknown directive/, `${name} in [${d.section}]`);
      }
    }
  }
});
