/**
 * Used marks of secret-derived sequences (docs/SECRET-SEQUENCES.md §5): which (door, step, slot)
 * has opened its door. Pure: the server loads and persists them.
 *
 * @module
 */

/** The JSON form kept in the state file. */
export interface UsedMarksJson {
  /** Format version: 1. */
  readonly version: 1;
  /** Door name → step (decimal text) → used slots. */
  readonly used: Record<string, Record<string, number[]>>;
}

/**
 * The set of spent sequences.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UsedMarks } from "./secret_marks.ts";
 * const m = new UsedMarks();
 * assert(m.add("ssh", 10, 3));
 * assert(!m.add("ssh", 10, 3));
 * assert(m.has("ssh", 10, 3) && !m.has("ssh", 10, 4));
 * m.prune("ssh", 11);
 * assert(!m.has("ssh", 10, 3));
 * ```
 */
export class UsedMarks {
  readonly #doors = new Map<string, Map<number, Set<number>>>();

  /**
   * Whether (door, step, slot) is spent.
   *
   * @param door Door name.
   * @param step Step.
   * @param slot Slot.
   * @returns True when spent.
   */
  has(door: string, step: number, slot: number): boolean {
    return this.#doors.get(door)?.get(step)?.has(slot) === true;
  }

  /**
   * Marks (door, step, slot) spent.
   *
   * @param door Door name.
   * @param step Step.
   * @param slot Slot.
   * @returns False when it already was.
   */
  add(door: string, step: number, slot: number): boolean {
    let steps = this.#doors.get(door);
    if (steps === undefined) this.#doors.set(door, steps = new Map());
    let slots = steps.get(step);
    if (slots === undefined) steps.set(step, slots = new Set());
    if (slots.has(slot)) return false;
    slots.add(slot);
    return true;
  }

  /**
   * Forgets a door's marks of steps before `minStep` (they can never be accepted again).
   *
   * @param door Door name.
   * @param minStep The oldest step still acceptable.
   */
  prune(door: string, minStep: number): void {
    const steps = this.#doors.get(door);
    if (steps === undefined) return;
    for (const step of [...steps.keys()]) if (step < minStep) steps.delete(step);
    if (steps.size === 0) this.#doors.delete(door);
  }

  /**
   * The names marks are kept under.
   *
   * @returns Every name with at least one mark.
   */
  names(): string[] {
    return [...this.#doors.keys()];
  }

  /**
   * Moves every mark kept under `from` to `to` (merged with those already there).
   *
   * @param from The old name.
   * @param to The new name.
   */
  rename(from: string, to: string): void {
    const steps = this.#doors.get(from);
    if (steps === undefined || from === to) return;
    this.#doors.delete(from);
    for (const [step, slots] of steps) for (const slot of slots) this.add(to, step, slot);
  }

  /**
   * The JSON form.
   *
   * @returns The marks.
   */
  toJSON(): UsedMarksJson {
    const used: Record<string, Record<string, number[]>> = {};
    for (const [door, steps] of this.#doors) {
      const out: Record<string, number[]> = {};
      for (const [step, slots] of [...steps].sort((a, b) => a[0] - b[0])) {
        out[String(step)] = [...slots].sort((a, b) => a - b);
      }
      used[door] = out;
    }
    return { version: 1, used };
  }

  /**
   * Reads the JSON form.
   *
   * @param value A parsed state file (undefined: no file yet).
   * @returns The marks, or a problem description.
   */
  static fromJSON(value: unknown): UsedMarks | { error: string } {
    const marks = new UsedMarks();
    if (value === undefined) return marks;
    const v = value as Partial<UsedMarksJson>;
    if (typeof v !== "object" || v === null || v.version !== 1 || typeof v.used !== "object") {
      return { error: `expected {"version": 1, "used": {...}}` };
    }
    for (const [door, steps] of Object.entries(v.used ?? {})) {
      if (typeof steps !== "object" || steps === null) return { error: `bad entry for "${door}"` };
      for (const [step, slots] of Object.entries(steps)) {
        const s = Number(step);
        if (!Number.isSafeInteger(s) || !Array.isArray(slots)) {
          return { error: `bad step "${step}" of "${door}"` };
        }
        for (const slot of slots) {
          if (!Number.isInteger(slot)) return { error: `bad slot in step "${step}" of "${door}"` };
          marks.add(door, s, slot);
        }
      }
    }
    return marks;
  }
}
