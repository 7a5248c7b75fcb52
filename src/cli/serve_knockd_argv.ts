/**
 * knockd's own command line, for knocktool started through a link named `knockd`: glibc
 * `getopt_long` parsing of knockd 0.8's options, its usage text and its `-h`/`-V` output
 * (docs/COMPATIBILITY.md §1.1). The result is the same {@link ServeOptions} `knocktool serve`
 * builds.
 *
 * @module
 */
import { VERSION } from "../util/version.ts";
import { DEFAULT_CONFIG_PATH, DEFAULT_INTERFACE } from "../config/defaults.ts";
import { getoptLong, type LongOption } from "./_getopt.ts";
import type { ServeOptions } from "./serve_args.ts";

/**
 * knockd's usage text (docs/COMPATIBILITY.md §1.1), printed on stdout.
 *
 * @example
 * ```ts
 * import { KNOCKD_USAGE } from "./serve_knockd_argv.ts";
 * if (!KNOCKD_USAGE.startsWith("usage: knockd [options]\n")) throw new Error();
 * ```
 */
export const KNOCKD_USAGE = `usage: knockd [options]
options:
  -i, --interface <int>  network interface to listen on (default "${DEFAULT_INTERFACE}")
  -d, --daemon           run as a daemon
  -c, --config <file>    use an alternate config file
  -D, --debug            output debug messages
  -l, --lookup           lookup DNS names (may be a security risk)
  -p, --pidfile          use an alternate pidfile
  -g, --logfile          use an alternate logfile
  -v, --verbose          be verbose
  -4, --only-ip-v4       do not track ipv6
  -V, --version          display version
  -h, --help             this help

`;

/** knockd 0.8's long options in its table order (glibc lists ambiguities in this order). */
const KNOCKD_LONG: readonly LongOption[] = [
  { name: "verbose", val: "v", hasArg: false },
  { name: "debug", val: "D", hasArg: false },
  { name: "daemon", val: "d", hasArg: false },
  { name: "lookup", val: "l", hasArg: false },
  { name: "interface", val: "i", hasArg: true },
  { name: "config", val: "c", hasArg: true },
  { name: "help", val: "h", hasArg: false },
  { name: "pidfile", val: "p", hasArg: true },
  { name: "logfile", val: "g", hasArg: true },
  { name: "only-ip-v4", val: "4", hasArg: false },
  { name: "version", val: "V", hasArg: false },
];
const KNOCKD_SHORT = "4vDdli:c:p:g:hV";

/** Result of {@link parseKnockdArgs}. */
export type KnockdArgs =
  | { readonly kind: "run"; readonly options: ServeOptions }
  | {
    readonly kind: "exit";
    readonly status: number;
    readonly stdout: string;
    readonly stderr: string;
  };

/**
 * Parses a command line as knockd's `getopt_long(argc, argv, "4vDdli:c:p:g:hV", ...)` does
 * (GNU getopt: permutation, clustered short options, attached or separate arguments, `--name=v`,
 * unambiguous long prefixes, `--` ends options; non-options are ignored). `-h` prints the usage
 * and exits 0; an unknown option prints glibc's message, then the usage, and exits 0
 * (docs/COMPATIBILITY.md B12, mirrored); `-V` prints knockd's first line `knockd 0.8` (scripts
 * match it), then `knocktool VERSION, compatible with knockd 0.8` instead of knockd's copyright
 * line, and exits 0.
 *
 * @param args Arguments after the program name.
 * @param argv0 The program name glibc prints in its messages (argv[0] as typed).
 * @returns What to run, or what to print and the exit status.
 *
 * @example
 * ```ts
 * import { parseKnockdArgs } from "./serve_knockd_argv.ts";
 * const r = parseKnockdArgs(["-vi", "lo", "-c/etc/k.conf"], "knockd");
 * if (r.kind !== "run" || r.options.interface !== "lo" || !r.options.verbose) throw new Error();
 * ```
 */
export function parseKnockdArgs(args: readonly string[], argv0: string): KnockdArgs {
  const o = {
    interface: undefined as string | undefined,
    config: DEFAULT_CONFIG_PATH,
    daemon: false,
    debug: false,
    verbose: false,
    lookup: false,
    pidFile: undefined as string | undefined,
    logFile: undefined as string | undefined,
    ipv4Only: false,
  };
  const bad = (stderr: string): KnockdArgs => ({
    kind: "exit",
    status: 0,
    stdout: KNOCKD_USAGE,
    stderr,
  });
  const apply = (short: string, value: string | undefined): KnockdArgs | undefined => {
    switch (short) {
      case "4":
        o.ipv4Only = true;
        break;
      case "v":
        o.verbose = true;
        break;
      case "D":
        o.debug = true;
        break;
      case "d":
        o.daemon = true;
        break;
      case "l":
        o.lookup = true;
        break;
      case "i":
        // knockd copies into a 32-byte buffer: at most 31 characters.
        o.interface = value!.slice(0, 31);
        break;
      case "c":
        o.config = value!;
        break;
      case "p":
        o.pidFile = value!;
        break;
      case "g":
        o.logFile = value!;
        break;
      case "h":
        return { kind: "exit", status: 0, stdout: KNOCKD_USAGE, stderr: "" };
      case "V":
        return {
          kind: "exit",
          status: 0,
          stdout: `knockd 0.8\nknocktool ${VERSION}, compatible with knockd 0.8\n`,
          stderr: "",
        };
    }
    return undefined;
  };
  // Operands are ignored (knockd takes none); getopt permutes them away.
  for (const ev of getoptLong(args, KNOCKD_SHORT, KNOCKD_LONG, argv0).events) {
    if (ev.kind === "error") return bad(ev.message);
    const r = apply(ev.opt, ev.arg);
    if (r) return r;
  }
  return {
    kind: "run",
    options: {
      cmd: "serve",
      ...o,
      pcapFile: undefined,
      dryRun: false,
      logFormat: "text",
      addresses: [],
      knockd: true,
    },
  };
}
