/**
 * Reading environment variables when the env permission may be missing: a variable knocktool
 * is not allowed to read counts as unset. Other failures (an invalid name) are bugs and throw.
 *
 * @module
 */

function isPermissionError(e: unknown): boolean {
  return e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied;
}

/**
 * Reads an environment variable; without permission to read it, it counts as unset.
 *
 * @param name The variable.
 * @returns Its value, or undefined when it is unset or may not be read.
 * @throws {TypeError} When `name` is not a valid variable name (a bug in the caller).
 *
 * @example
 * ```ts
 * import { readEnv } from "./env.ts";
 * Deno.env.set("KT_ENV_EXAMPLE", "on");
 * if (readEnv("KT_ENV_EXAMPLE") !== "on") throw new Error("set");
 * Deno.env.delete("KT_ENV_EXAMPLE");
 * if (readEnv("KT_ENV_EXAMPLE") !== undefined) throw new Error("unset");
 * ```
 */
export function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch (e) {
    if (isPermissionError(e)) return undefined;
    throw e;
  }
}

/**
 * Reads an environment variable and removes it from this process's environment, so that the
 * programs it starts do not inherit it. Without permission it counts as unset.
 *
 * @param name The variable.
 * @returns Its value, or undefined when it was unset or may not be read.
 * @throws {TypeError} When `name` is not a valid variable name (a bug in the caller).
 *
 * @example
 * ```ts
 * import { takeEnv } from "./env.ts";
 * Deno.env.set("KT_ENV_EXAMPLE_TAKE", "1");
 * if (takeEnv("KT_ENV_EXAMPLE_TAKE") !== "1") throw new Error("read");
 * if (Deno.env.get("KT_ENV_EXAMPLE_TAKE") !== undefined) throw new Error("removed");
 * ```
 */
export function takeEnv(name: string): string | undefined {
  const value = readEnv(name);
  if (value !== undefined) Deno.env.delete(name);
  return value;
}
