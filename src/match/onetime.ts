/**
 * One-time knock sequences (docs/COMPATIBILITY.md §5): a door whose sequence comes from a file, one
 * sequence per line, each used once. knockd's file format is kept (a used line gets its first byte
 * overwritten with `#`); knockd's defect docs/COMPATIBILITY.md B4 is fixed (the mark always lands
 * on the line actually used, however many invalid lines precede it) and so is B2 (running out
 * disables the door instead of crashing).
 *
 * @module
 */
import type { Knock } from "../config/model.ts";
import type { ConfigError } from "../config/parse.ts";
import {
  iterOneTimeFile,
  noMoreSequencesText,
  type OneTimeLine,
  readAllSync,
  readFirstOneTimeSequence,
} from "../config/onetime_file.ts";
import { errnoText, isSystemError } from "../util/errno.ts";

const HASH = 0x23;

function sameKnocks(a: readonly Knock[], b: readonly Knock[]): boolean {
  return a.length === b.length &&
    a.every((k, i) => k.port === b[i]?.port && k.protocol === b[i]?.protocol);
}

/** The one-time sequences of one door, backed by its file. */
export class OneTimeSequences {
  #current: readonly Knock[] | null;
  #offset: number;
  #closed = false;

  private constructor(
    /** The file's path, as written in the config. */
    readonly path: string,
    /** The door's name (for messages). */
    readonly doorName: string,
    current: readonly Knock[],
    offset: number,
  ) {
    this.#current = current;
    this.#offset = offset;
  }

  /**
   * Opens a door's one-time sequences file (it must exist and be writable, as knockd's
   * `fopen(path, "r+")` demands) and loads its first valid line. Throws only on a bug (an error that is not a system error).
   *
   * @param path The file (relative paths resolve against the cwd).
   * @param doorName The door, for messages.
   * @param initial The door's sequence from the config, when it differs from the file's first
   *   line: a `Sequence` written after `One_Time_Sequences` wins at first, yet knockd still rotates
   *   to the file after that sequence opens the door (it finds no line to mark and loads the
   *   first unused one). Default: the file's first valid line.
   * @returns The sequences, or an error carrying knockd's text (`<path>: <strerror>`, or
   *   `no more sequences left ... for door X --> disabling the door`).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { OneTimeSequences } from "./onetime.ts";
   * const r = OneTimeSequences.open("/nonexistent/otp.txt", "door");
   * assert(!(r instanceof OneTimeSequences));
   * assert.equal(r.knockdText, "/nonexistent/otp.txt: No such file or directory");
   * ```
   */
  static open(
    path: string,
    doorName: string,
    initial?: readonly Knock[],
  ): OneTimeSequences | ConfigError {
    const r = readFirstOneTimeSequence(path);
    if (r.ok) {
      return initial === undefined || sameKnocks(initial, r.knocks)
        ? new OneTimeSequences(path, doorName, r.knocks, r.line.offset)
        : new OneTimeSequences(path, doorName, initial, -1);
    }
    if (r.reason === "open") {
      return {
        message: `Cannot open one-time sequences file ${JSON.stringify(path)} for door ${
          JSON.stringify(doorName)
        }: ${r.errno}`,
        knockdText: path === "" ? r.errno : `${path}: ${r.errno}`,
        section: doorName,
      };
    }
    return {
      message: `Cannot load one-time sequences file ${
        JSON.stringify(path)
      }: no unused sequence left for door ${JSON.stringify(doorName)}`,
      knockdText: noMoreSequencesText(doorName),
      section: doorName,
    };
  }

  /** The sequence the door currently listens for, or null once used up (door disabled). */
  get current(): readonly Knock[] | null {
    return this.#current;
  }

  /**
   * Marks the line of {@link current} used ('#' over its first byte) and loads the next valid
   * line. Returns it, or null when none is left or the file cannot be updated: the door must then
   * be disabled, `message` holds knockd's text for the log and, when the file could not be
   * updated, `cause` says why (`Cannot update one-time sequences file "F" for door "D": <strerror>`).
   * Throws only on a bug (an error that is not a system error).
   *
   * The used line is found at the offset it was loaded from if it still holds the same sequence,
   * else as the first unused line with exactly that sequence (the file may have been edited).
   */
  consume(): { next: readonly Knock[] | null; message?: string; cause?: string } {
    const used = this.#current;
    if (used === null || this.#closed) return { next: null };
    const failed = (reason: string) => {
      this.#current = null;
      return {
        next: null,
        message:
          `error while disabling used one time sequence for door ${this.doorName} --> disabling the door`,
        cause: `Cannot update one-time sequences file ${JSON.stringify(this.path)} for door ${
          JSON.stringify(this.doorName)
        }: ${reason}`,
      };
    };
    let f: Deno.FsFile;
    try {
      f = Deno.openSync(this.path, { read: true, write: true });
    } catch (e) {
      if (!isSystemError(e)) throw e;
      return failed(errnoText(e));
    }
    try {
      const bytes = readAllSync(f);
      const { marked, next } = this.#locate(bytes, used);
      if (marked !== undefined) {
        f.seekSync(marked.offset, Deno.SeekMode.Start);
        if (f.writeSync(Uint8Array.of(HASH)) !== 1) return failed("nothing written");
      }
      if (next === undefined || !("knocks" in next.result)) {
        this.#current = null;
        return { next: null, message: noMoreSequencesText(this.doorName) };
      }
      this.#current = next.result.knocks;
      this.#offset = next.offset;
      return { next: next.result.knocks };
    } catch (e) {
      if (!isSystemError(e)) throw e;
      return failed(errnoText(e));
    } finally {
      f.close();
    }
  }

  /**
   * One lazy pass over the file: the line to mark (the line at the remembered offset if it still
   * holds `used`, else the first valid line holding `used`) and the first valid line other than
   * it. Stops as soon as both are known, so a long file is parsed only as far as needed.
   */
  #locate(
    bytes: Uint8Array,
    used: readonly Knock[],
  ): { marked: OneTimeLine | undefined; next: OneTimeLine | undefined } {
    let exact: OneTimeLine | undefined;
    let firstSame: OneTimeLine | undefined;
    let passed = false;
    const valid: OneTimeLine[] = [];
    for (const line of iterOneTimeFile(bytes)) {
      if (!("knocks" in line.result)) continue;
      const same = sameKnocks(line.result.knocks, used);
      if (same && line.offset === this.#offset) exact = line;
      if (same && firstSame === undefined) firstSame = line;
      if (line.offset >= this.#offset) passed = true;
      if (valid.length < 2) valid.push(line);
      const marked = exact ?? (passed ? firstSame : undefined);
      if (marked !== undefined && valid.some((v) => v !== marked)) break;
    }
    const marked = exact ?? firstSame;
    return { marked, next: valid.find((v) => v !== marked) };
  }

  /** Stops using the file: later {@link consume} calls return null. Holds no resources. */
  close(): void {
    this.#closed = true;
  }
}
