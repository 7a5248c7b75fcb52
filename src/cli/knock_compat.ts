/**
 * The `knock` link mode: knock 0.8's command line exactly — getopt `"vud:hV46"` with its long
 * options, its usage text on stdout, `-h` and every usage error exiting 1, `-V` exiting 0, the
 * negative-delay error after the operand count check (docs/COMPATIBILITY.md §1.2, observed on
 * Debian's `/usr/bin/knock`).
 *
 * @module
 */

import { SocketLib } from "../../ffi/socket.ts";
import type { Io } from "../util/io.ts";
import { getoptLong, type LongOption } from "./_getopt.ts";
import { atoi } from "../config/atoi.ts";
import { type KnockPlan, sendKnocks, type Sleep, sleep } from "../client/send.ts";
import { parseKnockStep } from "../client/steps.ts";

/** knock 0.8's usage text, byte for byte (printed on stdout). */
export const KNOCK_USAGE: string =
  "usage: knock [options] <host> <port[:proto]> [port[:proto]] ...\n" +
  "options:\n" +
  "  -u, --udp            make all ports hits use UDP (default is TCP)\n" +
  "  -d, --delay <t>      wait <t> milliseconds between port hits\n" +
  "  -4, --ipv4           Force usage of IPv4\n" +
  "  -6, --ipv6           Force usage of IPv6\n" +
  "  -v, --verbose        be verbose\n" +
  "  -V, --version        display version\n" +
  "  -h, --help           this help\n" +
  "\n" +
  "example:  knock myserver.example.com 123:tcp 456:udp 789:tcp\n" +
  "\n";

/** knock 0.8's `-V` text. */
export const KNOCK_VERSION =
  "knock 0.8\nCopyright (C) 2004-2012 Judd Vinet <jvinet@zeroflux.org>\n";

/** knock 0.8's long options, in its table order (glibc lists ambiguities in this order). */
export const KNOCK_LONG_OPTIONS: readonly LongOption[] = [
  { name: "verbose", hasArg: false, val: "v" },
  { name: "udp", hasArg: false, val: "u" },
  { name: "delay", hasArg: true, val: "d" },
  { name: "help", hasArg: false, val: "h" },
  { name: "version", hasArg: false, val: "V" },
  { name: "ipv4", hasArg: false, val: "4" },
  { name: "ipv6", hasArg: false, val: "6" },
];

/** What the knock command line asks for. */
export type CompatCommand =
  | {
    readonly kind: "exit";
    readonly status: number;
    readonly stdout: string;
    readonly stderr: string;
  }
  | { readonly kind: "knock"; readonly plan: KnockPlan };

/**
 * Parses a knock 0.8 command line without side effects.
 *
 * @param args Arguments after the program name.
 * @param argv0 The program name for getopt's messages.
 * @param posixlyCorrect Whether `POSIXLY_CORRECT` is set.
 * @returns An exit with its output, or the plan to send.
 *
 * @example
 * ```ts
 * import { parseCompat } from "./knock_compat.ts";
 * const c = parseCompat(["-h"], "knock");
 * if (c.kind !== "exit" || c.status !== 1) throw new Error("-h must exit 1");
 * ```
 */
export function parseCompat(
  args: readonly string[],
  argv0: string,
  posixlyCorrect = false,
): CompatCommand {
  const { events, operands } = getoptLong(
    args,
    "vud:hV46",
    KNOCK_LONG_OPTIONS,
    argv0,
    posixlyCorrect,
  );
  let verbose = false;
  let udp = false;
  let delay = 0;
  let family: 0 | 4 | 6 = 0;
  for (const ev of events) {
    if (ev.kind === "error") {
      return { kind: "exit", status: 1, stdout: KNOCK_USAGE, stderr: ev.message };
    }
    switch (ev.opt) {
      case "v":
        verbose = true;
        break;
      case "u":
        udp = true;
        break;
      case "d":
        delay = atoi(ev.arg ?? "");
        break;
      case "V":
        return { kind: "exit", status: 0, stdout: KNOCK_VERSION, stderr: "" };
      case "4":
        family = 4;
        break;
      case "6":
        family = 6;
        break;
      default: // 'h'
        return { kind: "exit", status: 1, stdout: KNOCK_USAGE, stderr: "" };
    }
  }
  if (operands.length < 2) return { kind: "exit", status: 1, stdout: KNOCK_USAGE, stderr: "" };
  if (delay < 0) {
    return { kind: "exit", status: 1, stdout: "", stderr: "error: delay cannot be negative\n" };
  }
  const [host, ...ports] = operands as [string, ...string[]];
  return {
    kind: "knock",
    plan: {
      host,
      steps: ports.map(parseKnockStep),
      family,
      udp,
      // knock computes usleep(1000 * o_delay) in int arithmetic, then as useconds_t.
      delayUs: Math.imul(1000, delay) >>> 0,
      verbose,
    },
  };
}

/**
 * Runs knock 0.8's command line.
 *
 * @param args Arguments after the program name.
 * @param io Where to print.
 * @param argv0 The program name for getopt's messages (knock uses `argv[0]` as typed).
 * @param posixlyCorrect Whether `POSIXLY_CORRECT` is set.
 * @param wait Sleep between hits.
 * @returns The exit status.
 */
export async function runCompat(
  args: readonly string[],
  io: Io,
  argv0 = "knock",
  posixlyCorrect = false,
  wait: Sleep = sleep,
): Promise<number> {
  const cmd = parseCompat(args, argv0, posixlyCorrect);
  if (cmd.kind === "exit") {
    if (cmd.stderr !== "") io.stderr(cmd.stderr);
    if (cmd.stdout !== "") io.stdout(cmd.stdout);
    return cmd.status;
  }
  using lib = SocketLib.open();
  return (await sendKnocks(cmd.plan, io, lib, wait)).status;
}
