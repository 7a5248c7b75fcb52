/**
 * Descriptor hygiene of the server process (docs/COMPATIBILITY.md B17): door commands get
 * descriptors 0-2 only.
 *
 * @module
 */
import { acquireLibc, openDescriptors, releaseLibc, setCloexec } from "../../ffi/libc.ts";

/**
 * Marks the descriptors knocktool inherited beyond stdin, stdout and stderr (from a shell, a CI
 * runner, a service manager's extra sockets) close-on-exec, so that door commands get fds 0-2
 * only. Deno's own descriptors are close-on-exec already. The open descriptors come from libc
 * (`openDescriptors`), not /proc: Deno refuses /proc/self without `--allow-all`, which the
 * compiled binary does not have. Without FFI permission there is nothing to do it with, and
 * nothing is done.
 *
 * @returns A warning when libc could not be used although FFI is permitted, else undefined.
 *
 * @example
 * ```ts
 * import { closeInheritedFdsOnExec } from "./fds.ts";
 * const warning = closeInheritedFdsOnExec();
 * if (warning !== undefined) throw new Error(warning);
 * ```
 */
export function closeInheritedFdsOnExec(): string | undefined {
  let c;
  try {
    c = acquireLibc();
  } catch (e) {
    // Expected without FFI permission; anything else is worth a warning with its cause.
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return undefined;
    const why = e instanceof Error ? e.message : String(e);
    return `Cannot mark inherited descriptors close-on-exec: ${why}`;
  }
  try {
    for (const fd of openDescriptors(c, 3)) setCloexec(c, fd);
  } finally {
    releaseLibc();
  }
  return undefined;
}
