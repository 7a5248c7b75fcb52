/**
 * knocktool's extensions to knockd.conf: directives knockd 0.8 rejects. One registry
 * (directive → feature) shared by every feature that adds a directive, and the one line `check`
 * prints for a file that uses any of them (docs/COMPATIBILITY.md, "Extensions").
 *
 * To add a directive: list it in `directives.ts` with `extension: true` and its `feature`, and
 * parse it in `parse.ts` (which records each use with its line in `Config.extensions` through
 * {@link extensionName}).
 *
 * @module
 */
import type { Config, ExtensionUse } from "./model.ts";
import { DIRECTIVES, type DirectiveSection } from "./directives.ts";
import { formatKnock } from "./sequence.ts";

/** One extension directive. */
export interface Extension {
  /** The directive's documented spelling. */
  readonly directive: string;
  /** The feature it belongs to (its document under docs/). */
  readonly feature: string;
  /** `door` or `options`: where it may appear. */
  readonly section: DirectiveSection;
}

/**
 * Every extension directive, keyed by its upper-cased name (as the parser compares keys): the
 * entries of `directives.ts` (the table knocktool.conf(5) is made from) marked `extension`.
 */
export const EXTENSIONS: Readonly<Record<string, Extension>> = Object.fromEntries(
  DIRECTIVES.filter((d) => d.extension === true && d.section !== "tportknockd").flatMap((d) =>
    [d.name, ...(d.aliases ?? [])].map((n) => [
      n.toUpperCase(),
      { directive: d.name, feature: d.feature ?? d.name, section: d.section },
    ])
  ),
);

/**
 * The documented spelling of an extension directive.
 *
 * @param key The upper-cased key.
 * @returns The spelling, or undefined when the key is not an extension.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { extensionName } from "./extensions.ts";
 * assert.equal(extensionName("NFT_SET"), "Nft_Set");
 * assert.equal(extensionName("SEQUENCE"), undefined);
 * ```
 */
export function extensionName(key: string): string | undefined {
  return Object.hasOwn(EXTENSIONS, key) ? EXTENSIONS[key]!.directive : undefined;
}

/**
 * The extensions a parsed config uses, in file order.
 *
 * @param config A parsed config.
 * @returns Each use with its line (empty for a file knockd 0.8 loads too).
 */
export function extensionsUsed(config: Config): readonly ExtensionUse[] {
  return config.extensions ?? [];
}

/**
 * Whether a config uses an extension of the given feature.
 *
 * @param config A parsed config.
 * @param feature e.g. `grants`.
 * @returns True when one of its directives belongs to that feature.
 */
export function usesFeature(config: Config, feature: string): boolean {
  return extensionsUsed(config).some((u) =>
    Object.values(EXTENSIONS).some((e) => e.directive === u.directive && e.feature === feature)
  );
}

/**
 * The one line `check` prints for a file that uses extensions.
 *
 * @param config A parsed config.
 * @returns `Not loadable by knockd 0.8: uses the knocktool extensions "Nft_Set" (line 4), …`, or
 *   undefined when the file uses none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { notLoadableLine } from "./extensions.ts";
 * const config = { options: { useSyslog: false }, doors: [], extensions: [{ directive: "From", line: 3 }] };
 * assert.equal(notLoadableLine(config), 'Not loadable by knockd 0.8: uses the knocktool extension "From" (line 3)');
 * ```
 */
export function notLoadableLine(config: Config): string | undefined {
  if (config.format === "tportknockd") {
    return "Not loadable by knockd 0.8: a tportknockd file (docs/FLAG-KNOCKING.md)";
  }
  const uses = extensionsUsed(config);
  if (uses.length === 0) return undefined;
  const list = uses.map((u) => `"${u.directive}" (line ${u.line})`).join(", ");
  return `Not loadable by knockd 0.8: uses the knocktool extension${
    uses.length === 1 ? "" : "s"
  } ${list}`;
}

/**
 * The line `check` prints for a knockd.conf whose `Sequence` has steps with their own TCP flags
 * (docs/FLAG-KNOCKING.md): knockd 0.8 loads such a file but ignores the flags.
 *
 * @param config A parsed config.
 * @returns `Read differently by knockd 0.8: it ignores the TCP flags of 110:tcp:syn (line 3)`
 *   naming the first such step, or undefined when there is none (or the file is tportknockd's).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "./parse.ts";
 * import { ignoredByKnockdLine } from "./extensions.ts";
 * const r = parseConfig("[a]\nsequence = 7000,110:tcp:fin+urg\n");
 * assert(r.ok);
 * assert.equal(
 *   ignoredByKnockdLine(r.config),
 *   "Read differently by knockd 0.8: it ignores the TCP flags of 110:tcp:fin+urg (line 2)",
 * );
 * ```
 */
export function ignoredByKnockdLine(config: Config): string | undefined {
  if (config.format === "tportknockd") return undefined;
  for (const door of config.doors) {
    const step = door.sequence.find((k) => k.flags !== undefined);
    if (step === undefined) continue;
    const line = door.sequenceLine === undefined ? "" : ` (line ${door.sequenceLine})`;
    return `Read differently by knockd 0.8: it ignores the TCP flags of ${
      formatKnock(step)
    }${line}`;
  }
  return undefined;
}
