/**
 * The live grants on disk (docs/GRANTS.md): `STATE_DIR/grants.json`, rewritten atomically
 * (`state_file.ts`) whenever a grant opens, is refreshed or closes, and before a start command
 * runs, so that after a crash the stop commands that fell due run at once and the others are
 * rescheduled.
 *
 * @module
 */
import type { NftSetRef } from "../config/model.ts";
import type { Family } from "../wire/packet.ts";
import type { Grant } from "./grants.ts";
import { readJsonFile, writeJsonAtomic, writeJsonAtomicAsync } from "./state_file.ts";

/** A grant as stored. */
export interface StoredGrant {
  /** The door's name. */
  readonly door: string;
  /** The address. */
  readonly address: string;
  /** 4 or 6. */
  readonly family: Family;
  /** Opened (ms since the epoch). */
  readonly since: number;
  /** Closes (ms since the epoch), or null. */
  readonly until: number | null;
  /** The expanded stop command. */
  readonly stop?: string;
  /** Its set. */
  readonly set?: NftSetRef;
}

function stored(grants: readonly Grant[]): { version: 1; grants: StoredGrant[] } {
  return {
    version: 1,
    grants: grants.map((g): StoredGrant => ({
      door: g.door,
      address: g.address,
      family: g.family,
      since: g.since,
      until: g.until,
      ...(g.stop !== undefined ? { stop: g.stop } : {}),
      ...(g.set !== undefined ? { set: g.set } : {}),
    })),
  };
}

/** The grants file of a state directory. */
export class GrantState {
  /** The file's path. */
  readonly path: string;

  /**
   * Names the file.
   *
   * @param stateDir The state directory.
   */
  constructor(stateDir: string) {
    this.path = `${stateDir.replace(/\/+$/, "") || "/"}/grants.json`;
  }

  /**
   * Writes the grants.
   *
   * @param grants The live grants.
   * @throws {Error} When the file cannot be written.
   */
  save(grants: readonly Grant[]): void {
    writeJsonAtomic(this.path, stored(grants));
  }

  /**
   * Writes the grants off the event loop (`writeJsonAtomicAsync`).
   *
   * @param grants The live grants (read at once).
   * @param stillWanted Asked just before the file is replaced; false: a newer write won.
   * @returns Whether the file was replaced.
   * @throws {Error} When the file cannot be written.
   */
  saveAsync(grants: readonly Grant[], stillWanted: () => boolean): Promise<boolean> {
    return writeJsonAtomicAsync(this.path, stored(grants), stillWanted);
  }

  /**
   * Reads the grants (none when the file does not exist).
   *
   * @returns The stored grants.
   * @throws {Error} When the file cannot be read or is not a grants file.
   */
  load(): StoredGrant[] {
    const v = readJsonFile(this.path);
    if (v === undefined) return [];
    const doc = v as { version?: unknown; grants?: unknown };
    if (doc.version !== 1 || !Array.isArray(doc.grants)) {
      throw new Error(`Cannot read state file ${JSON.stringify(this.path)}: not a grants file`);
    }
    return doc.grants.filter((g): g is StoredGrant =>
      typeof g === "object" && g !== null && typeof g.door === "string" &&
      typeof g.address === "string" && (g.family === 4 || g.family === 6) &&
      typeof g.since === "number" && (g.until === null || typeof g.until === "number")
    );
  }
}
