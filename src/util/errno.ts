/**
 * The operating system's reason inside a Deno error, as C programs print it with `perror` or
 * `strerror` (`No such file or directory`), and a test for one errno code.
 *
 * @module
 */

/**
 * The strerror-style text of a caught error: Deno's message without its ` (os error N)` suffix
 * and the operation after it.
 *
 * @param e The caught error.
 * @returns E.g. `No such file or directory` for `No such file or directory (os error 2): open '/x'`;
 *   another error's message as it is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errnoText } from "./errno.ts";
 * let caught: unknown;
 * try {
 *   Deno.readFileSync("/nonexistent/knocktool-example");
 * } catch (e) {
 *   caught = e;
 * }
 * assert.equal(errnoText(caught), "No such file or directory");
 * assert.equal(errnoText(new Error("Permission denied (os error 13): open '/x'")), "Permission denied");
 * assert.equal(errnoText("plain"), "plain");
 * ```
 */
export function errnoText(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "No such file or directory";
  if (e instanceof Deno.errors.IsADirectory) return "Is a directory";
  if (e instanceof Deno.errors.NotADirectory) return "Not a directory";
  const msg = e instanceof Error ? e.message : String(e);
  return msg.replace(/ \(os error \d+\).*$/s, "");
}

/**
 * Whether a caught error is the operating system's error `code` (Deno's `code` property).
 *
 * @param e The caught error.
 * @param code The errno name, e.g. `ENOENT`.
 * @returns True when `e` is an Error whose `code` is `code`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isOsError } from "./errno.ts";
 * let caught: unknown;
 * try {
 *   Deno.readFileSync("/nonexistent/knocktool-example");
 * } catch (e) {
 *   caught = e;
 * }
 * assert.equal(isOsError(caught, "ENOENT"), true);
 * assert.equal(isOsError(caught, "EACCES"), false);
 * assert.equal(isOsError(new TypeError("x"), "ENOENT"), false);
 * ```
 */
export function isOsError(e: unknown, code: string): boolean {
  return e instanceof Error && (e as Error & { code?: unknown }).code === code;
}

/**
 * Whether a caught error comes from the system rather than from a bug: one of `Deno.errors` (an
 * operating-system error such as `NotFound`, or a missing Deno permission, `NotCapable`). A
 * `TypeError` or `RangeError` is not, and should not be caught as a file problem.
 *
 * @param e The caught error.
 * @returns True for an instance of a `Deno.errors` class.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isSystemError } from "./errno.ts";
 * assert.equal(isSystemError(new Deno.errors.NotFound("gone")), true);
 * assert.equal(isSystemError(new Deno.errors.NotCapable("no --allow-read")), true);
 * assert.equal(isSystemError(new TypeError("bug")), false);
 * ```
 */
export function isSystemError(e: unknown): boolean {
  return Object.values(Deno.errors).some((c) => e instanceof c);
}
