/**
 * knocktool's entry point: argv → typed command → dispatch. The only place that exits.
 *
 * Started through a link named `knockd` or `knock`, the executable behaves as that program, with
 * its exact options, usage text and exit statuses (docs/COMPATIBILITY.md §1).
 *
 * @module
 */
// First: optique makes an Intl.Segmenter while its modules load; deferred until text is measured.
import { restoreSegmenter } from "./src/util/deferred_segmenter.ts";
import { or } from "@optique/core/constructs";
import { runParser } from "@optique/core/facade";
import { message } from "@optique/core/message";
import { type Io, processIo } from "./src/util/io.ts";
import { VERSION } from "./src/util/version.ts";
import { takeEnv } from "./src/util/env.ts";
import { checkCommand } from "./src/cli/check_args.ts";
import { serveCommand } from "./src/cli/serve_args.ts";
import { daemonChildSetup, readCmdline } from "./src/server/detach.ts";
import { knockCommand } from "./src/cli/knock_args.ts";
import { interfacesCommand } from "./src/cli/interfaces_args.ts";
import { keygenCommand } from "./src/cli/keygen_args.ts";
import { sequenceCommand } from "./src/cli/sequence_args.ts";
import { statusCommand } from "./src/cli/status_args.ts";
import { revokeCommand } from "./src/cli/revoke_args.ts";
import { grantCommand } from "./src/cli/grant_args.ts";

restoreSegmenter();

/** The whole command line: one parser per subcommand. */
export const parser = or(
  serveCommand,
  knockCommand,
  checkCommand,
  interfacesCommand,
  keygenCommand,
  sequenceCommand,
  statusCommand,
  revokeCommand,
  grantCommand,
);

/** The one-line summary `--help` prints first (and knocktool(1)'s description starts with). */
export const BRIEF = message`A port-knocking server and client, compatible with knockd 0.8.`;

/**
 * Runs knocktool with the given arguments and returns the exit status.
 *
 * @param args Arguments after the program name.
 * @param io Where to print.
 * @param argv0 The name the program was started as (a `knockd` or `knock` link switches mode).
 * @returns The process exit status.
 */
export async function main(args: readonly string[], io: Io, argv0 = "knocktool"): Promise<number> {
  const name = argv0.slice(argv0.lastIndexOf("/") + 1);
  if (name === "knockd") {
    return await (await import("./src/cli/serve.ts")).runKnockd(args, io, argv0);
  }
  if (name === "knock") {
    return await (await import("./src/cli/knock.ts")).runKnockCompat(args, io, argv0);
  }
  let status: number | undefined;
  const opts = runParser(parser, "knocktool", args, {
    brief: BRIEF,
    help: { command: true, option: true, onShow: (code: number) => (status = code) },
    version: { value: VERSION, option: true, onShow: (code: number) => (status = code) },
    completion: { command: true, onShow: (code: number) => (status = code) },
    onError: (code: number) => (status = code),
    stdout: (text: string) => io.stdout(text + "\n"),
    stderr: (text: string) => io.stderr(text + "\n"),
  });
  if (status !== undefined) return status;
  // Only the subcommand's runner is loaded (literal specifiers, so `deno compile` embeds them).
  switch (opts.cmd) {
    case "serve":
      return await (await import("./src/cli/serve.ts")).runServe(opts, io);
    case "knock":
      return await (await import("./src/cli/knock.ts")).runKnock(opts, io);
    case "check":
      return await (await import("./src/cli/check.ts")).runCheck(opts, io);
    case "interfaces":
      return await (await import("./src/cli/interfaces.ts")).runInterfaces(opts, io);
    case "keygen":
      return await (await import("./src/cli/keygen.ts")).runKeygen(opts, io);
    case "sequence":
      return await (await import("./src/cli/sequence.ts")).runSequence(opts, io);
    case "status":
      return await (await import("./src/cli/status.ts")).runStatus(opts, io);
    case "revoke":
      return await (await import("./src/cli/revoke.ts")).runRevoke(opts, io);
    case "grant":
      return await (await import("./src/cli/grant.ts")).runGrant(opts, io);
  }
}

/**
 * The name this process was started as: `KNOCKTOOL_ARGV0` (set by `serve -d` for its re-spawned
 * child), else argv[0] from /proc/self/cmdline (Deno.execPath() resolves links, so a `knockd`
 * link would be invisible there). `deno run main.ts` reports `deno`, i.e. knocktool mode.
 */
function startedAs(): string {
  // Taken out of the environment: not passed on to the door commands the daemon runs.
  const env = takeEnv("KNOCKTOOL_ARGV0");
  if (env !== undefined && env !== "") return env;
  return readCmdline()[0] ?? "knocktool";
}

if (import.meta.main) {
  daemonChildSetup();
  Deno.exit(await main(Deno.args, processIo, startedAs()));
}
