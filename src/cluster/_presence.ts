/**
 * Presence (docs/CLUSTER.md): the record a node's heartbeat puts in the nodes bucket, and the read
 * of that bucket `status` shows.
 *
 * @module
 */

import type { KV } from "@nats-io/kv";
import { encodeToken, type NodeRecord, parseNode } from "./keys.ts";
import type { OutboxEntry } from "./outbox.ts";

/** The outbox entry of `node`'s presence record, heard at `at`, its process started at `started`. */
export function presenceEntry(node: string, started: number, at: number): OutboxEntry {
  const rec: NodeRecord = { node, at, started };
  return {
    bucket: "nodes",
    key: encodeToken(node),
    value: JSON.stringify(rec),
    expires: undefined,
  };
}

/**
 * Reads every presence record of the nodes bucket, by key.
 *
 * @throws When the bucket cannot be read.
 */
export async function readNodes(nodes: KV): Promise<NodeRecord[]> {
  const records: NodeRecord[] = [];
  const keys: string[] = [];
  for await (const k of await nodes.keys()) keys.push(k);
  for (const k of keys.sort()) {
    const e = await nodes.get(k);
    const rec = e === null || e.operation !== "PUT" ? undefined : parseNode(k, e.value);
    if (rec !== undefined) records.push(rec);
  }
  return records;
}

/** The fleet's nodes as last read from the nodes bucket (at every heartbeat, and for `status`). */
export class NodeList {
  #nodes: readonly NodeRecord[] = [];
  #reading: Promise<void> | undefined;

  /** The nodes as last read (empty before the first read). */
  get nodes(): readonly NodeRecord[] {
    return this.#nodes;
  }

  /** The heartbeat's read under way, if any. */
  get reading(): Promise<void> | undefined {
    return this.#reading;
  }

  /**
   * Reads the nodes bucket into the list; keeps the old list when it cannot, or when `nodes` is
   * undefined (not connected).
   */
  async read(nodes: KV | undefined): Promise<void> {
    if (nodes !== undefined) {
      try {
        this.#nodes = await readNodes(nodes);
      } catch {
        // a status request does not fail because the cluster went away meanwhile
      }
    }
  }

  /** Starts a {@link read} unless the previous one started here is still under way. */
  refresh(nodes: KV | undefined): void {
    if (this.#reading === undefined) {
      this.#reading = this.read(nodes).finally(() => (this.#reading = undefined));
    }
  }
}
