/**
 * Citations lead into the repository: every tracked `.ts` and `.md` file may cite knockd's behaviour
 * and defects only through `docs/COMPATIBILITY.md` (sections `§N`, defects `Bn` with a `### Bn`
 * heading there) and the capture facts through `docs/ARCHITECTURE.md` (its `##` sections and the
 * numbered "Capture loop facts"). It fails on a citation of the notes these documents replaced, on
 * a B-number or a section that the documents do not define, and on a `docs/*.md` file that does
 * not exist.
 *
 * @module
 */
import { deepStrictEqual, ok } from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

// Built from pieces so that this file does not cite them itself.
const OUTSIDE_DOCUMENTS: readonly RegExp[] = [
  new RegExp("reference" + " §"),
  new RegExp("reference" + " notes §"),
  new RegExp("deno-libpcap" + "-notes"),
  new RegExp("knockd-0\\.8" + "\\.md"),
];

/** One file's text, by its path relative to the repository root. */
interface SourceFile {
  readonly path: string;
  readonly text: string;
}

/** What the documents define. */
interface Defined {
  /** Paths of the files under `docs/` (e.g. `docs/COMPATIBILITY.md`). */
  readonly docs: ReadonlySet<string>;
  /** Defect numbers with a `### Bn` heading in COMPATIBILITY.md. */
  readonly defects: ReadonlySet<number>;
  /** Section numbers of COMPATIBILITY.md headings (`1`, `4.2`, …). */
  readonly compatSections: ReadonlySet<string>;
  /** `##` heading texts of ARCHITECTURE.md. */
  readonly archSections: ReadonlySet<string>;
  /** Numbers of the "Capture loop facts" subsections of ARCHITECTURE.md. */
  readonly captureFacts: ReadonlySet<string>;
}

/** Reads what COMPATIBILITY.md and ARCHITECTURE.md define. */
function defined(docs: Iterable<string>, compat: string, arch: string): Defined {
  const defects = new Set<number>();
  const compatSections = new Set<string>();
  for (const m of compat.matchAll(/^### B(\d+)\b/gm)) defects.add(Number(m[1]));
  for (const m of compat.matchAll(/^#{2,3} §(\d+(?:\.\d+)?)\s/gm)) compatSections.add(m[1]!);
  const archSections = new Set<string>();
  for (const m of arch.matchAll(/^## (.+)$/gm)) archSections.add(m[1]!.trim());
  const captureFacts = new Set<string>();
  const facts = arch.split(/^## Capture loop facts$/m)[1]?.split(/^## /m)[0] ?? "";
  for (const m of facts.matchAll(/^### §(\d+)\s/gm)) captureFacts.add(m[1]!);
  return { docs: new Set(docs), defects, compatSections, archSections, captureFacts };
}

/** Every bad citation in `files`, as `path:line: problem`. */
function badCitations(files: readonly SourceFile[], d: Defined): string[] {
  const bad: string[] = [];
  for (const f of files) {
    f.text.split("\n").forEach((line, i) => {
      const at = `${f.path}:${i + 1}`;
      for (const re of OUTSIDE_DOCUMENTS) {
        if (re.test(line)) {
          bad.push(`${at}: cites a document outside the repository: ${line.trim()}`);
        }
      }
      for (const m of line.matchAll(/\bB(\d{1,3})\b/g)) {
        if (!d.defects.has(Number(m[1]))) {
          bad.push(`${at}: "B${m[1]}" has no "### B${m[1]}" heading in docs/COMPATIBILITY.md`);
        }
      }
      for (const m of line.matchAll(/\bdocs\/[A-Za-z0-9_./-]*?\.md\b/g)) {
        if (!d.docs.has(m[0])) bad.push(`${at}: "${m[0]}" does not exist`);
      }
      for (const m of line.matchAll(/docs\/COMPATIBILITY\.md,? §(\d+(?:\.\d+)?)/g)) {
        if (!d.compatSections.has(m[1]!)) {
          bad.push(`${at}: docs/COMPATIBILITY.md has no section "§${m[1]}"`);
        }
      }
      for (const m of line.matchAll(/docs\/ARCHITECTURE\.md, "([^"]+)"(?: §(\d+))?/g)) {
        if (!d.archSections.has(m[1]!)) {
          bad.push(`${at}: docs/ARCHITECTURE.md has no section "${m[1]}"`);
        } else if (
          m[2] !== undefined && m[1] === "Capture loop facts" && !d.captureFacts.has(m[2])
        ) {
          bad.push(`${at}: docs/ARCHITECTURE.md, "Capture loop facts" has no "§${m[2]}"`);
        }
      }
    });
  }
  return bad;
}

/** Tracked files (`git ls-files`); without git, every file under the root except `.git/`. */
async function trackedFiles(): Promise<string[]> {
  try {
    const out = await new Deno.Command("git", {
      args: ["ls-files", "-z"],
      cwd: ROOT,
      stdout: "piped",
      stderr: "null",
    }).output();
    if (out.success) return new TextDecoder().decode(out.stdout).split("\0").filter((p) => p);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const paths: string[] = [];
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(new URL(dir, ROOT))) {
      const p = `${dir}${e.name}`;
      if (e.isDirectory && e.name !== ".git" && e.name !== "dist") walk(`${p}/`);
      else if (e.isFile) paths.push(p);
    }
  };
  walk("");
  return paths;
}

Deno.test("docs: citations lead to documents, sections and B-numbers that exist", async () => {
  const paths = await trackedFiles();
  const read = (p: string) => Deno.readTextFileSync(new URL(p, ROOT));
  const d = defined(
    paths.filter((p) => p.startsWith("docs/")),
    read("docs/COMPATIBILITY.md"),
    read("docs/ARCHITECTURE.md"),
  );
  // The documents define what the code cites: every defect and every section named below.
  deepStrictEqual(
    [...d.defects].sort((a, b) => a - b),
    Array.from({ length: 25 }, (_, i) => i + 1),
  );
  for (const s of ["1.1", "1.2", "2.5", "3.3", "4.2", "4.4", "5", "6", "7.2", "8", "9"]) {
    ok(d.compatSections.has(s), `docs/COMPATIBILITY.md lacks "§${s}"`);
  }
  for (const s of ["Layers", "The packet path", "Capture loop facts", "Adding things"]) {
    ok(d.archSections.has(s), `docs/ARCHITECTURE.md lacks "${s}"`);
  }
  deepStrictEqual([...d.captureFacts], ["1", "2", "3", "4", "5"]);

  const files = paths
    .filter((p) => /\.(ts|md)$/.test(p))
    .map((path) => ({ path, text: read(path) }));
  ok(files.length > 100, `only ${files.length} files found`);
  deepStrictEqual(badCitations(files, d), []);
});

Deno.test("docs: the citation check catches each kind of bad citation", () => {
  const d = defined(
    ["docs/COMPATIBILITY.md", "docs/ARCHITECTURE.md"],
    "## §4 Matching\n### §4.2 Per packet\n### B1 — a\n### B17 — b\n",
    "## Layers\n## Capture loop facts\n### §4 The capture loop\n## Tests\n",
  );
  const good = [
    "// docs/COMPATIBILITY.md §4.2 and docs/COMPATIBILITY.md B17, B1",
    '// docs/ARCHITECTURE.md, "Capture loop facts" §4; docs/ARCHITECTURE.md, "Layers"',
    "steps B–D; 0xB1; KB2",
  ];
  deepStrictEqual(badCitations([{ path: "a.ts", text: good.join("\n") }], d), []);
  // Pieced together, so that the scan of this very file does not find them.
  const docs = "docs" + "/";
  const bad = [
    "// as in " + "reference" + " §4.2",
    "// " + "deno-libpcap" + "-notes §4",
    "// (B" + "26)",
    "// " + docs + "DESIGN.md",
    "// " + docs + "COMPATIBILITY.md §" + "4.9",
    "// " + docs + 'ARCHITECTURE.md, "Capture loop facts" §' + "6",
    "// " + docs + 'ARCHITECTURE.md, "' + 'Packets"',
  ];
  deepStrictEqual(badCitations([{ path: "b.ts", text: bad.join("\n") }], d).length, bad.length);
});
