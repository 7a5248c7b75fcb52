/**
 * Running knocktool from this checkout in tests and benchmarks: the command line
 * (`deno run -A --config deno.json main.ts …`) and starting a server in a namespace until it logs
 * `starting up`.
 *
 * @module
 */
import { type BgProcess, type Netns, readText, waitUntil } from "./netns.ts";

/** This checkout's `main.ts`. */
export const MAIN = new URL("../main.ts", import.meta.url).pathname;
/** This checkout's `deno.json`. */
export const DENO_CONFIG = new URL("../deno.json", import.meta.url).pathname;

/**
 * The command line of `knocktool ARGS…` from this checkout.
 *
 * @param args The subcommand and its arguments.
 * @returns `deno run -A --config deno.json main.ts ARGS…`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { knocktoolArgv } from "./knocktool_cmd.ts";
 * assert.deepEqual(knocktoolArgv("check").slice(1, 4), ["run", "-A", "--config"]);
 * assert.equal(knocktoolArgv("check").at(-1), "check");
 * ```
 */
export function knocktoolArgv(...args: string[]): string[] {
  return [Deno.execPath(), "run", "-A", "--config", DENO_CONFIG, MAIN, ...args];
}

/**
 * The command line of `knocktool serve -i IFACE -c CONF -g LOG EXTRA…`.
 *
 * @param iface The interface.
 * @param conf The config file.
 * @param log The log file.
 * @param extra More options.
 * @returns The argv.
 */
export function serveArgv(iface: string, conf: string, log: string, ...extra: string[]): string[] {
  return knocktoolArgv("serve", "-i", iface, "-c", conf, "-g", log, ...extra);
}

/** Counts the `starting up` lines of a log file (a restart appends one). */
export function startCount(logPath: string): number {
  return readText(logPath).split("starting up").length - 1;
}

/**
 * Waits (30 s at most) until a server has logged one more `starting up` than `before`.
 *
 * @param server The server process.
 * @param logPath Its log file.
 * @param before {@link startCount} before it was started.
 * @param context Everything known, for the failure message.
 * @throws {Error} `Cannot start LABEL` with the context when it exits or does not start.
 */
export async function waitStarted(
  server: BgProcess,
  logPath: string,
  before: number,
  context: () => string = () => `${server.describe()}--- log:\n${readText(logPath)}`,
): Promise<void> {
  await waitUntil(() => startCount(logPath) > before || server.exited !== undefined, {
    timeoutMs: 30_000,
    what: `${server.label} to log "starting up"`,
    context,
  });
  if (server.exited !== undefined) {
    throw new Error(`Cannot start ${server.label}:\n${context()}`);
  }
}

/**
 * Starts a server (knocktool serve, or knockd) in `ns` and waits until it logs `starting up`.
 *
 * @param ns The namespace.
 * @param label Its label (output file names, messages).
 * @param argv Its command line, logging to `opts.logPath`.
 * @param opts `logPath`; `cwd`; `context` for failure messages.
 * @returns The running server.
 * @throws {Error} When it exits or does not start within 30 s.
 */
export async function startServer(
  ns: Netns,
  label: string,
  argv: readonly string[],
  opts: { logPath: string; cwd?: string; context?: () => string },
): Promise<BgProcess> {
  const before = startCount(opts.logPath);
  const server = ns.spawn(label, argv, opts.cwd === undefined ? {} : { cwd: opts.cwd });
  await waitStarted(server, opts.logPath, before, opts.context);
  return server;
}
