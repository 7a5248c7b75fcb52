/**
 * Imports go one way. This test reads every `.ts` file's relative imports (static, dynamic,
 * `import type`, `export … from`; Deno's own parser, through `deno info --json`, so comments and
 * strings are never mistaken for imports) and fails, listing each offending `file -> import`,
 * when one goes against the order below. See docs/ARCHITECTURE.md, "Layers".
 *
 * Layers, lowest first:
 *   0. src/util/    pure helpers; imports nothing else
 *   1. ffi/         libc, libpcap, socket, syslog bindings
 *   2. src/wire/    packet views, decoder, frame builder, pcap files
 *   3. src/config/  knockd.conf parsing, the Door/Options model, capture filters, lint
 *   4. src/match/   the matcher, prefilter, attempt table, one-time sequences
 *   5. src/server/, src/client/ and src/cluster/  peers: none imports another
 *   6. src/cli/     per subcommand a parser (`x_args.ts`) and a runner (`x.ts`)
 *   7. main.ts
 * Test code: testing/ (the one test kit), tests/ (suites needing root, namespaces or daemons),
 * bench/ (benchmarks), and every `*_test.ts`. tools/ holds build scripts.
 *
 * Rules:
 *   1. A non-test file in a layer imports only its own folder and lower layers.
 *   2. src/server/, src/client/ and src/cluster/ do not import each other.
 *   3. Nothing under src/, ffi/ or main.ts imports tests/, testing/, bench/ or tools/; a test
 *      file beside its module (`*_test.ts`) may import its own layer and lower, plus testing/.
 *   4. testing/ is imported only by test code (`*_test.ts`, tests/, bench/, testing/) and never
 *      imports tests/, bench/ or tools/.
 *   5. tests/ and bench/ are imported only from inside themselves, tools/ only from itself and
 *      from tests/ (suites check the build scripts); a `*_test.ts` file is imported by nothing.
 *   6. A private helper `_name.ts` is imported only from its own folder (or below it), by tests
 *      too.
 *
 * @module
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";

/** A layer's folders (or file), lowest first; the index is the layer number. */
const LAYERS: readonly (readonly string[])[] = [
  ["src/util"],
  ["ffi"],
  ["src/wire"],
  ["src/config"],
  ["src/match"],
  ["src/server", "src/client", "src/cluster"],
  ["src/cli"],
  ["main.ts"],
];

/** Top-level folders of test code and tools, outside the layers. */
const OUTSIDE = ["testing", "tests", "bench", "tools"] as const;

/** Where a repository-relative path sits: a layer's folder, an outside folder, or elsewhere. */
interface Place {
  /** The layer folder (`src/wire`, `main.ts`), outside folder (`tests`) or `""` for elsewhere. */
  readonly area: string;
  /** The layer number, for files in a layer. */
  readonly layer: number | undefined;
}

function placeOf(path: string): Place {
  for (const [layer, areas] of LAYERS.entries()) {
    for (const area of areas) {
      if (path === area || path.startsWith(`${area}/`)) return { area, layer };
    }
  }
  const top = path.split("/")[0]!;
  return { area: (OUTSIDE as readonly string[]).includes(top) ? top : "", layer: undefined };
}

function dirOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "" : path.slice(0, i);
}

function baseOf(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

function isTestFile(path: string): boolean {
  return path.endsWith("_test.ts");
}

/** Test code: a `*_test.ts` anywhere, or anything in tests/, bench/ or testing/. */
function isTestCode(path: string): boolean {
  const { area } = placeOf(path);
  return isTestFile(path) || area === "tests" || area === "bench" || area === "testing";
}

/**
 * Why the import `from -> to` (repository-relative paths) breaks the rules, or `undefined` when
 * it keeps them.
 */
function violation(from: string, to: string): string | undefined {
  const f = placeOf(from), t = placeOf(to);
  const base = baseOf(to);
  if (base.startsWith("_")) {
    const dir = dirOf(to), fromDir = dirOf(from);
    if (fromDir !== dir && !fromDir.startsWith(`${dir}/`)) {
      return `"${base}" is private to ${dir || "the root"}/`;
    }
  }
  if (isTestFile(to) && to !== from) return "a test file is imported by nothing";
  if (t.area === "tests" || t.area === "bench") {
    return f.area === t.area ? undefined : `${t.area}/ is imported only from inside itself`;
  }
  if (t.area === "tools") {
    const fine = f.area === "tools" || f.area === "tests";
    return fine ? undefined : "tools/ is imported only from itself and tests/";
  }
  if (t.area === "testing") {
    return isTestCode(from) ? undefined : "testing/ is imported only by test code";
  }
  if (f.layer === undefined || t.layer === undefined) return undefined;
  if (f.area === t.area || t.layer < f.layer) return undefined;
  if (t.layer === f.layer) return `${f.area}/ and ${t.area}/ are peers: neither imports the other`;
  return `layer ${f.layer} (${f.area}) imports layer ${t.layer} (${t.area})`;
}

const ROOT = new URL("../", import.meta.url);
const SKIP_DIRS = new Set([".git", ".ci", "dist", "node_modules", "completions"]);

/** Every `.ts` file of the repository, relative to its root, sorted. */
function sourceFiles(dir = ""): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(new URL(dir || ".", ROOT))) {
    const path = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory && !SKIP_DIRS.has(e.name)) out.push(...sourceFiles(path));
    else if (e.isFile && e.name.endsWith(".ts")) out.push(path);
  }
  return out.sort();
}

interface InfoDependency {
  specifier: string;
  code?: { specifier?: string };
  type?: { specifier?: string };
}
interface InfoModule {
  specifier: string;
  dependencies?: InfoDependency[];
}

/** Every relative import `from -> to` among `files`, read by `deno info --json`. */
async function importEdges(files: string[]): Promise<[string, string][]> {
  const rootFile = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      rootFile,
      files.map((f) => `import ${JSON.stringify(new URL(f, ROOT).href)};\n`).join(""),
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", new URL("deno.json", ROOT).pathname, rootFile],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(out.stderr);
    ok(out.success, `Cannot read the import graph: deno info failed: ${err}`);
    const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: InfoModule[] };
    const rel = (href: string) => href.startsWith(ROOT.href) ? href.slice(ROOT.href.length) : "";
    const edges: [string, string][] = [];
    for (const m of graph.modules) {
      const from = rel(m.specifier);
      if (!files.includes(from)) continue;
      for (const d of m.dependencies ?? []) {
        if (!d.specifier.startsWith("./") && !d.specifier.startsWith("../")) continue;
        for (const target of [d.code?.specifier, d.type?.specifier]) {
          const to = target === undefined ? "" : rel(target);
          if (to !== "") edges.push([from, to]);
        }
      }
    }
    return edges;
  } finally {
    await Deno.remove(rootFile);
  }
}

Deno.test("layering: the rule function accepts the allowed edges and rejects the forbidden ones", () => {
  const allowed: [string, string][] = [
    ["ffi/syslog.ts", "src/util/bytes.ts"],
    ["src/wire/decode.ts", "src/wire/packet.ts"],
    ["src/match/matcher.ts", "src/config/model.ts"],
    ["src/server/capture.ts", "ffi/libpcap.ts"],
    ["src/cli/serve.ts", "src/server/daemon.ts"],
    ["src/cli/serve.ts", "src/cluster/fleet.ts"],
    ["src/cluster/fleet.ts", "src/util/errno.ts"],
    ["src/cli/knock_compat.ts", "src/cli/_getopt.ts"],
    ["main.ts", "src/cli/serve.ts"],
    ["src/wire/decode_test.ts", "testing/frames.ts"],
    ["src/wire/decode_test.ts", "src/wire/decode.ts"],
    ["src/config/filter_test.ts", "src/wire/build.ts"],
    ["testing/frames.ts", "src/wire/build.ts"],
    ["tests/e2e_test.ts", "testing/netns.ts"],
    ["tests/e2e_test.ts", "main.ts"],
    ["bench/harness.ts", "bench/_proc.ts"],
    ["bench/_proc_test.ts", "bench/_clock.ts"],
    ["tools/compile.ts", "src/util/version.ts"],
    ["tests/ship_test.ts", "tools/compile.ts"],
  ];
  for (const [from, to] of allowed) strictEqual(violation(from, to), undefined, `${from} -> ${to}`);
  const forbidden: [string, string, string][] = [
    ["ffi/x.ts", "src/config/y.ts", "layer 1 (ffi) imports layer 3 (src/config)"],
    ["src/util/bytes.ts", "ffi/libc.ts", "layer 0 (src/util) imports layer 1 (ffi)"],
    [
      "src/server/x.ts",
      "src/client/y.ts",
      "src/server/ and src/client/ are peers: neither imports the other",
    ],
    [
      "src/client/x_test.ts",
      "src/server/y.ts",
      "src/client/ and src/server/ are peers: neither imports the other",
    ],
    ["src/wire/x_test.ts", "src/config/y.ts", "layer 2 (src/wire) imports layer 3 (src/config)"],
    [
      "src/cluster/fleet.ts",
      "src/server/grants.ts",
      "src/cluster/ and src/server/ are peers: neither imports the other",
    ],
    ["src/client/compat.ts", "src/cli/_getopt.ts", '"_getopt.ts" is private to src/cli/'],
    ["tests/x_test.ts", "src/server/_assert.ts", '"_assert.ts" is private to src/server/'],
    ["src/wire/x_test.ts", "testing/_y.ts", '"_y.ts" is private to testing/'],
    ["src/wire/x.ts", "testing/frames.ts", "testing/ is imported only by test code"],
    ["tools/x.ts", "testing/netns.ts", "testing/ is imported only by test code"],
    ["src/wire/x_test.ts", "tests/y.ts", "tests/ is imported only from inside itself"],
    ["testing/x.ts", "tests/y.ts", "tests/ is imported only from inside itself"],
    ["main.ts", "tools/x.ts", "tools/ is imported only from itself and tests/"],
    ["src/cli/x_test.ts", "tools/x.ts", "tools/ is imported only from itself and tests/"],
    ["tests/x_test.ts", "bench/y.ts", "bench/ is imported only from inside itself"],
    ["src/cli/x.ts", "bench/y.ts", "bench/ is imported only from inside itself"],
    ["src/wire/x.ts", "src/wire/x_test.ts", "a test file is imported by nothing"],
    ["src/wire/x_test.ts", "main.ts", "layer 2 (src/wire) imports layer 7 (main.ts)"],
  ];
  for (const [from, to, why] of forbidden) {
    strictEqual(violation(from, to), why, `${from} -> ${to}`);
  }
});

Deno.test("layering: no import in the repository goes against the layer order", async () => {
  const files = sourceFiles();
  ok(files.includes("main.ts") && files.includes("tests/layering_test.ts"), files.join(" "));
  const edges = await importEdges(files);
  // The graph must be real for the check to mean anything: a known edge and a plausible size.
  ok(edges.some(([f, t]) => f === "main.ts" && t.startsWith("src/cli/")), "no main.ts -> src/cli/");
  ok(edges.length > files.length, `only ${edges.length} imports among ${files.length} files`);
  const bad = edges.flatMap(([from, to]) => {
    const why = violation(from, to);
    return why === undefined ? [] : [`${from} -> ${to}: ${why}`];
  });
  deepStrictEqual(bad, [], `Imports against the layer order:\n${bad.join("\n")}`);
});

Deno.test("layering: a file over 400 lines outside tests/ and completions/ says why at its top", () => {
  const long = sourceFiles().filter((f) => !f.startsWith("tests/")).flatMap((path) => {
    const lines = Deno.readTextFileSync(new URL(path, ROOT)).split("\n");
    if (lines.length <= 401) return [];
    return lines.slice(0, 60).some((l) => /\b400 lines\b/.test(l)) ? [] : [path];
  });
  deepStrictEqual(
    long,
    [],
    `Long files without an "Over 400 lines because …" note:\n${long.join("\n")}`,
  );
});
