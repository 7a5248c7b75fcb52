/**
 * What `status`, `revoke` and `grant` share: the `--control PATH` option and one request to the
 * control socket of `serve` (docs/GRANTS.md).
 *
 * @module
 */
import { message } from "@optique/core/message";
import { withDefault } from "@optique/core/modifiers";
import { option } from "@optique/core/primitives";
import { string } from "@optique/core/valueparser";
import type { Io } from "../util/io.ts";
import { type ControlRequest, DEFAULT_CONTROL_PATH, requestControl } from "../server/control.ts";

/** `--control PATH` (default {@link DEFAULT_CONTROL_PATH}). */
export const controlOption = withDefault(
  option("--control", string({ metavar: "PATH" }), {
    description: message`Control socket of knocktool serve (default ${DEFAULT_CONTROL_PATH}).`,
  }),
  DEFAULT_CONTROL_PATH,
);

/**
 * Sends one request; prints the error and returns undefined when it fails.
 *
 * @param path The socket.
 * @param request The request.
 * @param io Where errors go.
 * @returns The answer's data.
 */
export async function callControl(
  path: string,
  request: ControlRequest,
  io: Io,
): Promise<Record<string, unknown> | undefined> {
  try {
    const a = await requestControl(path, request);
    if (!a.ok) {
      io.stderr(`${a.error}\n`);
      return undefined;
    }
    return a;
  } catch (e) {
    io.stderr(`${e instanceof Error ? e.message : String(e)}\n`);
    return undefined;
  }
}
