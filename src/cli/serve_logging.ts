/**
 * Logging of `knocktool serve`: knockd's channels (stdout, `LogFile`, syslog) behind LogTape.
 * Only the program side configures sinks; the server logs through its category.
 *
 * @module
 */
import { configureSync, resetSync } from "@logtape/logtape";
import type { Io } from "../util/io.ts";
import type { Config } from "../config/model.ts";
import { Syslog } from "../../ffi/syslog.ts";
import { KnockdSink, SERVER_CATEGORY, ServerLog } from "../server/log.ts";
import type { DaemonCounters } from "../server/daemon.ts";
import { writePidFile } from "../server/detach.ts";
import type { LocalAddresses } from "../server/addresses.ts";

/** Options of {@link ServeLogging.open}. */
export interface ServeLoggingOptions {
  /** Where stdout/stderr lines go. */
  readonly io: Io;
  /** `-v`. */
  readonly verbose: boolean;
  /** `-D`: debug records are built at all only then. */
  readonly debug: boolean;
  /** Standard output format. */
  readonly format: "text" | "json";
  /** The log file, if any. */
  readonly logFile: string | undefined;
  /** Syslog facility for `UseSyslog`. */
  readonly facility: number;
  /** The config (`UseSyslog`). */
  readonly config: Config;
}

/**
 * The configured logging of one `serve` run; {@link ServeLogging.close} undoes it.
 *
 * @example
 * ```ts
 * import { ServeLogging } from "./serve_logging.ts";
 * import { parseConfig } from "../config/parse.ts";
 * const parsed = parseConfig("[d]\nsequence = 7000\ncommand = true\n");
 * if (!parsed.ok) throw new Error(parsed.error.message);
 * const out: string[] = [];
 * const logging = ServeLogging.open({
 *   io: { stdout: (t) => out.push(t), stderr: (t) => out.push(t) },
 *   verbose: true,
 *   debug: false,
 *   format: "text",
 *   logFile: undefined,
 *   facility: 3 << 3,
 *   config: parsed.config,
 * });
 * try {
 *   const announce = logging.announcer("lo");
 *   announce();
 *   announce();
 * } finally {
 *   logging.close();
 * }
 * const lines = out.join("").split("\n").filter((l) => l.endsWith("listening on lo..."));
 * if (lines.length !== 1) throw new Error(`announced once: ${out.join("")}`);
 * ```
 */
export class ServeLogging {
  /** knockd's channels. */
  readonly sink: KnockdSink;
  /** The server's logger. */
  readonly log: ServerLog;
  readonly #io: Io;
  readonly #facility: number;
  #syslog: Syslog | undefined;
  #logFile: string | undefined;

  private constructor(opts: ServeLoggingOptions) {
    this.#io = opts.io;
    this.#facility = opts.facility;
    this.#logFile = opts.logFile;
    this.#openSyslog(opts.config);
    this.sink = new KnockdSink({
      io: opts.io,
      verbose: opts.verbose,
      debug: opts.debug,
      format: opts.format,
      ...(opts.logFile !== undefined ? { logFile: opts.logFile } : {}),
      ...(this.#syslog !== undefined ? { syslog: this.#syslog } : {}),
    });
    this.log = new ServerLog();
  }

  /**
   * Opens the channels (the log file's warning goes to stderr) and configures LogTape.
   *
   * @param opts What to log and where.
   * @returns The logging.
   */
  static open(opts: ServeLoggingOptions): ServeLogging {
    const logging = new ServeLogging(opts);
    const warn = logging.sink.open();
    if (warn !== undefined) opts.io.stderr(warn + "\n");
    configureSync({
      sinks: { knockd: logging.sink.sink },
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
    return logging;
  }

  #openSyslog(c: Config): void {
    if (c.options.useSyslog && this.#syslog === undefined) {
      try {
        this.#syslog = Syslog.open("knockd", this.#facility);
      } catch (e) {
        this.#io.stderr(`warning: ${e instanceof Error ? e.message : String(e)}\n`);
      }
    }
  }

  /**
   * After a reload: opens syslog when the new config asks for it, and takes its log file
   * (knockd keeps the old one when the new config has none).
   *
   * @param c The new config.
   * @param logFile The new config's log file, as a path the daemon can use.
   */
  reloaded(c: Config, logFile: string | undefined): void {
    this.#openSyslog(c);
    this.sink.syslog = this.#syslog;
    this.#logFile = logFile ?? this.#logFile;
  }

  /** Closes and re-opens the log file (SIGHUP), with knockd's verbose lines. */
  reopenLog(): void {
    const logFile = this.#logFile;
    if (logFile === undefined) return; // docs/COMPATIBILITY.md B8: no warning without a log file
    this.log.emit("reload", `closing log file: ${logFile}\n`, "V");
    this.sink.close();
    this.log.emit("reload", `re-opening log file: ${logFile}\n`, "SV");
    const w = this.sink.open(logFile);
    if (w !== undefined) this.log.emit("reload", w, "E", { warning: true });
  }

  /**
   * knockd logs its start once the interface is open and filtered; a live capture that waits for
   * its interface (docs/COMPATIBILITY.md B6, B7) announces itself when it has it, so "starting
   * up" means knocks count.
   *
   * @param where The interface or capture file.
   * @returns A function that logs the start once, however often it is called.
   */
  announcer(where: string): () => void {
    let announced = false;
    return () => {
      if (announced) return;
      announced = true;
      this.log.emit("start", `listening on ${where}...`, "V");
      this.log.emit("start", `starting up, listening on ${where}`, "L");
    };
  }

  /**
   * The `-D` counters line at exit.
   *
   * @param c The daemon's counters.
   * @param repeatsIgnored Repeated knocks the matcher ignored.
   */
  counters(c: DaemonCounters, repeatsIgnored = 0): void {
    this.log.emit(
      "stats",
      `frames: ${c.frames}, decode errors: ${c.decodeErrors}, internal errors: ${c.internalErrors}`,
      "D",
    );
    this.log.emit("stats", `repeated knocks ignored: ${repeatsIgnored}`, "D");
  }

  /**
   * Writes the pidfile under `-d`; a failure is logged as knockd logs it.
   *
   * @param pidFile The path.
   * @returns True when it was written (and is to be removed at exit).
   */
  writePidFile(pidFile: string): boolean {
    const error = writePidFile(pidFile);
    if (error === undefined) return true;
    this.log.emit("pidfile", `could not create pid file ${pidFile}: ${error}`, "LD");
    return false;
  }

  /**
   * A replay's local addresses, as knockd prints its own (`-D`), or a warning that there are
   * none.
   *
   * @param pcapFile The capture file.
   * @param addresses The `--address` values.
   */
  replayAddresses(pcapFile: string, addresses: LocalAddresses): void {
    // knockd prints its local addresses in reverse order of discovery.
    for (const ip of [...addresses.v4, ...addresses.v6].reverse()) {
      this.log.emit("debug", `local IP: ${ip}`, "D");
    }
    if (addresses.v4.length + addresses.v6.length === 0) {
      this.log.emit(
        "warning",
        `Replay ${
          JSON.stringify(pcapFile)
        } without local addresses: doors without a Target cannot match; give --address`,
        "E",
        { warning: true },
      );
    }
  }

  /** Resets LogTape and closes the channels. */
  close(): void {
    resetSync();
    this.sink.close();
    this.#syslog?.close();
  }
}
