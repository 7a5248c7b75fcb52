/**
 * The grant table (docs/GRANTS.md): every open door is a grant, keyed by (door, address), with
 * when it opened, until when it stays open and how it closes (a stop command, set elements, or
 * both). One entry per key: opening an open door refreshes the entry, never adds a second one.
 *
 * @module
 */
import type { NftSetRef } from "../config/model.ts";
import type { Family } from "../wire/packet.ts";

/** One open door for one address. */
export interface Grant {
  /** The door's name. */
  readonly door: string;
  /** The knocker's address. */
  readonly address: string;
  /** 4 or 6. */
  readonly family: Family;
  /** When it opened (ms since the epoch). */
  readonly since: number;
  /** When it closes (ms since the epoch); null: never (a negative `Cmd_Timeout`). */
  until: number | null;
  /** The expanded stop command that closes it, if any. */
  readonly stop?: string;
  /** The set it is an element of, if any. */
  readonly set?: NftSetRef;
  /** How it was opened. */
  readonly via: "knock" | "grant" | "restored" | "fleet";
}

/** The key of a grant. */
export function grantKey(door: string, address: string): string {
  return `${door}\u0000${address}`;
}

/**
 * Grants by (door, address).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { GrantTable } from "./grants.ts";
 * const t = new GrantTable();
 * t.put({ door: "ssh", address: "192.0.2.2", family: 4, since: 0, until: 10_000, via: "knock" });
 * t.put({ door: "ssh", address: "192.0.2.2", family: 4, since: 0, until: 20_000, via: "knock" });
 * assert.equal(t.size, 1);
 * assert.equal(t.get("ssh", "192.0.2.2")?.until, 20_000);
 * ```
 */
export class GrantTable {
  readonly #grants = new Map<string, Grant>();

  /** Number of grants. */
  get size(): number {
    return this.#grants.size;
  }

  /** The grant of a door for an address. */
  get(door: string, address: string): Grant | undefined {
    return this.#grants.get(grantKey(door, address));
  }

  /** Adds or replaces the grant of its (door, address). */
  put(g: Grant): void {
    this.#grants.set(grantKey(g.door, g.address), g);
  }

  /** Removes a grant; true when it was there. */
  delete(g: Pick<Grant, "door" | "address">): boolean {
    return this.#grants.delete(grantKey(g.door, g.address));
  }

  /** Every grant, oldest first. */
  list(): Grant[] {
    return [...this.#grants.values()];
  }

  /**
   * The grants of an address (of one door when `door` is given).
   *
   * @param address The address.
   * @param door Only this door's.
   * @returns The matching grants.
   */
  find(address: string, door?: string): Grant[] {
    return this.list().filter((g) =>
      g.address === address && (door === undefined || g.door === door)
    );
  }
}
