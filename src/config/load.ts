/**
 * Loading knockd.conf from disk, as knockd does at startup and on reload; a tportknockd file
 * (docs/FLAG-KNOCKING.md) is recognised by its content and read by `tportknockd.ts`.
 *
 * @module
 */
import { errnoText, isSystemError } from "../util/errno.ts";
import { parseConfigBytes, type ParseOptions, type ParseResult } from "./parse.ts";
import { looksLikeTportknockd, parseTportknockd } from "./tportknockd.ts";

/**
 * Reads and parses a config file, including the one-time sequences files it names (relative
 * paths resolve against the cwd). Synchronous, like knockd's `parseconfig`. Never throws.
 *
 * A missing or unreadable file fails with knockd's `perror` text (`<path>: No such file or
 * directory`). A directory reads as an empty file, because `fopen` succeeds on it and the first
 * `fgets` fails, which knockd treats as end of file: the config has no doors.
 *
 * @param path The config file.
 * @param opts How to load one-time sequences files (default: from disk).
 * @returns The parsed config or the error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadConfig } from "./load.ts";
 * const r = loadConfig("/nonexistent/knockd.conf");
 * assert(!r.ok);
 * assert.equal(r.error.knockdText, "/nonexistent/knockd.conf: No such file or directory");
 * ```
 */
export function loadConfig(path: string, opts: ParseOptions = {}): ParseResult {
  let bytes: Uint8Array;
  try {
    bytes = Deno.statSync(path).isDirectory ? new Uint8Array() : Deno.readFileSync(path);
  } catch (e) {
    if (!isSystemError(e)) throw e;
    const errno = errnoText(e);
    return {
      ok: false,
      error: {
        message: `Cannot read config file ${JSON.stringify(path)}: ${errno}`,
        knockdText: path === "" ? errno : `${path}: ${errno}`,
      },
    };
  }
  // A tportknockd file is told apart by its content (docs/FLAG-KNOCKING.md).
  const text = new TextDecoder().decode(bytes);
  if (looksLikeTportknockd(text)) return parseTportknockd(text);
  return parseConfigBytes(bytes, opts);
}
