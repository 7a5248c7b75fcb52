/**
 * The `[options]` directives of cluster mode (docs/CLUSTER.md): `Cluster`, `Cluster_Name`,
 * `Cluster_Node`, `Cluster_Creds`, `Cluster_CA`, `Cluster_Domain`. Parsed here, beside the parser, so that
 * `parse.ts` only dispatches to them.
 *
 * @module
 */
import type { ClusterOptions } from "./model.ts";

/** The fleet name used when `Cluster_Name` is absent. */
export const DEFAULT_CLUSTER_NAME = "knocktool";

/** Characters a fleet or node name may use: what a NATS bucket name and key token allow. */
const NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** `nats://host[:port]` or `tls://host[:port]`, with an optional `user:pass@`. */
const URL_RE = /^(nats|tls):\/\/([^\s/@]+@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?\/?$/;

/**
 * A `Cluster` URL as it may be logged or printed: a user and password (or token) before `@`
 * become `***`, so the secret in `nats://user:password@host` is never shown (docs/CLUSTER.md).
 *
 * @param url A URL as written in `Cluster`.
 * @returns The URL without its credentials.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { redactClusterUrl } from "./cluster_directives.ts";
 * assert.equal(redactClusterUrl("nats://gw:s3cret@192.0.2.1:4222"), "nats://***@192.0.2.1:4222");
 * assert.equal(redactClusterUrl("tls://192.0.2.1"), "tls://192.0.2.1");
 * ```
 */
export function redactClusterUrl(url: string): string {
  return url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^\s/@]+@/, "$1***@");
}

/**
 * The `Cluster` URLs as they may be logged or printed: comma-separated, each without credentials.
 *
 * @param urls The URLs.
 * @returns The text.
 */
export function clusterUrlsText(urls: readonly string[]): string {
  return urls.map(redactClusterUrl).join(", ");
}

const KEYS = new Set([
  "CLUSTER",
  "CLUSTER_NAME",
  "CLUSTER_NODE",
  "CLUSTER_CREDS",
  "CLUSTER_CA",
  "CLUSTER_DOMAIN",
]);

/** What the parser collects before {@link clusterOptions} checks it. */
export type ClusterDraft = { -readonly [K in keyof ClusterOptions]?: ClusterOptions[K] };

/**
 * Whether an upper-cased `[options]` key is one of cluster mode's.
 *
 * @param key The key.
 * @returns True when it is.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isClusterKey } from "./cluster_directives.ts";
 * assert.equal(isClusterKey("CLUSTER_NAME"), true);
 * assert.equal(isClusterKey("LOGFILE"), false);
 * ```
 */
export function isClusterKey(key: string): boolean {
  return KEYS.has(key);
}

/**
 * Applies one cluster directive to the draft.
 *
 * @param draft What was collected so far.
 * @param key The upper-cased key.
 * @param value The trimmed value.
 * @param line Its 1-based line.
 * @returns What is wrong with the value, or undefined.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { applyClusterDirective, type ClusterDraft } from "./cluster_directives.ts";
 * const d: ClusterDraft = {};
 * assert.equal(applyClusterDirective(d, "CLUSTER", "nats://192.0.2.1:4222, nats://gw2", 3), undefined);
 * assert.deepEqual(d.servers, ["nats://192.0.2.1:4222", "nats://gw2"]);
 * assert.equal(applyClusterDirective(d, "CLUSTER", "http://x", 3), '"http://x" is not a nats:// or tls:// URL');
 * ```
 */
export function applyClusterDirective(
  draft: ClusterDraft,
  key: string,
  value: string,
  line: number,
): string | undefined {
  switch (key) {
    case "CLUSTER": {
      const urls = value.split(",").map((u) => u.trim()).filter((u) => u !== "");
      if (urls.length === 0) return "needs at least one nats://HOST:PORT URL";
      const bad = urls.find((u) => !URL_RE.test(u));
      if (bad !== undefined) return `"${redactClusterUrl(bad)}" is not a nats:// or tls:// URL`;
      draft.servers = urls;
      draft.line = line;
      return undefined;
    }
    case "CLUSTER_NAME":
    case "CLUSTER_NODE":
    case "CLUSTER_DOMAIN":
      if (!NAME_RE.test(value)) {
        return `"${value}" must be 1 to 64 of the characters A-Z a-z 0-9 _ -`;
      }
      if (key === "CLUSTER_NAME") draft.name = value;
      else if (key === "CLUSTER_NODE") draft.node = value;
      else draft.domain = value;
      return undefined;
    case "CLUSTER_CREDS":
    case "CLUSTER_CA":
      if (value === "") return "needs a file";
      if (key === "CLUSTER_CREDS") draft.creds = value;
      else draft.ca = value;
      return undefined;
  }
  return `unknown cluster directive`;
}

/**
 * The finished cluster settings: present only when `Cluster` was given.
 *
 * @param draft What the parser collected.
 * @returns `{ cluster }` or `{}`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clusterOptions } from "./cluster_directives.ts";
 * assert.deepEqual(clusterOptions({ servers: ["nats://a"], line: 2 }), {
 *   cluster: { servers: ["nats://a"], name: "knocktool", line: 2 },
 * });
 * assert.deepEqual(clusterOptions({ name: "edge" }), {});
 * ```
 */
export function clusterOptions(draft: ClusterDraft): { cluster?: ClusterOptions } {
  if (draft.servers === undefined || draft.line === undefined) return {};
  return {
    cluster: {
      servers: draft.servers,
      name: draft.name ?? DEFAULT_CLUSTER_NAME,
      ...(draft.node !== undefined ? { node: draft.node } : {}),
      ...(draft.creds !== undefined ? { creds: draft.creds } : {}),
      ...(draft.ca !== undefined ? { ca: draft.ca } : {}),
      ...(draft.domain !== undefined ? { domain: draft.domain } : {}),
      line: draft.line,
    },
  };
}
