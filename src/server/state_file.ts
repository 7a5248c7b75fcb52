/**
 * knocktool's persistent state: small JSON files under `State_Dir` (default
 * `/var/lib/knocktool`), written atomically (a temporary file in the same directory, fsync, then
 * rename over the old one), so that a crash leaves either the old file or the new one, never half
 * of one. Shared by every feature that keeps state (docs/GRANTS.md).
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * Writes `value` as JSON to `path` atomically, creating the directory (mode 0700) when missing.
 *
 * @param path The file.
 * @param value Anything `JSON.stringify` accepts.
 * @throws {Error} `Cannot write state file "PATH": …` when it cannot be written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readJsonFile, writeJsonAtomic } from "./state_file.ts";
 * const dir = Deno.makeTempDirSync();
 * writeJsonAtomic(`${dir}/sub/a.json`, { n: 1 });
 * assert.deepEqual(readJsonFile(`${dir}/sub/a.json`), { n: 1 });
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function writeJsonAtomic(path: string, value: unknown): void {
  const slash = path.lastIndexOf("/");
  const dir = slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash);
  const tmp = `${path}.tmp-${Deno.pid}`;
  try {
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const f = Deno.openSync(tmp, { write: true, create: true, truncate: true, mode: 0o600 });
    try {
      const bytes = encoder.encode(JSON.stringify(value) + "\n");
      let off = 0;
      while (off < bytes.length) off += f.writeSync(bytes.subarray(off));
      f.syncSync();
    } finally {
      f.close();
    }
    Deno.renameSync(tmp, path);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch {
      // not created
    }
    throw new Error(
      `Cannot write state file ${JSON.stringify(path)}: ${
        e instanceof Error ? e.message : String(e)
      }`,
    );
  }
}

/**
 * {@link writeJsonAtomic} off the event loop: the write and the fsync run as async operations on
 * the runtime's worker threads; only the final rename is synchronous, and it happens only when
 * `stillWanted()` says so at that moment (a newer write made meanwhile wins, and this one's
 * temporary file is removed).
 *
 * @param path The file.
 * @param value Anything `JSON.stringify` accepts (serialized at once).
 * @param stillWanted Asked just before the rename.
 * @returns Whether the file was replaced.
 * @throws {Error} `Cannot write state file "PATH": …` when it cannot be written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readJsonFile, writeJsonAtomicAsync } from "./state_file.ts";
 * const dir = Deno.makeTempDirSync();
 * assert.equal(await writeJsonAtomicAsync(`${dir}/a.json`, { n: 1 }, () => true), true);
 * assert.equal(await writeJsonAtomicAsync(`${dir}/a.json`, { n: 2 }, () => false), false);
 * assert.deepEqual(readJsonFile(`${dir}/a.json`), { n: 1 });
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function writeJsonAtomicAsync(
  path: string,
  value: unknown,
  stillWanted: () => boolean,
): Promise<boolean> {
  const slash = path.lastIndexOf("/");
  const dir = slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash);
  // Not writeJsonAtomic's name: a synchronous write may run while this one waits.
  const tmp = `${path}.tmp-${Deno.pid}-async`;
  const bytes = encoder.encode(JSON.stringify(value) + "\n");
  let renamed = false;
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    const f = await Deno.open(tmp, { write: true, create: true, truncate: true, mode: 0o600 });
    try {
      let off = 0;
      while (off < bytes.length) off += await f.write(bytes.subarray(off));
      await f.sync();
    } finally {
      f.close();
    }
    if (stillWanted()) {
      Deno.renameSync(tmp, path);
      renamed = true;
    }
  } catch (e) {
    throw new Error(
      `Cannot write state file ${JSON.stringify(path)}: ${
        e instanceof Error ? e.message : String(e)
      }`,
    );
  } finally {
    if (!renamed) {
      try {
        Deno.removeSync(tmp);
      } catch {
        // not created
      }
    }
  }
  return renamed;
}

/**
 * Reads a JSON state file.
 *
 * @param path The file.
 * @returns Its value, or undefined when it does not exist.
 * @throws {Error} `Cannot read state file "PATH": …` when it exists but cannot be read or parsed.
 */
export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw new Error(
      `Cannot read state file ${JSON.stringify(path)}: ${
        e instanceof Error ? e.message : String(e)
      }`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(
      `Cannot read state file ${JSON.stringify(path)}: ${
        e instanceof Error ? e.message : String(e)
      }`,
    );
  }
}
