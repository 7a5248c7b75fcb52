/**
 * The server side of secret-derived sequences (docs/SECRET-SEQUENCES.md): the doors' keys, the
 * window of acceptable sequences, and the used marks with their state file.
 *
 * The matcher knows nothing of secrets. Each secret door gets 3 × {@link SECRET_SLOTS} *virtual
 * doors* appended after the configured ones: copies of the door whose sequence is one derived
 * (step, slot). Virtual door `base + (step mod 3) × SLOTS + slot` holds step `step`, so when the
 * window moves from steps S-1..S+1 to S..S+2 only the S-1 group is replaced (attempts on the
 * other two steps continue). The daemon maps a virtual door's `open` back to its configured door
 * through {@link SecretDoors.spend}, which refuses a spent sequence (a replay) and writes the mark
 * durably before the command runs.
 *
 * @module
 */
import type { Config, Door, Knock, SecretDoor, SecretParams } from "../config/model.ts";
import { readSecretFile } from "../config/secret_file.ts";
import {
  deriveSequence,
  importSecretKey,
  SECRET_SKEW_STEPS,
  SECRET_SLOTS,
  secretStep,
} from "../match/secret_derive.ts";
import { UsedMarks } from "../match/secret_marks.ts";
import { readJsonFile, writeJsonAtomic } from "./state_file.ts";

/** The used marks' file name inside `State_Dir`. */
export const USED_MARKS_FILE = "secret-used.json";

/**
 * The name a door's used marks are kept under: `DOOR|STEP|FINGERPRINT`, the fingerprint being the
 * first 8 bytes of SHA-256 over the key and the parameters (not reversible to the key). A new
 * secret or new parameters derive new sequences, so they start with no spent ones, while the
 * marks of the old derivation stay until its window has passed (docs/SECRET-SEQUENCES.md §5).
 *
 * @param door The door name.
 * @param key The secret.
 * @param p The door's parameters.
 * @returns The name.
 */
export async function markName(door: string, key: Uint8Array, p: SecretParams): Promise<string> {
  const params = new TextEncoder().encode(
    `\0${door}\0${p.length}\0${p.low}-${p.high}\0${p.step}\0${p.protocols}`,
  );
  const data = new Uint8Array(key.length + params.length);
  data.set(key);
  data.set(params, key.length);
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  const fp = [...hash.subarray(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${door}|${p.step}|${fp}`;
}

/** A door's secret file cannot be used; `line` is its `Secret_File` line in the config. */
export class SecretFileError extends Error {
  /** 1-based line of the door's `Secret_File`. */
  readonly line: number;

  /**
   * @param message The reason, naming the door and the file.
   * @param line The `Secret_File` line.
   */
  constructor(message: string, line: number) {
    super(message);
    this.name = "SecretFileError";
    this.line = line;
  }
}

/** Steps held per secret door: the previous, the current and the next. */
const GROUPS = 2 * SECRET_SKEW_STEPS + 1;

interface SecretEntry {
  readonly configIndex: number;
  readonly door: Door;
  readonly spec: SecretDoor;
  readonly key: Uint8Array;
  cryptoKey?: CryptoKey;
  /** The name its used marks are kept under ({@link markName}); set by the first window. */
  markName?: string;
  /** Index of the first virtual door. */
  readonly base: number;
}

/** What a virtual door holds now. */
interface Assigned {
  readonly step: number;
  readonly slot: number;
  readonly knocks: readonly Knock[];
}

/** A change to apply to the matcher: virtual door `index` now has `knocks`. */
export interface WindowChange {
  /** The virtual door's index in the matcher. */
  readonly index: number;
  /** Its new sequence. */
  readonly knocks: readonly Knock[];
}

/** The outcome of {@link SecretDoors.spend}. */
export type SpendResult =
  | {
    readonly kind: "open";
    readonly door: Door;
    readonly step: number;
    readonly slot: number;
    /** The fleet-wide single-use mark (cluster mode): `STEP:SLOT:FINGERPRINT`. */
    readonly mark: string;
  }
  | { readonly kind: "replay"; readonly door: Door; readonly step: number; readonly slot: number }
  | { readonly kind: "error"; readonly door: Door; readonly message: string };

/**
 * The secret doors of one config.
 *
 * @example
 * ```ts ignore
 * const secrets = SecretDoors.open(config, "/var/lib/knocktool");
 * const changes = await secrets.window(Date.now() / 1000);
 * ```
 */
export class SecretDoors {
  readonly #entries: SecretEntry[];
  readonly #configCount: number;
  readonly #assigned = new Map<number, Assigned>();
  readonly #marks: UsedMarks;
  readonly #statePath: string;

  private constructor(
    entries: SecretEntry[],
    configCount: number,
    marks: UsedMarks,
    statePath: string,
  ) {
    this.#entries = entries;
    this.#configCount = configCount;
    this.#marks = marks;
    this.#statePath = statePath;
  }

  /**
   * Reads every secret door's file and the used marks.
   *
   * @param config The config.
   * @param stateDir `State_Dir` (made when missing, only when there is a secret door).
   * @returns The secret doors (none when the config has none).
   * @throws {SecretFileError} A secret file that is unsafe, short or unreadable (the message names
   *   the door and the file).
   * @throws {Error} A state directory or file that cannot be made or read.
   */
  static open(config: Config, stateDir: string): SecretDoors {
    const entries: SecretEntry[] = [];
    let base = config.doors.length;
    config.doors.forEach((door, configIndex) => {
      const spec = door.secret;
      if (spec === undefined) return;
      const r = readSecretFile(spec.file, door.name);
      if (!r.ok) throw new SecretFileError(r.message, spec.line);
      entries.push({ configIndex, door, spec, key: r.key, base });
      base += GROUPS * SECRET_SLOTS;
    });
    const statePath = `${stateDir.replace(/\/+$/, "")}/${USED_MARKS_FILE}`;
    if (entries.length === 0) return new SecretDoors([], config.doors.length, new UsedMarks(), "");
    const stored = readJsonFile(statePath);
    const marks = UsedMarks.fromJSON(stored);
    if ("error" in marks) {
      throw new Error(
        `Cannot read state file ${JSON.stringify(statePath)}: ${marks.error} ` +
          `(remove it only if no spent sequence can still be replayed)`,
      );
    }
    // Written now when missing: a state directory that cannot be written stops the start, not
    // the first knock.
    if (stored === undefined) writeJsonAtomic(statePath, marks.toJSON());
    return new SecretDoors(entries, config.doors.length, marks, statePath);
  }

  /** Whether the config has secret doors. */
  get any(): boolean {
    return this.#entries.length > 0;
  }

  /** Number of virtual doors (appended after the configured doors in the matcher). */
  get virtualCount(): number {
    return this.#entries.length * GROUPS * SECRET_SLOTS;
  }

  /**
   * The virtual doors as the matcher is created with them (each is then disabled until
   * {@link window} fills it).
   *
   * @returns Copies of the secret doors, one per virtual index, without a sequence.
   */
  placeholderDoors(): Door[] {
    return this.#entries.flatMap((e) =>
      Array.from({ length: GROUPS * SECRET_SLOTS }, () => ({ ...e.door, sequence: [] }))
    );
  }

  /**
   * The virtual doors with their current sequences (for the capture filter).
   *
   * @returns The doors in use.
   */
  activeDoors(): Door[] {
    const out: Door[] = [];
    for (const e of this.#entries) {
      for (let i = 0; i < GROUPS * SECRET_SLOTS; i++) {
        const a = this.#assigned.get(e.base + i);
        if (a !== undefined) out.push({ ...e.door, sequence: a.knocks });
      }
    }
    return out;
  }

  /**
   * Derives what the window at `nowSec` needs and is not yet in place: steps S-1, S and S+1 of
   * every secret door, all slots.
   *
   * @param nowSec The wall clock, seconds.
   * @returns The virtual doors to change, already recorded as assigned.
   */
  async window(nowSec: number): Promise<WindowChange[]> {
    const changes: WindowChange[] = [];
    const current = new Set<string>();
    for (const e of this.#entries) {
      e.cryptoKey ??= await importSecretKey(e.key);
      if (e.markName === undefined) {
        e.markName = await markName(e.door.name, e.key, e.spec);
        // Marks written before marks named the derivation: taken as this derivation's.
        this.#marks.rename(e.door.name, e.markName);
      }
      current.add(e.markName);
      const now = secretStep(nowSec, e.spec.step);
      for (let step = now - SECRET_SKEW_STEPS; step <= now + SECRET_SKEW_STEPS; step++) {
        if (step < 0) continue;
        for (let slot = 0; slot < SECRET_SLOTS; slot++) {
          const index = e.base + (step % GROUPS) * SECRET_SLOTS + slot;
          if (this.#assigned.get(index)?.step === step) continue;
          const knocks = await deriveSequence(e.cryptoKey, e.spec, e.door.name, step, slot);
          this.#assigned.set(index, { step, slot, knocks });
          changes.push({ index, knocks });
        }
      }
      this.#marks.prune(e.markName, now - SECRET_SKEW_STEPS);
    }
    // Marks of a secret or parameters no longer in use are kept while their window lasts (going
    // back to the old secret must not re-arm them), then dropped; unnamed leftovers at once.
    for (const name of this.#marks.names()) {
      if (current.has(name)) continue;
      const stepSec = Number(/\|(\d+)\|[0-9a-f]{16}$/.exec(name)?.[1] ?? NaN);
      const min = Number.isSafeInteger(stepSec) && stepSec > 0
        ? secretStep(nowSec, stepSec) - SECRET_SKEW_STEPS
        : Infinity;
      this.#marks.prune(name, min);
    }
    return changes;
  }

  /**
   * Milliseconds from `nowMs` to the next step boundary of any secret door.
   *
   * @param nowMs The wall clock in ms.
   * @returns The delay (at least 1), or undefined without secret doors.
   */
  untilNextStep(nowMs: number): number | undefined {
    let best: number | undefined;
    for (const e of this.#entries) {
      const stepMs = e.spec.step * 1000;
      const next = (Math.floor(nowMs / stepMs) + 1) * stepMs;
      best = Math.min(best ?? Infinity, next - nowMs);
    }
    return best === undefined ? undefined : Math.max(1, best);
  }

  /**
   * Whether a matcher door index is a virtual door of this set.
   *
   * @param index The matcher's door index.
   * @returns True for a virtual door.
   */
  isVirtual(index: number): boolean {
    return index >= this.#configCount && index < this.#configCount + this.virtualCount;
  }

  /**
   * A virtual door's sequence opened: spends it, or refuses a spent one. The mark is on disk
   * when this returns "open"; when it cannot be written the door stays shut ("error").
   *
   * @param index The virtual door's index.
   * @returns What to do.
   */
  spend(index: number): SpendResult | undefined {
    const e = this.#entries.find((x) => index >= x.base && index < x.base + GROUPS * SECRET_SLOTS);
    const a = this.#assigned.get(index);
    if (e === undefined || a === undefined) return undefined;
    const name = e.door.name;
    if (!this.#marks.add(e.markName ?? name, a.step, a.slot)) {
      return { kind: "replay", door: e.door, step: a.step, slot: a.slot };
    }
    try {
      writeJsonAtomic(this.#statePath, this.#marks.toJSON());
    } catch (err) {
      return {
        kind: "error",
        door: e.door,
        message: `${err instanceof Error ? err.message : String(err)}: door ${
          JSON.stringify(name)
        } stays shut`,
      };
    }
    // The fingerprint (markName's last part) keeps another secret's (step, slot) apart.
    const fp = e.markName?.split("|").at(-1);
    const mark = fp === undefined ? `${a.step}:${a.slot}` : `${a.step}:${a.slot}:${fp}`;
    return { kind: "open", door: e.door, step: a.step, slot: a.slot, mark };
  }
}
