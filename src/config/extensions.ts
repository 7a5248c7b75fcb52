/**
 * knocktool's extensions to knockd.conf: the one registry of knocktool-only directives (which
 * knockd 0.8 rejects with `syntax error`), and what a parsed config uses of them and of the other
 * extensions (per-step TCP flags, tportknockd files). `knocktool check` prints them on one line,
 * `Not loadable by knockd 0.8: …` (see {@link formatExtensionsLines}).
 *
 * To add a directive: its entry in `src/config/directives.ts` with `extension: true` (that table
 * is the registry); the parser records every use it meets (checked with {@link isExtension}) in
 * `Config.extensionLines`.
 *
 * @module
 */
import type { Config } from "./model.ts";
import { type DirectiveDoc, DIRECTIVES } from "./directives.ts";
import { formatKnock } from "./sequence.ts";

/**
 * Every knocktool-only directive of knockd.conf, keyed by its upper-cased name (as the parser
 * compares keys): the directives that `src/config/directives.ts` marks `extension`.
 */
export const EXTENSIONS: ReadonlyMap<string, DirectiveDoc> = new Map(
  DIRECTIVES.filter((d) => d.extension === true && d.section !== "tportknockd").flatMap((d) =>
    [d.name, ...(d.aliases ?? [])].map((n) => [n.toUpperCase(), d] as const)
  ),
);

/**
 * Whether an upper-cased directive name is a knocktool extension.
 *
 * @param key The directive name, upper-cased.
 * @returns True if {@link EXTENSIONS} has it.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { isExtension } from "./extensions.ts";
 *
 * assert.equal(isExtension("KNOCKDSTRICT"), true);
 * assert.equal(isExtension("SEQUENCE"), false);
 * ```
 */
export function isExtension(key: string): boolean {
  return EXTENSIONS.has(key);
}

/** One extension a config uses. */
export interface ExtensionUse {
  /** What it is (`"KnockdStrict"`, `per-step TCP flags (7000:tcp:syn)`, …). */
  readonly feature: string;
  /** The first line that uses it, when there is one. */
  readonly line?: number;
  /**
   * What knockd 0.8 does with it: `rejects` the file, or `ignores` it (it loads the file but
   * reads it differently: `7000:tcp:syn` is port 7000/tcp with the door's `TCPFlags`).
   */
  readonly knockd: "rejects" | "ignores";
}

/**
 * The extensions a parsed config uses, each once (at its first line), in file order.
 *
 * @param config A parsed config.
 * @returns The uses; empty for a file knockd 0.8 loads and reads alike.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "./parse.ts";
 * import { extensionsUsed } from "./extensions.ts";
 *
 * const r = parseConfig("[options]\nKnockdStrict\n[a]\nsequence = 7000:tcp:syn,8000\n");
 * assert(r.ok);
 * assert.deepEqual(extensionsUsed(r.config).map((u) => [u.feature, u.line]), [
 *   ['"KnockdStrict"', 2],
 *   ["per-step TCP flags (7000:tcp:syn)", 4],
 * ]);
 * ```
 */
export function extensionsUsed(config: Config): ExtensionUse[] {
  const out: ExtensionUse[] = [];
  if (config.format === "tportknockd") {
    out.push({ feature: "tportknockd file format", line: 1, knockd: "rejects" });
  }
  const seen = new Set<string>();
  for (const use of config.extensionLines ?? []) {
    if (seen.has(use.directive)) continue;
    seen.add(use.directive);
    const ext = EXTENSIONS.get(use.directive);
    if (ext === undefined) continue;
    out.push({ feature: JSON.stringify(ext.name), line: use.line, knockd: "rejects" });
  }
  if (config.format !== "tportknockd") {
    for (const door of config.doors) {
      const step = door.sequence.find((k) => k.flags !== undefined);
      if (step === undefined) continue;
      out.push({
        feature: `per-step TCP flags (${formatKnock(step)})`,
        ...(door.sequenceLine !== undefined ? { line: door.sequenceLine } : {}),
        knockd: "ignores",
      });
      break;
    }
  }
  return out.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}

/**
 * `check`'s lines about extensions: `Not loadable by knockd 0.8: …` for what knockd rejects, and
 * `Read differently by knockd 0.8: …` for what it loads but ignores. Empty when there are none.
 *
 * @param uses From {@link extensionsUsed}.
 * @returns Zero, one or two lines.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatExtensionsLines } from "./extensions.ts";
 *
 * assert.deepEqual(
 *   formatExtensionsLines([{ feature: "tportknockd file format", line: 1, knockd: "rejects" }]),
 *   ["Not loadable by knockd 0.8: tportknockd file format (line 1)"],
 * );
 * ```
 */
export function formatExtensionsLines(uses: readonly ExtensionUse[]): string[] {
  const text = (u: ExtensionUse) =>
    u.line === undefined ? u.feature : `${u.feature} (line ${u.line})`;
  const rejects = uses.filter((u) => u.knockd === "rejects").map(text);
  const ignores = uses.filter((u) => u.knockd === "ignores").map(text);
  const lines: string[] = [];
  if (rejects.length > 0) lines.push(`Not loadable by knockd 0.8: ${rejects.join(", ")}`);
  if (ignores.length > 0) {
    lines.push(`Read differently by knockd 0.8 (it ignores them): ${ignores.join(", ")}`);
  }
  return lines;
}
