/**
 * What the runners of `status`, `revoke` and `grant` share: one request to the control socket of
 * `serve` (docs/GRANTS.md). Their `--control PATH` option is in `_control_args.ts`.
 *
 * @module
 */
import type { Io } from "../util/io.ts";
import { type ControlRequest, requestControl } from "../server/control.ts";

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
