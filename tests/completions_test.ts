/**
 * The checked-in completion scripts: not stale, and working in real bash, fish and zsh with a
 * `knocktool` on PATH that runs this checkout's main.ts.
 *
 * @module
 */
import assert from "node:assert/strict";
import { COMPLETION_FILES, generateCompletion } from "../tools/completions.ts";

const ROOT = new URL("..", import.meta.url);
const MAIN = new URL("main.ts", ROOT).pathname;
const CI = Deno.env.get("CI") === "true";
const SUBCOMMANDS = [
  "serve",
  "knock",
  "check",
  "interfaces",
  "keygen",
  "sequence",
  "status",
  "revoke",
  "grant",
];

function has(tool: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${tool}`], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** Outside CI a missing shell skips its test; under CI=true the test runs and fails. */
function needs(tool: string): { ignore: boolean } {
  return { ignore: !CI && !has(tool) };
}

function requireTool(tool: string): void {
  if (!has(tool)) throw new Error(`Cannot run the test: "${tool}" is not installed`);
}

/** A temp dir holding a `knocktool` wrapper that runs this checkout's main.ts. */
async function withWrapper<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "kt-completions-" });
  try {
    await Deno.writeTextFile(
      `${dir}/knocktool`,
      `#!/bin/sh\nexec '${Deno.execPath()}' run -A '${MAIN}' "$@"\n`,
      { mode: 0o755 },
    );
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs a program with the wrapper first on PATH; bounded to 60 s. */
async function runWith(
  dir: string,
  cmd: string,
  args: string[],
): Promise<{ code: number; out: string; err: string }> {
  const out = await new Deno.Command(cmd, {
    args,
    env: { PATH: `${dir}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`, NO_COLOR: "1" },
    stdin: "null",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, out: dec.decode(out.stdout), err: dec.decode(out.stderr) };
}

/** What `serve -` and `serve --` must offer: knockd's options and knocktool's test seams. */
const SERVE_SHORT = ["-i", "-c", "-d", "-D", "-v", "-4"];
const SERVE_LONG = ["--interface", "--config", "--pcap-file", "--dry-run"];

/** Asserts that every expected candidate is offered. */
function offers(got: string[], expected: string[], what: string): void {
  for (const e of expected) {
    assert(got.includes(e), `"${e}" not offered for ${what}: ${got.join(" ")}`);
  }
}

Deno.test("completions: checked-in scripts match the parser", async () => {
  for (const [shell, path] of Object.entries(COMPLETION_FILES)) {
    const fresh = await generateCompletion(shell as keyof typeof COMPLETION_FILES);
    const committed = await Deno.readTextFile(new URL(path, ROOT));
    assert(
      committed === fresh,
      `Regenerate "${path}": it differs from the parser's ${shell} completion; run \`deno task completions\``,
    );
  }
});

const BASH_COMPLETE = `
set -u
source "$1"
shift
COMP_WORDS=("$@")
COMP_CWORD=$((\${#COMP_WORDS[@]} - 1))
COMP_LINE="\${COMP_WORDS[*]}"
COMP_POINT=\${#COMP_LINE}
_knocktool knocktool "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\\n' "\${COMPREPLY[@]}"
`;

Deno.test({
  name: "completions: bash completes subcommands and serve's options",
  ...needs("bash"),
  fn: async () => {
    requireTool("bash");
    const script = new URL(COMPLETION_FILES.bash, ROOT).pathname;
    await withWrapper(async (dir) => {
      const words = async (...w: string[]) => {
        const r = await runWith(dir, "bash", ["-c", BASH_COMPLETE, "bash", script, ...w]);
        assert.equal(r.code, 0, r.err);
        return r.out.split("\n").map((l) => l.trim()).filter((l) => l !== "");
      };
      const top = await words("knocktool", "");
      for (const c of SUBCOMMANDS) assert(top.includes(c), `"${c}" not offered: ${top.join(" ")}`);
      const short = await words("knocktool", "serve", "-");
      offers(short, SERVE_SHORT, "serve -");
      assert(short.every((o) => o.startsWith("-")), `non-option offered: ${short.join(" ")}`);
      offers(await words("knocktool", "serve", "--"), SERVE_LONG, "serve --");
    });
  },
});

Deno.test({
  name: "completions: fish completes subcommands and serve's options",
  ...needs("fish"),
  fn: async () => {
    requireTool("fish");
    const script = new URL(COMPLETION_FILES.fish, ROOT).pathname;
    await withWrapper(async (dir) => {
      const words = async (line: string) => {
        const r = await runWith(dir, "fish", [
          "--no-config",
          "-c",
          `source '${script}'; complete -C '${line}'`,
        ]);
        assert.equal(r.code, 0, r.err);
        // fish prints "candidate<TAB>description".
        return r.out.split("\n").map((l) => l.split("\t")[0] ?? "").filter((l) => l !== "");
      };
      const top = await words("knocktool ");
      for (const c of SUBCOMMANDS) assert(top.includes(c), `"${c}" not offered: ${top.join(" ")}`);
      offers(await words("knocktool serve -"), SERVE_SHORT, "serve -");
      offers(await words("knocktool serve --"), SERVE_LONG, "serve --");
    });
  },
});

// zsh: a real interactive zsh under zpty with compinit, the generated _knocktool on fpath and
// compadd wrapped to print each match. The line and TAB are typed once ZLE reads the terminal
// (it turns on bracketed paste, ESC [?2004h, when it starts).
const ZSH_COMPLETE = `
zmodload zsh/zpty || exit 3
zpty z "zsh -f -i"
zpty -w z "PROMPT='>'; fpath=($1 \\$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z 'compadd () { local -a __h; builtin compadd -O __h "$@"; (( $#__h )) && print -rl -- "<HIT>"\${^__h}; builtin compadd "$@" }'
zpty -w z 'print -r -- "<READY>"'
zpty -r -m z out '*<READY>*<READY>*2004h*'
zpty -w -n z "$2"$'\\t'
zpty -w -n z $'\\C-u'
zpty -w z 'print -r -- "<DONE>"'
zpty -r -m z out '*<DONE>*<DONE>*'
print -r -- "$out"
zpty -d z
`;

Deno.test({
  name: "completions: zsh (zpty, compinit) completes subcommands and serve's options",
  ...needs("zsh"),
  fn: async () => {
    requireTool("zsh");
    await withWrapper(async (dir) => {
      const fp = `${dir}/fpath`;
      await Deno.mkdir(fp);
      await Deno.copyFile(new URL(COMPLETION_FILES.zsh, ROOT), `${fp}/_knocktool`);
      const words = async (line: string) => {
        const r = await runWith(dir, "zsh", ["-f", "-c", ZSH_COMPLETE, "zsh", fp, line]);
        assert.equal(r.code, 0, r.err);
        return [...r.out.matchAll(/<HIT>([^\r\n]*)/g)].map((m) => m[1] ?? "");
      };
      const top = await words("knocktool ");
      for (const c of SUBCOMMANDS) assert(top.includes(c), `"${c}" not offered: ${top.join(" ")}`);
      offers(await words("knocktool serve -"), SERVE_SHORT, "serve -");
      offers(await words("knocktool serve --"), SERVE_LONG, "serve --");
    });
  },
});
