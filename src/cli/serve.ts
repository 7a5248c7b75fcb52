/**
 * `knocktool serve`, and knockd itself when started through a link named `knockd`
 * (`serve_knockd_argv.ts` parses knockd's command line).
 *
 * Options are knockd 0.8's (docs/COMPATIBILITY.md §1.1) with its precedence rules
 * (`serve_settings.ts`). Added: `--pcap-file FILE` (replay a capture instead of listening),
 * `--dry-run` (print `would run: CMD` instead of running commands), `--log-format text|json`,
 * `--address ADDR` (local addresses for `--pcap-file`), `--syslog-facility NAME` (default
 * `daemon` as Debian's knockd; also env `KNOCKTOOL_SYSLOG_FACILITY`).
 *
 * `-d` daemonizes for real (`src/server/detach.ts`): paths are made absolute, the program
 * re-spawns itself in a new session with stdio on `/dev/null`, the parent waits until the child
 * serves (it reports readiness on a pipe) and exits 0; the child writes the pidfile (`PID\n`).
 * Unlike knockd the daemon keeps its working directory, so a relative `One_Time_Sequences` path
 * still works on reload (docs/COMPATIBILITY.md B9); commands run in `/` with
 * stdin/stdout/stderr on `/dev/null`, as under knockd (the readiness pipe is closed once the
 * parent is told, so no command can inherit it).
 *
 * SIGTERM/SIGINT end the capture, start every pending stop command and wait for the commands
 * for at most 30 s (`SHUTDOWN_WAIT_MS` of `src/server/actions.ts`); a second SIGTERM or SIGINT
 * stops waiting at once (`serve_signals.ts`). Commands still running then are logged and left
 * running in their own sessions; the exit status stays that of the first signal (15 or 2).
 *
 * The option parser is `serve_args.ts`; the steps of `runServe` live in the `serve_*.ts` files.
 *
 * @module
 */
import type { Io } from "../util/io.ts";
import { loadConfig } from "../config/load.ts";
import { formatJsonLine } from "../server/log.ts";
import {
  type CommandRunner,
  DoorActions,
  RecordingRunner,
  ShellRunner,
} from "../server/actions.ts";
import { Daemon, DaemonSetupError, type FrameSource } from "../server/daemon.ts";
import { NssLookup } from "../server/lookup.ts";
import {
  daemonizeProblem,
  removePidFile,
  signalReady,
  spawnDaemon,
  takeDaemonChildMarker,
} from "../server/detach.ts";
import { closeInheritedFdsOnExec } from "../server/fds.ts";
import { SpawnRunner } from "../server/spawn_runner.ts";
import { KNOCKD_USAGE, parseKnockdArgs } from "./serve_knockd_argv.ts";
import { resolveServeSettings, type ServeSettings } from "./serve_settings.ts";
import { ServeLogging } from "./serve_logging.ts";
import { frameSource } from "./serve_source.ts";
import { ServeSignals } from "./serve_signals.ts";
import { type ServeCluster, startCluster } from "./serve_cluster.ts";
import { clusterReload } from "./serve_reload.ts";
import type { ControlServer } from "../server/control.ts";
import * as grantsSetup from "./serve_grants.ts";
import type { ServeGrants } from "./serve_grants.ts";
import type { ServeOptions } from "./serve_args.ts";

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

/**
 * Runs `serve`; returns the exit status (0 at the end of a `--pcap-file`, 15/2 after
 * SIGTERM/SIGINT as knockd, 1 on a config or capture error). In order: settings → logging →
 * daemon → frame source → signals.
 *
 * @param opts Parsed options.
 * @param processIo Where to print.
 * @returns The exit status.
 */
export async function runServe(opts: ServeOptions, processIo: Io): Promise<number> {
  const out = new DetachableIo(processIo);
  const io = out.io;
  const isChild = takeDaemonChildMarker();
  // 1. Settings (and -d's parent, which only re-spawns and waits).
  const resolved = resolveServeSettings(opts);
  if (!resolved.ok) {
    io.stderr(resolved.stderr);
    if (resolved.stdout) io.stdout(resolved.stdout);
    return 1;
  }
  const s = resolved.settings;
  if (opts.daemon && !isChild) {
    const problem = daemonizeProblem();
    if (problem !== undefined) {
      io.stderr(`knocktool serve: ${problem}\n`);
      return 1;
    }
    return await spawnDaemon(io);
  }
  const fdWarning = closeInheritedFdsOnExec();
  if (fdWarning !== undefined) io.stderr(`warning: ${fdWarning}\n`);
  // 2. Logging.
  const logging = ServeLogging.open({
    io,
    verbose: opts.verbose,
    debug: opts.debug,
    format: opts.logFormat,
    logFile: s.logFile,
    facility: s.facility,
    config: s.config,
  });
  const log = logging.log;
  // 3. The daemon: matcher, actions, lookups.
  const runner = commandRunner(opts, io);
  const actions = new DoorActions({ runner, log });
  const lookup = opts.lookup ? new NssLookup() : undefined;
  const announce = logging.announcer(s.pcapFile ?? s.iface);
  const setup = grantsSetup.setupGrants(s.config, s.abs, actions, log);
  const grants: ServeGrants = typeof setup === "string" ? grantsSetup.NO_GRANTS : setup;
  const daemon = typeof setup === "string"
    ? setup
    : createDaemon(opts, s, { logging, actions, lookup, announce, grants });
  if (typeof daemon === "string") {
    grants.close();
    if (opts.knockd === true) {
      io.stderr(daemon + "\n");
      io.stdout(KNOCKD_USAGE);
    } else io.stderr(`knocktool serve: ${daemon}\n`);
    if (runner instanceof SpawnRunner) runner.close();
    logging.close();
    return 1;
  }
  // 4. The frame source; 5. signals.
  const source = frameSource(opts, s.iface, s.pcapFile);
  const signals = new ServeSignals(() => daemon.reload());
  let wrotePid = false;
  let failed = false;
  let control: ControlServer | undefined;
  let metrics: { close(): Promise<void> } | undefined;
  let cluster: ServeCluster | undefined;
  try {
    if (opts.daemon) wrotePid = logging.writePidFile(s.pidFile);
    if (s.pcapFile === undefined || opts.control !== undefined) { // a replay: only when asked
      control = await grantsSetup.openControl(
        s.abs(opts.control),
        {
          daemon,
          actions,
          grants,
          cluster: () => cluster === undefined ? undefined : { cluster: cluster.fleet.snapshot() },
        },
        log,
        io,
      );
    }
    if (opts.metricsListen !== undefined) {
      const m = grantsSetup.openMetrics(opts.metricsListen, { daemon, actions, grants });
      if (typeof m === "string") throw new ServeSetupError(m);
      metrics = m;
    }
    if (grants.keeper !== undefined && s.config.options.cluster !== undefined) {
      try {
        cluster = await startCluster(() => daemon.config, grants.keeper, log, daemon);
      } catch (e) {
        if (!(e instanceof Error)) throw e;
        throw new ServeSetupError(e.message);
      }
    }
    if (s.pcapFile !== undefined) {
      logging.replayAddresses(s.pcapFile, s.addresses);
      announce(); // a replay has nothing to wait for; a live capture announces from onOpen
    }
    if (isChild) {
      signalReady();
      out.detach();
    }
    failed = !await runDaemon(daemon, source, signals.stop, io);
    await cluster?.close();
    await control?.close();
    await metrics?.close();
    log.emit("stop", "waiting for child processes...", "V");
    await grants.keeper?.shutdown();
    await actions.shutdown(signals.force);
    log.emit("stop", "closing...", "V");
    if (opts.debug) logging.counters(daemon.counters, daemon.repeatsIgnored);
    log.emit("stop", "shutting down", "L");
  } catch (e) {
    if (!(e instanceof ServeSetupError)) throw e;
    io.stderr(`knocktool serve: ${e.message}\n`);
    failed = true;
  } finally {
    await cluster?.close();
    await control?.close();
    await metrics?.close();
    daemon.close();
    grants.close();
    if (runner instanceof SpawnRunner) runner.close();
    await lookup?.close(); // bounded: NssLookup waits at most CLOSE_WAIT_MS for a slow resolver
    if (wrotePid) removePidFile(s.pidFile);
    logging.close();
    // Last, so that a second SIGTERM during shutdown never meets the default action (exit 143).
    signals.remove();
  }
  return signals.status !== 0 ? signals.status : failed ? 1 : 0;
}

/** A `serve` option that cannot be honoured once the daemon is set up (exit status 1). */
class ServeSetupError extends Error {}

/** Under -d, once the parent is told we serve, stdout and stderr are gone (knockd: /dev/null). */
class DetachableIo {
  #detached = false;
  readonly io: Io;

  constructor(processIo: Io) {
    this.io = {
      stdout: (text) => {
        if (!this.#detached) processIo.stdout(text);
      },
      stderr: (text) => {
        if (!this.#detached) processIo.stderr(text);
      },
    };
  }

  /** Drops everything written from now on. */
  detach(): void {
    this.#detached = true;
  }
}

/** What {@link createDaemon} wires into the daemon besides the settings. */
interface DaemonParts {
  readonly logging: ServeLogging;
  readonly actions: DoorActions;
  readonly lookup: NssLookup | undefined;
  readonly announce: () => void;
  readonly grants: ServeGrants;
}

/** The daemon, or the message of why it cannot start (a one-time sequences file, as documented). */
function createDaemon(opts: ServeOptions, s: ServeSettings, parts: DaemonParts): Daemon | string {
  const { logging, actions, lookup, announce, grants } = parts;
  // What a reload could not apply (Cluster*): logged once the reload is in place.
  let notApplied: readonly string[] = [];
  const reloadConfig = () => {
    const r = clusterReload(
      s.config.options.cluster,
      grantsSetup.checkReload(grants, loadConfig(s.configPath)),
    );
    notApplied = r.notes;
    return r.result;
  };
  try {
    return new Daemon({
      config: s.config,
      configPath: s.configPath,
      reloadConfig,
      actions,
      ...(grants.keeper !== undefined ? { grants: grants.keeper } : {}),
      log: logging.log,
      localAddresses: s.pcapFile !== undefined ? s.addresses : { v4: [], v6: [] },
      ipv4Only: opts.ipv4Only,
      debug: opts.debug,
      strict: opts.knockdStrict ?? false,
      ...(lookup !== undefined ? { lookup } : {}),
      onOpen: announce,
      onReload: (c) => {
        logging.reloaded(c, s.abs(c.options.logFile));
        for (const n of notApplied) logging.log.emit("reload", n, "LE", { warning: true });
      },
      reopenLog: () => logging.reopenLog(),
    });
  } catch (e) {
    // The expected failure; anything else is a bug and surfaces.
    if (e instanceof DaemonSetupError) return e.message;
    throw e;
  }
}

/** Runs the daemon until the source ends or `stop` aborts; false (reported) when it failed. */
async function runDaemon(
  daemon: Daemon,
  source: FrameSource,
  stop: AbortSignal,
  io: Io,
): Promise<boolean> {
  try {
    await daemon.run(source, stop);
    return true;
  } catch (e) {
    io.stderr(`knocktool serve: ${e instanceof Error ? e.message : String(e)}\n`);
    return false;
  }
}

/**
 * Door commands: run through /bin/sh (`posix_spawn` through libc where it can be used, else
 * `Deno.Command`: src/server/spawn_runner.ts), or printed under `--dry-run`.
 */
function commandRunner(opts: ServeOptions, io: Io): CommandRunner {
  if (!opts.dryRun) {
    const shell = opts.daemon ? { cwd: "/", stdio: "null" } as const : {};
    try {
      return SpawnRunner.open(shell);
    } catch {
      // Not Linux, or no FFI permission: Deno.Command keeps the same guarantees, only slower.
      return new ShellRunner(shell);
    }
  }
  return new RecordingRunner((cmd) =>
    io.stdout(
      opts.logFormat === "json"
        ? formatJsonLine(new Date(), "info", {
          text: `would run: ${cmd}`,
          event: "would-run",
          channels: "",
        })
        : `would run: ${cmd}\n`,
    )
  );
}
