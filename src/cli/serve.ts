/**
 * `knocktool serve`, and knockd itself when started through a link named `knockd`.
 *
 * Options are knockd 0.8's (reference §1.1) with its precedence rules: `-i` wins over the
 * config's `Interface`, the config's `LogFile`/`PidFile` win over `-g`/`-p`. Added:
 * `--pcap-file FILE` (replay a capture instead of listening), `--dry-run` (print
 * `would run: CMD` instead of running commands), `--log-format text|json`, `--address ADDR`
 * (local addresses for `--pcap-file`), `--syslog-facility NAME` (default `daemon` as Debian's
 * knockd; also env `KNOCKTOOL_SYSLOG_FACILITY`).
 *
 * `-d` daemonizes for real: paths are made absolute, the program re-spawns itself in a new
 * session with stdio on `/dev/null`, the parent waits until the child serves (it reports
 * readiness on a pipe) and exits 0; the child writes the pidfile (`PID\n`). Unlike knockd the
 * daemon keeps its working directory, so a relative `One_Time_Sequences` path still works on
 * reload (B9); commands run in `/` with stdin/stdout/stderr on `/dev/null`, as under knockd (the
 * readiness pipe is closed once the parent is told, so no command can inherit it).
 *
 * SIGTERM/SIGINT end the capture, start every pending stop command and wait for the commands
 * for at most 30 s (`SHUTDOWN_WAIT_MS` of `src/server/actions.ts`); a second SIGTERM or SIGINT
 * stops waiting at once. Commands still running then are logged and left running in their own
 * sessions; the exit status stays that of the first signal (15 or 2).
 *
 * @module
 */
import { configureSync, resetSync } from "@logtape/logtape";
import { object } from "@optique/core/constructs";
import { command, constant, option } from "@optique/core/primitives";
import { multiple, optional, withDefault } from "@optique/core/modifiers";
import { choice, string } from "@optique/core/valueparser";
import { message } from "@optique/core/message";
import type { Io } from "../util/io.ts";
import { VERSION } from "../util/version.ts";
import { getoptLong, type LongOption } from "./_getopt.ts";
import type { Config } from "../config/model.ts";
import { loadConfig } from "../config/load.ts";
import { parseFacility, Syslog } from "../../ffi/syslog.ts";
import { formatJsonLine, KnockdSink, SERVER_CATEGORY, ServerLog } from "../server/log.ts";
import {
  type CommandRunner,
  DoorActions,
  RecordingRunner,
  ShellRunner,
} from "../server/actions.ts";
import { Daemon, type FrameSource } from "../server/daemon.ts";
import { NssLookup } from "../server/lookup.ts";
import { captureFile } from "../server/capture_file.ts";
import { CaptureControl, captureLive } from "../server/capture_live.ts";
import type { LocalAddresses } from "../server/addresses.ts";
import { parseIpv4, parseIpv6 } from "../wire/address.ts";
import { readProcCmdline, setsid, stdioToDevNull } from "../server/detach.ts";
import { acquireLibc, openDescriptors, releaseLibc, setCloexec } from "../../ffi/libc.ts";

/** The `serve` subcommand's parser. */
export const serveCommand = command(
  "serve",
  object({
    cmd: constant("serve"),
    interface: optional(
      option("-i", "--interface", string({ metavar: "IFACE" }), {
        description: message`Network interface to listen on (default: the config's, else eth0).`,
      }),
    ),
    config: withDefault(
      option("-c", "--config", string({ metavar: "FILE" }), {
        description: message`Config file (default /etc/knockd.conf).`,
      }),
      "/etc/knockd.conf",
    ),
    daemon: option("-d", "--daemon", { description: message`Run as a daemon.` }),
    debug: option("-D", "--debug", { description: message`Print debug messages.` }),
    verbose: option("-v", "--verbose", { description: message`Be verbose.` }),
    lookup: option("-l", "--lookup", {
      description: message`Look up the host names of knockers (in the background).`,
    }),
    pidFile: optional(
      option("-p", "--pidfile", string({ metavar: "FILE" }), {
        description: message`Pidfile for -d (the config's PidFile wins).`,
      }),
    ),
    logFile: optional(
      option("-g", "--logfile", string({ metavar: "FILE" }), {
        description: message`Log file (the config's LogFile wins).`,
      }),
    ),
    ipv4Only: option("-4", "--only-ip-v4", { description: message`Do not track IPv6.` }),
    pcapFile: optional(
      option("--pcap-file", string({ metavar: "FILE" }), {
        description: message`Replay a capture file instead of listening.`,
      }),
    ),
    dryRun: option("--dry-run", {
      description: message`Print the commands that would run instead of running them.`,
    }),
    logFormat: withDefault(
      option("--log-format", choice(["text", "json"]), {
        description: message`Standard output format: knockd's text lines, or JSON lines.`,
      }),
      "text" as const,
    ),
    addresses: multiple(
      option("--address", string({ metavar: "ADDR" }), {
        description: message`A local address for --pcap-file (repeatable).`,
      }),
    ),
    capture: withDefault(
      option("--capture", choice(["immediate", "buffered"]), {
        description:
          message`immediate (default): deliver each packet at once, snaplen 1024, 8 MiB ring; buffered: knockd's pcap_open_live(65535, 50 ms).`,
      }),
      "immediate" as const,
    ),
    syslogFacility: optional(
      option("--syslog-facility", string({ metavar: "NAME" }), {
        description: message`Syslog facility for UseSyslog (default daemon, as Debian's knockd).`,
      }),
    ),
  }),
  { description: message`Run the port-knocking server (knockd 0.8 compatible).` },
);

/** Options of `serve`. */
export interface ServeOptions {
  readonly cmd: "serve";
  readonly interface?: string | undefined;
  readonly config: string;
  readonly daemon: boolean;
  readonly debug: boolean;
  readonly verbose: boolean;
  readonly lookup: boolean;
  readonly pidFile?: string | undefined;
  readonly logFile?: string | undefined;
  readonly ipv4Only: boolean;
  readonly pcapFile?: string | undefined;
  readonly dryRun: boolean;
  readonly logFormat: "text" | "json";
  readonly addresses: readonly string[];
  readonly syslogFacility?: string | undefined;
  /** Capture mode: `immediate` (low latency) or `buffered` (knockd's exact pcap_open_live). */
  readonly capture?: "immediate" | "buffered";
  /** Started as `knockd`: errors use knockd's texts and the usage text. */
  readonly knockd?: boolean;
}

/**
 * Capture settings for a live interface. knockd reads with `pcap_open_live(iface, 65535, 0, 50)`,
 * so a knock reaches it up to 50 ms late (TPACKET_V3 hands over whole blocks). Immediate mode
 * delivers each packet at once; libpcap then uses TPACKET_V2, whose ring slots are min(snaplen,
 * MTU) bytes, so the snaplen is cut to 1024 — room for Ethernet, two VLAN tags, IPv6 with ~900
 * bytes of extension headers and a full TCP header — and the ring is sized for ~7,500 frames.
 */
function captureTuning(
  opts: ServeOptions,
): { immediate: boolean; snaplen: number; bufferBytes?: number } {
  if (opts.capture === "buffered") return { immediate: false, snaplen: 65535 };
  return { immediate: true, snaplen: 1024, bufferBytes: 8 * 1024 * 1024 };
}

/** Environment variable the daemonized child finds its readiness pipe through (internal). */
const CHILD_ENV = "KNOCKTOOL_DAEMON_CHILD";

/**
 * knockd's usage text (reference §1.1), printed on stdout.
 *
 * @example
 * ```ts
 * import { KNOCKD_USAGE } from "./serve.ts";
 * if (!KNOCKD_USAGE.startsWith("usage: knockd [options]\n")) throw new Error();
 * ```
 */
export const KNOCKD_USAGE = `usage: knockd [options]
options:
  -i, --interface <int>  network interface to listen on (default "eth0")
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
 * and exits 0; an unknown option prints glibc's message, then the usage, and exits 0 (B12
 * mirrored); `-V` prints knockd's first line `knockd 0.8` (scripts match it), then
 * `knocktool VERSION, compatible with knockd 0.8` instead of knockd's copyright line, and exits 0.
 *
 * @param args Arguments after the program name.
 * @param argv0 The program name glibc prints in its messages (argv[0] as typed).
 * @returns What to run, or what to print and the exit status.
 *
 * @example
 * ```ts
 * import { parseKnockdArgs } from "./serve.ts";
 * const r = parseKnockdArgs(["-vi", "lo", "-c/etc/k.conf"], "knockd");
 * if (r.kind !== "run" || r.options.interface !== "lo" || !r.options.verbose) throw new Error();
 * ```
 */
export function parseKnockdArgs(args: readonly string[], argv0: string): KnockdArgs {
  const o = {
    interface: undefined as string | undefined,
    config: "/etc/knockd.conf",
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

/**
 * Runs knocktool as `knockd` (started through a link of that name).
 *
 * @param args Arguments after the program name.
 * @param io Where to print.
 * @param argv0 argv[0] as typed (for glibc-style messages).
 * @returns The exit status.
 */
export async function runKnockd(
  args: readonly string[],
  io: Io,
  argv0 = "knockd",
): Promise<number> {
  const r = parseKnockdArgs(args, argv0);
  if (r.kind === "exit") {
    if (r.stderr) io.stderr(r.stderr);
    if (r.stdout) io.stdout(r.stdout);
    return r.status;
  }
  return await runServe(r.options, io);
}

function envGet(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // no env permission
  }
}

/** Makes a path absolute against the current directory. */
function absolute(path: string): string {
  if (path.startsWith("/")) return path;
  return `${Deno.cwd()}/${path}`;
}

function parseAddresses(list: readonly string[]): LocalAddresses | string {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const a of list) {
    const b4 = parseIpv4(a);
    if (b4 !== null) {
      v4.push(a);
      continue;
    }
    if (parseIpv6(a) !== null) {
      v6.push(a);
      continue;
    }
    return `Cannot use address ${JSON.stringify(a)}: not an IPv4 or IPv6 address`;
  }
  return { v4, v6 };
}

/**
 * Runs `serve`; returns the exit status (0 at the end of a `--pcap-file`, 15/2 after
 * SIGTERM/SIGINT as knockd, 1 on a config or capture error).
 *
 * @param opts Parsed options.
 * @param io Where to print.
 * @returns The exit status.
 */
export async function runServe(opts: ServeOptions, processIo: Io): Promise<number> {
  const knockd = opts.knockd === true;
  // Under -d, once the parent is told we serve, stdout and stderr are gone (knockd: /dev/null).
  let stdioDetached = false;
  const io: Io = {
    stdout: (text) => {
      if (!stdioDetached) processIo.stdout(text);
    },
    stderr: (text) => {
      if (!stdioDetached) processIo.stderr(text);
    },
  };
  let isChild = false;
  try {
    isChild = Deno.env.get(CHILD_ENV) !== undefined;
    // Door commands must not inherit the marker.
    if (isChild) Deno.env.delete(CHILD_ENV);
  } catch {
    // No env permission: not the child.
  }
  const configPath = opts.daemon ? absolute(opts.config) : opts.config;
  const loaded = loadConfig(configPath);
  if (!loaded.ok) {
    if (knockd) {
      io.stderr(loaded.error.knockdText + "\n");
      io.stdout(KNOCKD_USAGE);
    } else {
      io.stderr(`knocktool serve: ${loaded.error.message}\n`);
    }
    return 1;
  }
  const config = loaded.config;
  const addrList = parseAddresses(opts.addresses);
  if (typeof addrList === "string") {
    io.stderr(`knocktool serve: ${addrList}\n`);
    return 1;
  }
  const facilityName = opts.syslogFacility ?? envGet("KNOCKTOOL_SYSLOG_FACILITY") ??
    "daemon";
  const facility = parseFacility(facilityName);
  if (facility === undefined) {
    io.stderr(
      `knocktool serve: Cannot use syslog facility ${JSON.stringify(facilityName)}: unknown name\n`,
    );
    return 1;
  }

  // knockd precedence: -i beats Interface=; LogFile=/PidFile= beat -g/-p.
  const iface = opts.interface ?? config.options.interface ?? "eth0";
  const abs = (p: string | undefined) => p === undefined || !opts.daemon ? p : absolute(p);
  let logFile = abs(config.options.logFile ?? opts.logFile);
  const pcapFile = abs(opts.pcapFile);
  const pidFile = abs(config.options.pidFile ?? opts.pidFile ?? "/var/run/knockd.pid")!;

  if (opts.daemon && !isChild) return await spawnDaemon(io);
  inheritedFdsCloseOnExec();

  // --- logging: only here (the program side) are sinks configured ---
  let syslog: Syslog | undefined;
  const openSyslog = (c: Config) => {
    if (c.options.useSyslog && syslog === undefined) {
      try {
        syslog = Syslog.open("knockd", facility);
      } catch (e) {
        io.stderr(`warning: ${e instanceof Error ? e.message : String(e)}\n`);
      }
    }
  };
  openSyslog(config);
  const sink = new KnockdSink({
    io,
    verbose: opts.verbose,
    debug: opts.debug,
    format: opts.logFormat,
    ...(logFile !== undefined ? { logFile } : {}),
    ...(syslog !== undefined ? { syslog } : {}),
  });
  const warn = sink.open();
  if (warn !== undefined) io.stderr(warn + "\n");
  configureSync({
    sinks: { knockd: sink.sink },
    loggers: [
      // Debug records are built only under -D: the per-packet line costs more than matching.
      {
        category: [...SERVER_CATEGORY],
        sinks: ["knockd"],
        lowestLevel: opts.debug ? "debug" : "info",
      },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
    ],
    reset: true,
  });
  const log = new ServerLog();

  const runner: CommandRunner = opts.dryRun
    ? new RecordingRunner((cmd) =>
      io.stdout(
        opts.logFormat === "json"
          ? formatJsonLine(new Date(), "info", {
            text: `would run: ${cmd}`,
            event: "would-run",
            channels: "",
          })
          : `would run: ${cmd}\n`,
      )
    )
    : new ShellRunner(opts.daemon ? { cwd: "/", stdio: "null" } : {});
  const actions = new DoorActions({ runner, log });
  const lookup = opts.lookup ? new NssLookup() : undefined;

  // knockd logs its start once the interface is open and filtered; a live capture that waits for
  // its interface (B6, B7) announces itself when it has it, so "starting up" means knocks count.
  let announced = false;
  const announce = (): void => {
    if (announced) return;
    announced = true;
    const where = pcapFile ?? iface;
    log.emit("start", `listening on ${where}...`, "V");
    log.emit("start", `starting up, listening on ${where}`, "L");
  };
  let daemon: Daemon;
  try {
    daemon = new Daemon({
      config,
      configPath,
      reloadConfig: () => loadConfig(configPath),
      actions,
      log,
      localAddresses: opts.pcapFile !== undefined ? addrList : { v4: [], v6: [] },
      ipv4Only: opts.ipv4Only,
      debug: opts.debug,
      ...(lookup !== undefined ? { lookup } : {}),
      onOpen: announce,
      onReload: (c) => {
        openSyslog(c);
        sink.syslog = syslog;
        const next = abs(c.options.logFile) ?? logFile;
        if (next !== logFile) logFile = next;
      },
      reopenLog: () => {
        if (logFile === undefined) return; // B8 fixed: no warning without a log file
        log.emit("reload", `closing log file: ${logFile}\n`, "V");
        sink.close();
        log.emit("reload", `re-opening log file: ${logFile}\n`, "SV");
        const w = sink.open(logFile);
        if (w !== undefined) log.emit("reload", w, "E", { warning: true });
      },
    });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (knockd) {
      io.stderr(msg + "\n");
      io.stdout(KNOCKD_USAGE);
    } else io.stderr(`knocktool serve: ${msg}\n`);
    resetSync();
    sink.close();
    syslog?.close();
    return 1;
  }

  const control = new CaptureControl();
  const source: FrameSource = opts.pcapFile !== undefined
    ? {
      live: false,
      run: async (ev, signal) => {
        // The matcher's own pre-filter is exact, and a replay must see the ports of rotated
        // one-time sequences too: no BPF on files.
        await captureFile(pcapFile!, "", ev, signal);
      },
      refilter: () => {},
    }
    : {
      live: true,
      run: (ev, signal, filter) =>
        captureLive(
          { iface, filter, ipv4Only: opts.ipv4Only, control, ...captureTuning(opts) },
          ev,
          signal,
        ),
      refilter: () => control.reinstallFilter(),
    };

  const ac = new AbortController();
  // A second SIGTERM/SIGINT: stop waiting for the commands (the pending stops are started first).
  const force = new AbortController();
  let status = 0;
  const onSignal = (name: "SIGTERM" | "SIGINT") => () => {
    if (ac.signal.aborted) {
      force.abort();
      return;
    }
    status = name === "SIGTERM" ? 15 : 2;
    ac.abort();
  };
  const onTerm = onSignal("SIGTERM");
  const onInt = onSignal("SIGINT");
  const onHup = () => daemon.reload();
  const signals: [Deno.Signal, () => void][] = [
    ["SIGTERM", onTerm],
    ["SIGINT", onInt],
    ["SIGHUP", onHup],
  ];
  for (const [s, h] of signals) Deno.addSignalListener(s, h);

  let wrotePid = false;
  try {
    if (opts.daemon) {
      try {
        Deno.writeTextFileSync(pidFile, `${Deno.pid}\n`);
        wrotePid = true;
      } catch (e) {
        const err = e instanceof Error ? e.message.replace(/ \(os error \d+\).*$/s, "") : "";
        log.emit("pidfile", `could not create pid file ${pidFile}: ${err}`, "LD");
      }
    }
    if (opts.pcapFile !== undefined) {
      // knockd prints its local addresses in reverse order of discovery.
      for (const ip of [...addrList.v4, ...addrList.v6].reverse()) {
        log.emit("debug", `local IP: ${ip}`, "D");
      }
      if (addrList.v4.length + addrList.v6.length === 0) {
        log.emit(
          "warning",
          `Replay ${
            JSON.stringify(pcapFile)
          } without local addresses: doors without a Target cannot match; give --address`,
          "E",
          { warning: true },
        );
      }
    }
    // A replay has nothing to wait for; a live capture announces itself from onOpen.
    if (pcapFile !== undefined) announce();
    if (isChild) {
      signalReady();
      stdioDetached = true;
    }
    try {
      await daemon.run(source, ac.signal);
    } catch (e) {
      io.stderr(`knocktool serve: ${e instanceof Error ? e.message : String(e)}\n`);
      if (status === 0) status = 1;
    }
    log.emit("stop", "waiting for child processes...", "V");
    await actions.shutdown(force.signal);
    log.emit("stop", "closing...", "V");
    if (opts.debug) {
      log.emit(
        "stats",
        `frames: ${daemon.counters.frames}, decode errors: ${daemon.counters.decodeErrors}, internal errors: ${daemon.counters.internalErrors}`,
        "D",
      );
    }
    log.emit("stop", "shutting down", "L");
  } finally {
    daemon.close();
    await lookup?.close(); // bounded: NssLookup waits at most CLOSE_WAIT_MS for a slow resolver
    if (wrotePid) {
      try {
        Deno.removeSync(pidFile);
      } catch { /* already gone */ }
    }
    resetSync();
    sink.close();
    syslog?.close();
    // Last, so that a second SIGTERM during shutdown never meets the default action (exit 143).
    for (const [s, h] of signals) Deno.removeSignalListener(s, h);
  }
  return status;
}

/**
 * B17: descriptors knocktool inherited beyond stdin, stdout and stderr (from a shell, a CI runner,
 * a service manager's extra sockets) are marked close-on-exec, so that door commands get fds 0-2
 * only. Deno's own descriptors are close-on-exec already. The open descriptors come from libc
 * (`openDescriptors`), not /proc: Deno refuses /proc/self without --allow-all, which the compiled
 * binary does not have. Skipped only without FFI.
 */
function inheritedFdsCloseOnExec(): void {
  try {
    const c = acquireLibc();
    try {
      for (const fd of openDescriptors(c, 3)) setCloexec(c, fd);
    } finally {
      releaseLibc();
    }
  } catch {
    // no FFI permission
  }
}

/**
 * In the daemonized child: tell the parent we serve, then detach stdio (knockd's daemon()). Deno
 * writes `Deno.stderr` through its own copy of the original fd 2 — the readiness pipe — and hands
 * that copy to children spawned with `"inherit"`: it is closed here, so nothing can write into a
 * pipe whose reader has exited (SIGPIPE).
 */
function signalReady(): void {
  try {
    Deno.stderr.writeSync(new TextEncoder().encode(READY));
  } catch { /* parent gone */ }
  stdioToDevNull();
  for (const stream of [Deno.stderr, Deno.stdout, Deno.stdin]) {
    try {
      stream.close();
    } catch { /* already closed */ }
  }
}

const READY = "\u0000knocktool-ready\n";

/**
 * The parent side of `-d`: re-spawns this program with the same arguments in a new session,
 * forwards what the child prints on stderr before it is ready, and exits 0 once it serves.
 */
async function spawnDaemon(io: Io): Promise<number> {
  // Without access to the marker variable the child could not tell it is the child and would
  // daemonize again: refuse instead.
  for (const variable of [CHILD_ENV, "KNOCKTOOL_ARGV0"]) {
    if (Deno.permissions.querySync({ name: "env", variable }).state !== "granted") {
      io.stderr(
        `knocktool serve: Cannot daemonize: permission to read environment variable "${variable}" is missing\n`,
      );
      return 1;
    }
  }
  const args = readCmdline();
  const exe = Deno.execPath();
  // `deno run main.ts …` and a compiled binary differ: /proc/self/cmdline has the real argv.
  const child = new Deno.Command(exe, {
    args: args.slice(1),
    env: { [CHILD_ENV]: "1", KNOCKTOOL_ARGV0: args[0] ?? "knocktool" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    detached: true,
  }).spawn();
  const reader = child.stderr.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  let ready = false;
  while (!ready) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    const at = buf.indexOf(READY);
    if (at >= 0) {
      ready = true;
      buf = buf.slice(0, at);
    }
  }
  if (buf) io.stderr(buf);
  await reader.cancel().catch(() => {});
  if (ready) {
    child.unref();
    return 0;
  }
  const st = await child.status;
  return st.code === 0 ? 1 : st.code;
}

/**
 * argv of this process as the kernel has it (Deno.args and execPath hide links and `deno run`'s
 * own arguments).
 *
 * @returns argv; `[Deno.execPath(), ...Deno.args]` when /proc cannot be read.
 */
export function readCmdline(): string[] {
  try {
    const argv = readProcCmdline();
    if (argv !== undefined && argv.length > 0) return argv;
  } catch {
    // No FFI permission or no libc: fall through.
  }
  return [Deno.execPath(), ...Deno.args];
}

/** Called first thing in the daemonized child (main.ts): start a new session. */
export function daemonChildSetup(): void {
  try {
    if (Deno.env.get(CHILD_ENV) === undefined) return;
  } catch {
    return; // no env permission: not the child
  }
  setsid();
}
