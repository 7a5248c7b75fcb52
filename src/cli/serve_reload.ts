/**
 * SIGHUP and cluster mode (docs/CLUSTER.md, "Reload"): the fleet is joined at start with the
 * starting config's `Cluster*` settings, so a reload cannot add, remove or change them. The rest
 * of the new config is applied; each such change is logged as not applied, and the config the
 * daemon gets keeps the settings the node runs with (what `status` and the grant mode go by).
 *
 * @module
 */
import type { ClusterOptions, Config } from "../config/model.ts";
import type { ParseResult } from "../config/parse.ts";
import { extensionsUsed } from "../config/extensions.ts";
import { clusterUrlsText } from "../config/cluster_directives.ts";

/** A reload's config with the running cluster settings, and what was not applied. */
export interface ClusterReload {
  /** The new config as the daemon gets it. */
  readonly result: ParseResult;
  /** One line per `Cluster*` change that needs a restart. */
  readonly notes: readonly string[];
}

/** The settings a reload compares, with the directive that sets each. */
const SETTINGS: readonly [keyof ClusterOptions, string][] = [
  ["servers", "Cluster"],
  ["name", "Cluster_Name"],
  ["node", "Cluster_Node"],
  ["creds", "Cluster_Creds"],
  ["ca", "Cluster_CA"],
  ["domain", "Cluster_Domain"],
];

/**
 * Keeps the running cluster settings in a reloaded config and says what of the new ones was not
 * applied.
 *
 * @param running The settings the server started with (undefined: no cluster mode).
 * @param r The new config as loaded.
 * @returns The config to apply and the notes (none when `Cluster*` did not change).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "../config/parse.ts";
 * import { clusterReload } from "./serve_reload.ts";
 * const r = clusterReload(undefined, parseConfig("[options]\nCluster = nats://127.0.0.1:4222\n"));
 * assert.deepEqual(r.notes, [
 *   'Cannot apply "Cluster = nats://127.0.0.1:4222" (line 2) on reload: the server started ' +
 *   "without cluster mode; restart it to join the fleet",
 * ]);
 * assert.equal(r.result.ok && r.result.config.options.cluster, undefined);
 * ```
 */
export function clusterReload(running: ClusterOptions | undefined, r: ParseResult): ClusterReload {
  if (!r.ok) return { result: r, notes: [] };
  const next = r.config.options.cluster;
  const notes: string[] = [];
  if (running === undefined && next !== undefined) {
    notes.push(
      `Cannot apply "Cluster = ${clusterUrlsText(next.servers)}" (line ${next.line}) on reload: ` +
        "the server started without cluster mode; restart it to join the fleet",
    );
  } else if (running !== undefined && next === undefined) {
    notes.push(
      `Cannot remove "Cluster" on reload: this node stays in fleet ${
        JSON.stringify(running.name)
      } until a restart`,
    );
  } else if (running !== undefined && next !== undefined) {
    const line = (directive: string) =>
      extensionsUsed(r.config).find((u) => u.directive === directive)?.line;
    for (const [key, directive] of SETTINGS) {
      // Compared as written (a changed password is a change), shown without credentials.
      if (same(running[key], next[key])) continue;
      const was = text(running[key]);
      const now = text(next[key]);
      const at = line(directive);
      // Absent from the file: removed (a default took its place).
      const what = at === undefined
        ? `the removal of "${directive}"`
        : `"${directive} = ${now}" (line ${at})`;
      notes.push(
        `Cannot apply ${what} on reload: the node keeps ${
          was === undefined ? "the default" : JSON.stringify(was)
        } until a restart`,
      );
    }
  }
  if (notes.length === 0) return { result: r, notes };
  const { cluster: _dropped, ...options } = r.config.options;
  const config: Config = {
    ...r.config,
    options: running === undefined ? options : { ...options, cluster: running },
  };
  return { result: { ok: true, config }, notes };
}

function same(a: ClusterOptions[keyof ClusterOptions], b: ClusterOptions[keyof ClusterOptions]) {
  return Array.isArray(a) && Array.isArray(b) ? a.join("\n") === b.join("\n") : a === b;
}

function text(v: ClusterOptions[keyof ClusterOptions]): string | undefined {
  if (v === undefined) return undefined;
  return Array.isArray(v) ? clusterUrlsText(v) : String(v);
}
