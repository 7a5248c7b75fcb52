/**
 * The cluster's data model without NATS: bucket names, key encoding, and the records stored in
 * the buckets, read defensively (a record written by another node is input like a packet: a bad
 * one is skipped, never thrown). See docs/CLUSTER.md, "Data model".
 *
 * @module
 */

/** A grant shared with the fleet: the value under `<door>.<address>` in the grants bucket. */
export interface FleetGrant {
  /** The door's name (its `[section]`). */
  readonly door: string;
  /** The knocker's address as text (`192.0.2.1`, `2001:db8::1`). */
  readonly address: string;
  /** When it was granted, milliseconds since the epoch. */
  readonly since: number;
  /** When it closes, milliseconds since the epoch. */
  readonly until: number;
  /** The node that granted it (`Cluster_Node`). */
  readonly origin: string;
}

/** A node's presence record: the value under `<node>` in the nodes bucket. */
export interface NodeRecord {
  /** The node's name. */
  readonly node: string;
  /** When it last said it was alive, milliseconds since the epoch. */
  readonly at: number;
  /** When it started, milliseconds since the epoch. */
  readonly started: number;
}

/** The three buckets of one fleet. */
export interface FleetBuckets {
  /** Live grants: `<door>.<address>` → {@link FleetGrant}. */
  readonly grants: string;
  /** Single-use marks: `<door>.<mark>` → who used it, created atomically. */
  readonly used: string;
  /** Presence: `<node>` → {@link NodeRecord}. */
  readonly nodes: string;
}

/** Characters a fleet or node name may use: what a NATS bucket name and a key token allow. */
const NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Whether a fleet name (`Cluster_Name`) can name buckets: 1–64 of `A-Z a-z 0-9 _ -`.
 *
 * @param name The name.
 * @returns True when it can.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isFleetName } from "./keys.ts";
 * assert.equal(isFleetName("knocktool"), true);
 * assert.equal(isFleetName("edge.eu"), false);
 * ```
 */
export function isFleetName(name: string): boolean {
  return NAME_RE.test(name);
}

/**
 * The bucket names of a fleet: `knocktool_<fleet>_grants`, `_used`, `_nodes`.
 *
 * @param fleet The fleet name (`Cluster_Name`), already checked with {@link isFleetName}.
 * @returns The three names.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fleetBuckets } from "./keys.ts";
 * assert.equal(fleetBuckets("edge").grants, "knocktool_edge_grants");
 * ```
 */
export function fleetBuckets(fleet: string): FleetBuckets {
  const base = `knocktool_${fleet}`;
  return { grants: `${base}_grants`, used: `${base}_used`, nodes: `${base}_nodes` };
}

/**
 * Encodes text as one key token: `A-Z a-z 0-9 -` stay, every other UTF-8 byte becomes `_HH`
 * (upper-case hex). Reversible, and never contains `.`, the token separator.
 *
 * @param text Any text.
 * @returns The token (`_` for the empty text, which no encoding produces otherwise).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeToken } from "./keys.ts";
 * assert.equal(encodeToken("ssh door"), "ssh_20door");
 * assert.equal(encodeToken("192.0.2.1"), "192_2E0_2E2_2E1");
 * ```
 */
export function encodeToken(text: string): string {
  if (text === "") return "_";
  let out = "";
  for (const b of new TextEncoder().encode(text)) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9-]/.test(c) ? c : `_${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/**
 * Decodes a token made by {@link encodeToken}.
 *
 * @param token The token.
 * @returns The text, or undefined when the token is not one {@link encodeToken} makes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeToken } from "./keys.ts";
 * assert.equal(decodeToken("ssh_20door"), "ssh door");
 * assert.equal(decodeToken("bad_G0"), undefined);
 * ```
 */
export function decodeToken(token: string): string | undefined {
  if (token === "_") return "";
  const bytes: number[] = [];
  for (let i = 0; i < token.length;) {
    const c = token[i]!;
    if (c === "_") {
      const hex = token.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 3;
    } else if (/[A-Za-z0-9-]/.test(c)) {
      bytes.push(c.charCodeAt(0));
      i++;
    } else {
      return undefined;
    }
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array(bytes));
  } catch {
    return undefined;
  }
}

/**
 * The grants bucket's key of a (door, address) pair: `<door>.<address>`, each token-encoded.
 *
 * @param door The door's name.
 * @param address The knocker's address.
 * @returns The key.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { grantKey } from "./keys.ts";
 * assert.equal(grantKey("ssh", "2001:db8::1"), "ssh.2001_3Adb8_3A_3A1");
 * ```
 */
export function grantKey(door: string, address: string): string {
  return `${encodeToken(door)}.${encodeToken(address)}`;
}

/**
 * The used bucket's key of a single-use mark: `<door>.<mark>`, each token-encoded.
 *
 * @param door The door's name.
 * @param mark What was used (a one-time sequence's text, a secret sequence's time slot).
 * @returns The key.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { usedKey } from "./keys.ts";
 * assert.equal(usedKey("ssh", "7000,8000"), "ssh.7000_2C8000");
 * ```
 */
export function usedKey(door: string, mark: string): string {
  return `${encodeToken(door)}.${encodeToken(mark)}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isTime(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
}

/**
 * Reads a grant record from the bytes stored under `key`; the key must agree with the record.
 *
 * @param key The key it was stored under.
 * @param bytes The stored value.
 * @returns The grant, or undefined for anything malformed.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { grantKey, parseGrant } from "./keys.ts";
 * const g = { door: "ssh", address: "192.0.2.1", since: 1, until: 2, origin: "a" };
 * const bytes = new TextEncoder().encode(JSON.stringify(g));
 * assert.deepEqual(parseGrant(grantKey("ssh", "192.0.2.1"), bytes), g);
 * assert.equal(parseGrant("other.key", bytes), undefined);
 * ```
 */
export function parseGrant(key: string, bytes: Uint8Array): FleetGrant | undefined {
  const v = parseJson(bytes);
  if (!isObject(v)) return undefined;
  const { door, address, since, until, origin } = v;
  if (typeof door !== "string" || typeof address !== "string" || typeof origin !== "string") {
    return undefined;
  }
  if (!isTime(since) || !isTime(until) || until < since) return undefined;
  if (grantKey(door, address) !== key) return undefined;
  return { door, address, since, until, origin };
}

/**
 * Reads a node record; the key must be the node's encoded name.
 *
 * @param key The key it was stored under.
 * @param bytes The stored value.
 * @returns The record, or undefined for anything malformed.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseNode } from "./keys.ts";
 * const bytes = new TextEncoder().encode('{"node":"gw1","at":5,"started":1}');
 * assert.deepEqual(parseNode("gw1", bytes), { node: "gw1", at: 5, started: 1 });
 * ```
 */
export function parseNode(key: string, bytes: Uint8Array): NodeRecord | undefined {
  const v = parseJson(bytes);
  if (!isObject(v)) return undefined;
  const { node, at, started } = v;
  if (typeof node !== "string" || !isTime(at) || !isTime(started)) return undefined;
  if (encodeToken(node) !== key) return undefined;
  return { node, at, started };
}
