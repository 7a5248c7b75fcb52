/**
 * The one-time sequences file format (docs/COMPATIBILITY.md §5): one sequence per line, in
 * `Sequence` syntax; blank lines and lines whose first non-space character is `#` are skipped; a
 * used line has its first byte overwritten with `#`. Shared by the config loader and
 * `OneTimeSequences`.
 *
 * @module
 */
import type { Knock } from "./model.ts";
import { cTrim, iterPieces } from "./_cstr.ts";
import { errnoText, isSystemError } from "../util/errno.ts";
import { parsePortSequence, type SequenceProblem } from "./sequence.ts";

/** One non-blank, non-comment line of a one-time sequences file. */
export interface OneTimeLine {
  /** 1-based line number (counting `fgets` pieces, as knockd does). */
  readonly line: number;
  /** Byte offset of the line's first byte: where the `#` mark goes. */
  readonly offset: number;
  /** The trimmed text. */
  readonly text: string;
  /** The parsed sequence, or why the line is skipped. */
  readonly result: { readonly knocks: Knock[] } | { readonly problem: SequenceProblem };
}

/**
 * Lists the candidate lines of a one-time sequences file, in file order.
 *
 * @param bytes The file's content.
 * @returns Every line that is neither blank nor a comment, valid or not.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scanOneTimeFile } from "./onetime_file.ts";
 * const lines = scanOneTimeFile(new TextEncoder().encode("#1,2\n 3,4\n"));
 * assert.equal(lines.length, 1);
 * assert.equal(lines[0]?.offset, 5);
 * ```
 */
export function scanOneTimeFile(bytes: Uint8Array): OneTimeLine[] {
  return [...iterOneTimeFile(bytes)];
}

/**
 * Lazily yields the candidate lines of a one-time sequences file, in file order: each line is
 * parsed only when reached, so finding the first valid line does not parse the rest.
 *
 * @param bytes The file's content.
 * @returns Every line that is neither blank nor a comment, valid or not.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { iterOneTimeFile } from "./onetime_file.ts";
 * const it = iterOneTimeFile(new TextEncoder().encode("# used\n1,2:udp\nbad:x\n"));
 * const first = it.next().value;
 * assert(first !== undefined);
 * assert("knocks" in first.result);
 * ```
 */
export function* iterOneTimeFile(bytes: Uint8Array): Generator<OneTimeLine, void, undefined> {
  for (const piece of iterPieces(bytes)) {
    const text = cTrim(piece.text);
    if (text === "" || text.startsWith("#")) continue;
    const r = parsePortSequence(text);
    yield {
      line: piece.line,
      offset: piece.offset,
      text,
      result: r.ok ? { knocks: r.knocks } : { problem: r.problem },
    };
  }
}

/** The first valid line of a one-time file, or why there is none. */
export type FirstSequence =
  | { readonly ok: true; readonly line: OneTimeLine; readonly knocks: Knock[] }
  | { readonly ok: false; readonly reason: "open"; readonly errno: string }
  | { readonly ok: false; readonly reason: "none-left" };

/**
 * Opens a one-time sequences file the way knockd does (`fopen(path, "r+")`: it must exist and be
 * writable) and returns its first valid sequence. Never throws.
 *
 * @param path The path as written in the config (relative paths resolve against the cwd).
 */
export function readFirstOneTimeSequence(path: string): FirstSequence {
  let bytes: Uint8Array;
  try {
    const f = Deno.openSync(path, { read: true, write: true });
    try {
      bytes = readAllSync(f);
    } finally {
      f.close();
    }
  } catch (e) {
    if (!isSystemError(e)) throw e;
    return { ok: false, reason: "open", errno: errnoText(e) };
  }
  for (const line of iterOneTimeFile(bytes)) {
    if ("knocks" in line.result) return { ok: true, line, knocks: line.result.knocks };
  }
  return { ok: false, reason: "none-left" };
}

/** Reads a whole open file from its current position. */
export function readAllSync(f: Deno.FsFile): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const buf = new Uint8Array(65536);
    const n = f.readSync(buf);
    if (n === null || n === 0) break;
    chunks.push(buf.subarray(0, n));
    total += n;
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** knockd's message when a one-time file has no unused sequence left (docs/COMPATIBILITY.md §5). */
export function noMoreSequencesText(doorName: string): string {
  return `no more sequences left in the one time sequences file for door ${doorName} --> disabling the door`;
}
