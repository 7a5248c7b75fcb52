/**
 * Small JSON state files under `State_Dir` that must survive a crash: written to a temporary file
 * in the same directory, fsynced, renamed over the old one, and the directory fsynced, so a reader
 * (or a restart after `kill -9` or a power cut) sees the old or the new content, never a mix.
 *
 * @module
 */
import { errnoText } from "../util/errno.ts";

/**
 * Creates the state directory (and its parents) with mode 0700 when it is missing.
 *
 * @param dir The directory.
 * @throws {Error} `Cannot create state directory "DIR": REASON`.
 */
export function ensureStateDir(dir: string): void {
  try {
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new Error(`Cannot create state directory ${JSON.stringify(dir)}: ${lower(errnoText(e))}`);
  }
}

/**
 * Reads a state file's JSON.
 *
 * @param path The file.
 * @returns The parsed value, or undefined when the file does not exist.
 * @throws {Error} `Cannot read state file "PATH": REASON` when it cannot be read or parsed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readStateFile, writeStateFile } from "./state_file.ts";
 * const dir = Deno.makeTempDirSync();
 * assert.equal(readStateFile(`${dir}/s.json`), undefined);
 * writeStateFile(`${dir}/s.json`, { a: 1 });
 * assert.deepEqual(readStateFile(`${dir}/s.json`), { a: 1 });
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function readStateFile(path: string): unknown {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw new Error(`Cannot read state file ${JSON.stringify(path)}: ${lower(errnoText(e))}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(
      `Cannot read state file ${JSON.stringify(path)}: ${
        lower(e instanceof Error ? e.message : String(e))
      }`,
    );
  }
}

/**
 * Replaces a state file atomically and durably (temp file, fsync, rename, directory fsync); mode
 * 0600.
 *
 * @param path The file.
 * @param value Anything `JSON.stringify` accepts.
 * @throws {Error} `Cannot write state file "PATH": REASON`; the old content is then intact.
 */
export function writeStateFile(path: string, value: unknown): void {
  const slash = path.lastIndexOf("/");
  const dir = slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash);
  const tmp = `${path}.${Deno.pid}.tmp`;
  try {
    const data = new TextEncoder().encode(JSON.stringify(value) + "\n");
    const f = Deno.openSync(tmp, { write: true, create: true, truncate: true, mode: 0o600 });
    try {
      let off = 0;
      while (off < data.length) off += f.writeSync(data.subarray(off));
      f.syncSync();
    } finally {
      f.close();
    }
    Deno.renameSync(tmp, path);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch {
      // Never created, or already renamed.
    }
    throw new Error(`Cannot write state file ${JSON.stringify(path)}: ${lower(errnoText(e))}`);
  }
  try {
    const d = Deno.openSync(dir, { read: true });
    try {
      d.syncSync();
    } finally {
      d.close();
    }
  } catch {
    // The rename is done; a directory that cannot be fsynced (some file systems) keeps it too.
  }
}

function lower(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
