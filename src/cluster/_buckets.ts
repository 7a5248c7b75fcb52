/**
 * The fleet's three key-value buckets (docs/CLUSTER.md): the bucket manager (through a JetStream
 * domain when set), opening a bucket or creating it when missing (three replicas when the NATS
 * system has them, else one), and the test for an atomic create that found its key taken.
 *
 * @module
 */

import type { NatsConnection } from "@nats-io/transport-node";
import { type KV, Kvm } from "@nats-io/kv";
import { jetstream } from "@nats-io/jetstream";
import type { FleetBuckets } from "./keys.ts";
import { errorText, type FleetSettings } from "./_connection.ts";

/** The open buckets. */
export interface FleetKv {
  /** Live grants, by door and address. */
  readonly grants: KV;
  /** Single-use marks, written with an atomic create. */
  readonly used: KV;
  /** Presence records, one per node. */
  readonly nodes: KV;
}

const JSON_TIMEOUT_MS = 5000;
/** Bucket limit: how long a grant, used mark or presence record is kept at most. */
const GRANTS_MAX_AGE_MS = 24 * 3600 * 1000;
const NODES_MAX_AGE_MS = 24 * 3600 * 1000;

/** Whether an atomic create failed because the key exists. */
export function isKeyExists(e: unknown): boolean {
  return /wrong last sequence|key exists/i.test(errorText(e));
}

/**
 * The bucket manager for `settings`: through the JetStream domain `Cluster_Domain` when set (a
 * node on a leaf node server reaches the hub's buckets only that way), else the connected
 * server's own JetStream.
 *
 * @param nc The connection.
 * @param settings The node's settings.
 * @returns The manager.
 */
export function bucketManager(nc: NatsConnection, settings: FleetSettings): Kvm {
  return new Kvm(
    settings.domain === undefined ? nc : jetstream(nc, { domain: settings.domain }),
  );
}

/**
 * Whether creating a replicated bucket failed because the NATS system cannot hold three replicas
 * (a single server, or fewer than three JetStream servers up): then one replica is the most it
 * gets. Any other failure (a timeout while a cluster is still electing its leader) is retried as
 * a whole, so a three-server cluster never ends up with a one-replica bucket by accident.
 */
function cannotReplicate(e: unknown): boolean {
  return /replicas > 1 not supported|insufficient resources/i.test(errorText(e));
}

/**
 * Opens a bucket, creating it when missing: replicated on three servers when the NATS system has
 * them, else on one.
 */
async function openBucket(kvm: Kvm, name: string, maxAgeMs: number): Promise<KV> {
  try {
    // open() binds without asking the server; status() finds out whether the stream exists.
    const kv = await kvm.open(name, { timeout: JSON_TIMEOUT_MS });
    await kv.status();
    return kv;
  } catch (e) {
    // Missing: create it below. Anything else (a timeout while the bucket elects a leader) is
    // retried as a whole by the caller rather than taken for a missing bucket.
    if (!/stream not found/i.test(errorText(e))) throw e;
  }
  const opts = { history: 1, ttl: maxAgeMs, timeout: JSON_TIMEOUT_MS };
  try {
    return await kvm.create(name, { ...opts, replicas: 3 });
  } catch (e) {
    if (!cannotReplicate(e)) throw e;
    return await kvm.create(name, { ...opts, replicas: 1 });
  }
}

/**
 * Opens the fleet's three buckets in turn (grants, used, nodes), creating each one missing. A
 * failure is thrown for the caller to retry the whole set-up.
 */
export async function openBuckets(
  nc: NatsConnection,
  settings: FleetSettings,
  buckets: FleetBuckets,
): Promise<FleetKv> {
  const kvm = bucketManager(nc, settings);
  const grants = await openBucket(kvm, buckets.grants, GRANTS_MAX_AGE_MS);
  const used = await openBucket(kvm, buckets.used, GRANTS_MAX_AGE_MS);
  const nodes = await openBucket(kvm, buckets.nodes, NODES_MAX_AGE_MS);
  return { grants, used, nodes };
}

/** The result of an atomic single-use claim. */
export type ClaimResult = "claimed" | "used" | "unreachable";

/**
 * Creates `key` in the used bucket with an atomic create, waiting at most `timeoutMs`: `claimed`,
 * `used` when the key exists (someone claimed it first), or `unreachable`.
 */
export async function createMark(
  used: KV,
  key: string,
  value: string,
  timeoutMs: number,
): Promise<ClaimResult> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<ClaimResult>((resolve) => {
    timer = setTimeout(resolve, timeoutMs, "unreachable");
  });
  const attempt = used.create(key, value).then(
    (): ClaimResult => "claimed",
    (e): ClaimResult => isKeyExists(e) ? "used" : "unreachable",
  );
  try {
    return await Promise.race([attempt, late]);
  } finally {
    clearTimeout(timer);
  }
}
