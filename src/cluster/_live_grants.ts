/**
 * The live grants a node has seen (its own and the fleet's, from the watch), by key: what
 * `status` shows, kept bounded by sweeping out expired grants (docs/CLUSTER.md).
 *
 * @module
 */

import type { FleetGrant } from "./keys.ts";

/** The live-grant map is swept of expired grants when it reaches this size (then twice its size). */
const GRANTS_SWEEP_MIN = 1024;

/** Live grants seen by the watch or made here, by key. */
export class LiveGrants {
  readonly #grants = new Map<string, FleetGrant>();
  /** The size of {@link #grants} at which expired grants are next swept out. */
  #grantsSweepAt = GRANTS_SWEEP_MIN;

  /**
   * Keeps `grant`. Expired grants are removed by a sweep when the map has doubled since the last
   * one: a bucket entry's expiry is not seen by the watch (nothing is deleted at `until`), so
   * without it the map would keep every (door, address) ever granted.
   */
  remember(key: string, grant: FleetGrant): void {
    this.#grants.set(key, grant);
    if (this.#grants.size < this.#grantsSweepAt) return;
    const now = Date.now();
    for (const [k, g] of this.#grants) if (g.until <= now) this.#grants.delete(k);
    this.#grantsSweepAt = Math.max(GRANTS_SWEEP_MIN, 2 * this.#grants.size);
  }

  /** Forgets the grant under `key` (revoked or expired). */
  delete(key: string): void {
    this.#grants.delete(key);
  }

  /** Grants kept, expired ones not yet swept included. */
  get size(): number {
    return this.#grants.size;
  }

  /** The grants still live at `now`, by door then address. */
  live(now: number): FleetGrant[] {
    return [...this.#grants.values()].filter((g) => g.until > now)
      .sort((a, b) => a.door.localeCompare(b.door) || a.address.localeCompare(b.address));
  }
}
