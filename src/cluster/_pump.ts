/**
 * The outbox pump (docs/CLUSTER.md, "No head-of-line blocking"): sends the outbox's entries one at
 * a time while the node is connected and has its buckets, and waits (a kick ends the wait) while
 * it is not or the outbox is empty.
 *
 * @module
 */

import type { Outbox } from "./outbox.ts";
import { type FleetKv, isKeyExists } from "./_buckets.ts";
import type { Sleeper } from "./_sleeper.ts";

/** What the pump needs from the fleet. */
export interface PumpHost {
  /** Whether the fleet is closing: the pump ends. */
  closing(): boolean;
  /** The buckets while connected and joined, else undefined. */
  writable(): FleetKv | undefined;
  /** The writes to send. */
  readonly outbox: Outbox;
  /** Keys of grants this process deleted: a revocation is added just before it is sent. */
  readonly revoked: Set<string>;
  /** The fleet's waits. */
  readonly sleeper: Sleeper;
}

/** Sends the outbox until the fleet closes. */
export async function pump(host: PumpHost): Promise<void> {
  while (!host.closing()) {
    const kv = host.writable();
    const entry = kv !== undefined ? host.outbox.peek(Date.now()) : undefined;
    if (entry === undefined || kv === undefined) {
      await host.sleeper.sleep(1000, true);
      continue;
    }
    const bucket = entry.bucket === "grants"
      ? kv.grants
      : entry.bucket === "used"
      ? kv.used
      : kv.nodes;
    try {
      if (entry.value === undefined) {
        // Marked as sent before the watch can see it (not at enqueue: a revocation dropped
        // from a full outbox would stay in the set and hide a later one from another node).
        if (entry.bucket === "grants") host.revoked.add(entry.key);
        await bucket.delete(entry.key);
      } else if (entry.bucket === "used") await bucket.create(entry.key, entry.value);
      else await bucket.put(entry.key, entry.value);
      host.outbox.done(entry);
    } catch (e) {
      // A mark someone else created meanwhile (or our own timed-out claim) is there: done.
      if (entry.bucket === "used" && isKeyExists(e)) host.outbox.done(entry);
      else if (!host.closing()) await host.sleeper.sleep(500, true);
    }
  }
}
