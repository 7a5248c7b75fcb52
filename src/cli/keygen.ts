/**
 * `knocktool keygen [FILE]`: makes a new secret for secret-derived sequences
 * (docs/SECRET-SEQUENCES.md §1): 32 random bytes as 64 hex digits, written to FILE with mode 0600
 * (never over an existing file), or printed when no FILE is given.
 *
 * @module
 */
import type { Io } from "../util/io.ts";
import { newSecretText } from "../config/secret_file.ts";
import type { KeygenOptions } from "./keygen_args.ts";

/**
 * Runs `knocktool keygen`.
 *
 * @param opts The parsed options.
 * @param io Where to print.
 * @returns 0, or 1 when the file cannot be created.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runKeygen } from "./keygen.ts";
 * import { captureIo } from "../util/io.ts";
 * const io = captureIo();
 * assert.equal(await runKeygen({ cmd: "keygen" }, io), 0);
 * assert.match(io.out, /^[0-9a-f]{64}\n$/);
 * ```
 */
export async function runKeygen(opts: KeygenOptions, io: Io): Promise<number> {
  const text = newSecretText();
  if (opts.file === undefined) {
    io.stdout(text);
    return 0;
  }
  try {
    // createNew: never replace a secret that clients may already hold.
    using f = await Deno.open(opts.file, { write: true, createNew: true, mode: 0o600 });
    // The umask cannot widen 0600; set it outright anyway, the check in serve depends on it.
    await Deno.chmod(opts.file, 0o600);
    await f.write(new TextEncoder().encode(text));
    await f.syncData();
  } catch (e) {
    const why = e instanceof Deno.errors.AlreadyExists
      ? "it already exists (remove it first, or choose another name)"
      : e instanceof Deno.errors.NotFound
      ? "no such directory"
      : e instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : (e instanceof Error ? e.message : String(e));
    io.stderr(`Cannot write secret file ${JSON.stringify(opts.file)}: ${why}\n`);
    return 1;
  }
  return 0;
}
