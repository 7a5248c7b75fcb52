/**
 * Secret files (docs/SECRET-SEQUENCES.md §1): reading one safely, turning its bytes into the key,
 * and making a new one (`knocktool keygen`).
 *
 * @module
 */

import { errnoText, isSystemError } from "../util/errno.ts";

/** The shortest key accepted, in bytes. */
export const MIN_SECRET_BYTES = 16;

/** Random bytes in a new secret (written as twice as many hex digits). */
export const NEW_SECRET_BYTES = 32;

/**
 * The key of a secret file's bytes: the bytes with every trailing CR, LF, space and tab removed
 * (docs/SECRET-SEQUENCES.md §1).
 *
 * @param bytes The file's content.
 * @returns The key bytes (a view into `bytes`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { secretKey } from "./secret_file.ts";
 * assert.deepEqual([...secretKey(new TextEncoder().encode("ab \r\n"))], [0x61, 0x62]);
 * ```
 */
export function secretKey(bytes: Uint8Array): Uint8Array {
  let end = bytes.length;
  while (end > 0) {
    const b = bytes[end - 1];
    if (b !== 0x0a && b !== 0x0d && b !== 0x20 && b !== 0x09) break;
    end--;
  }
  return bytes.subarray(0, end);
}

/** The outcome of {@link readSecretFile}. */
export type SecretFileResult =
  | { readonly ok: true; readonly key: Uint8Array }
  | { readonly ok: false; readonly message: string };

/**
 * Reads a door's secret file, refusing one that group or others may access, one that cannot be
 * read, and a key shorter than {@link MIN_SECRET_BYTES}. Messages name the door and the file.
 *
 * @param path The file (relative paths resolve against the working directory).
 * @param door The door name, for the message.
 * @returns The key, or the message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSecretFile } from "./secret_file.ts";
 * const r = readSecretFile("/nonexistent/secret", "ssh");
 * assert(!r.ok);
 * assert.equal(r.message, 'Cannot read secret file "/nonexistent/secret" of door "ssh": no such file or directory');
 * ```
 */
export function readSecretFile(path: string, door: string): SecretFileResult {
  const where = `secret file ${JSON.stringify(path)} of door ${JSON.stringify(door)}`;
  let bytes: Uint8Array;
  try {
    const info = Deno.statSync(path);
    if (!info.isFile) return { ok: false, message: `Cannot read ${where}: it is not a file` };
    const mode = (info.mode ?? 0) & 0o777;
    if ((mode & 0o077) !== 0) {
      return {
        ok: false,
        message: `Cannot use ${where}: mode ${
          mode.toString(8).padStart(4, "0")
        } lets group or others access it (run "chmod 600 ${path}")`,
      };
    }
    bytes = Deno.readFileSync(path);
  } catch (e) {
    if (!isSystemError(e)) throw e;
    return { ok: false, message: `Cannot read ${where}: ${osText(e)}` };
  }
  const key = secretKey(bytes);
  if (key.length < MIN_SECRET_BYTES) {
    return {
      ok: false,
      message:
        `Cannot use ${where}: the secret has ${key.length} bytes, fewer than ${MIN_SECRET_BYTES} (make one with "knocktool keygen")`,
    };
  }
  return { ok: true, key };
}

/**
 * A new secret file's text: {@link NEW_SECRET_BYTES} random bytes as lower-case hex, then LF.
 *
 * @returns The text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { newSecretText } from "./secret_file.ts";
 * assert.match(newSecretText(), /^[0-9a-f]{64}\n$/);
 * ```
 */
export function newSecretText(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(NEW_SECRET_BYTES));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("") + "\n";
}

/** An OS error's text, lower-cased where it continues a sentence, without Deno's call suffix. */
function osText(e: unknown): string {
  const cut = errnoText(e).replace(/:? *(stat|open|read)[^:]*$/, "");
  return cut.charAt(0).toLowerCase() + cut.slice(1);
}
