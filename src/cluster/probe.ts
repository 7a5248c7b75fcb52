/**
 * `knocktool check --probe`: connects to the cluster once, with the node's settings, and reports
 * the server, the fleet's buckets and its nodes without writing anything (docs/CLUSTER.md).
 * Imports the NATS client: load it with a dynamic `import()`.
 *
 * @module
 */

import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { bucketManager } from "./_buckets.ts";
import { connectionOptions, type FleetSettings } from "./_connection.ts";
import { fleetBuckets, type NodeRecord, parseNode } from "./keys.ts";

/** One bucket as the probe found it. */
export interface ProbedBucket {
  /** The bucket's name. */
  readonly name: string;
  /** How many keys it holds, or null when it does not exist yet. */
  readonly values: number | null;
}

/** What the probe found. */
export interface ProbeReport {
  /** The server it reached (`host:port`). */
  readonly server: string;
  /** That server's version. */
  readonly version: string;
  /** Whether the server has JetStream enabled. */
  readonly jetstream: boolean;
  /** The fleet's three buckets. */
  readonly buckets: readonly ProbedBucket[];
  /** The fleet's nodes, from the nodes bucket. */
  readonly nodes: readonly NodeRecord[];
}

/**
 * Connects once (no retries) and reads the fleet's buckets.
 *
 * @param settings The node's settings.
 * @param timeoutMs Connection timeout (default 3000).
 * @returns The report.
 * @throws {Error} When the server cannot be reached or refuses the connection.
 */
export async function probeCluster(
  settings: FleetSettings,
  timeoutMs = 3000,
): Promise<ProbeReport> {
  const nc = await connect({
    ...connectionOptions(settings),
    maxReconnectAttempts: 0,
    timeout: timeoutMs,
  });
  try {
    const info = nc.info;
    // Through a leaf node the server itself may have no JetStream: ask the domain's.
    let jetstream = info?.jetstream === true;
    if (settings.domain !== undefined) {
      jetstream = await jetstreamManager(nc, { domain: settings.domain, timeout: timeoutMs })
        .then((m) => m.getAccountInfo()).then(() => true, () => false);
    }
    const names = fleetBuckets(settings.fleet);
    const buckets: ProbedBucket[] = [];
    const nodes: NodeRecord[] = [];
    const kvm = bucketManager(nc, settings);
    for (const name of [names.grants, names.used, names.nodes]) {
      let values: number | null = null;
      if (jetstream) {
        try {
          const kv = await kvm.open(name, { timeout: timeoutMs });
          values = (await kv.status()).values;
          if (name === names.nodes) {
            const keys: string[] = [];
            for await (const k of await kv.keys()) keys.push(k);
            for (const k of keys.sort()) {
              const e = await kv.get(k);
              const rec = e === null || e.operation !== "PUT" ? undefined : parseNode(k, e.value);
              if (rec !== undefined) nodes.push(rec);
            }
          }
        } catch {
          values = null;
        }
      }
      buckets.push({ name, values });
    }
    return { server: nc.getServer(), version: info?.version ?? "", jetstream, buckets, nodes };
  } finally {
    await nc.close();
  }
}
