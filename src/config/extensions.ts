/**
 * knocktool's extensions to knockd.conf: which knocktool-only directive belongs to which feature,
 * and which of them a parsed config uses. knockd 0.8 rejects a file that uses any; `check`
 * prints one line naming them ("Not loadable by knockd 0.8: …"). Every extension directive is
 * registered here (and marked `extension` in directives.ts); there is no other mechanism.
 *
 * @module
 */
import type { Config } from "./model.ts";

/** One extension directive. */
export interface Extension {
  /** The directive, canonically spelled. */
  readonly directive: string;
  /** The feature it belongs to, e.g. `secret sequences`. */
  readonly feature: string;
  /** Whether a parsed config uses the directive. */
  readonly used: (config: Config) => boolean;
}

const secretUses = (name: string) => (c: Config): boolean =>
  c.doors.some((d) => d.secret?.directives.includes(name) === true);

/** The registry, in the order `check` names them. */
export const EXTENSIONS: readonly Extension[] = [
  {
    directive: "State_Dir",
    feature: "state directory",
    used: (c) => c.options.stateDir !== undefined,
  },
  ...["Secret_File", "Secret_Length", "Secret_Ports", "Secret_Step", "Secret_Protocols"].map((
    directive,
  ) => ({ directive, feature: "secret sequences", used: secretUses(directive) })),
];

/**
 * The extensions a config uses, in registry order.
 *
 * @param config A parsed config.
 * @returns The extensions used.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "./parse.ts";
 * import { usedExtensions } from "./extensions.ts";
 * const r = parseConfig("[ssh]\nSecret_File = /etc/knocktool/ssh.secret\n");
 * assert(r.ok);
 * assert.deepEqual(usedExtensions(r.config).map((e) => e.directive), ["Secret_File"]);
 * ```
 */
export function usedExtensions(config: Config): Extension[] {
  return EXTENSIONS.filter((e) => e.used(config));
}

/**
 * `check`'s line about knockd 0.8, or undefined when the config uses no extension.
 *
 * @param config A parsed config.
 * @returns E.g. `Not loadable by knockd 0.8: Secret_File, Secret_Step (secret sequences)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "./parse.ts";
 * import { extensionsLine } from "./extensions.ts";
 * const r = parseConfig("[ssh]\nSecret_File = s\nSecret_Step = 60\n");
 * assert(r.ok);
 * assert.equal(extensionsLine(r.config), "Not loadable by knockd 0.8: Secret_File, Secret_Step (secret sequences)");
 * ```
 */
export function extensionsLine(config: Config): string | undefined {
  const used = usedExtensions(config);
  if (used.length === 0) return undefined;
  const byFeature = new Map<string, string[]>();
  for (const e of used) {
    byFeature.set(e.feature, [...(byFeature.get(e.feature) ?? []), e.directive]);
  }
  const parts = [...byFeature].map(([feature, names]) => `${names.join(", ")} (${feature})`);
  return `Not loadable by knockd 0.8: ${parts.join("; ")}`;
}
