/**
 * The server's log channels (docs/COMPATIBILITY.md §7).
 *
 * Library side: {@link ServerLog} sends every knockd message through the LogTape category
 * `["knocktool", "server"]`, tagged with the knockd channels it belongs to (L = log file and
 * syslog, V = `-v` stdout, E = stderr, D = `-D` stdout). It never configures logging.
 *
 * Program side: {@link KnockdSink} is the LogTape sink that `knocktool serve` installs. It writes
 * the log file byte-compatible with knockd (`[YYYY-MM-DD HH:MM] msg\n`, local time, minute
 * resolution, the trailing-newline quirk docs/COMPATIBILITY.md B11 mirrored), sends syslog through
 * libc, prints the verbose/debug lines on stdout and errors on stderr, or, with `--log-format
 * json`, one JSON object per line on stdout instead of the text lines.
 *
 * Over 400 lines because the log file, syslog, the verbose/debug/error streams and the JSON lines
 * are one sink, and the order of lines must hold across all of them.
 *
 * @module
 */
import { getLogger, type Logger, type LogRecord } from "@logtape/logtape";
import type { Io } from "../util/io.ts";
import { encodeRawText } from "../util/bytes.ts";
import { errnoText } from "../util/errno.ts";

/** The LogTape category of the server. */
export const SERVER_CATEGORY: readonly string[] = ["knocktool", "server"];

/**
 * knockd channels of one message: `L` log file + syslog, `S` syslog only (knockd's
 * `re-opening log file`, written while the file is closed), `V` verbose stdout, `E` stderr,
 * `D` debug stdout. Written as a string of those letters, e.g. `"LV"`.
 */
export type Channels = string;

/** Optional structured fields of a server message. */
export interface EventFields {
  /** Door name. */
  readonly door?: string;
  /** Source address (never the host name). */
  readonly src?: string;
  /** Stage number. */
  readonly stage?: number;
  /** `warning` for messages that are warnings rather than errors (stderr only). */
  readonly warning?: boolean;
}

/** The properties a {@link ServerLog} record carries (what {@link KnockdSink} reads). */
export interface ServerRecordProperties extends EventFields {
  /** The message as knockd formats it (it may end in the newline of docs/COMPATIBILITY.md B11). */
  readonly text: string;
  /** Short event name for structured logs: `stage`, `open`, `timeout`, `command`, … */
  readonly event: string;
  /** knockd channels, see {@link Channels}. */
  readonly channels: Channels;
}

/**
 * The server's logger: knockd messages tagged with their channels, sent through LogTape.
 *
 * @example
 * ```ts
 * import { ServerLog } from "./log.ts";
 * const log = new ServerLog();
 * log.emit("start", "starting up, listening on lo", "L"); // a no-op until a sink is configured
 * ```
 */
export class ServerLog {
  readonly #logger: Logger;

  /**
   * Makes a server logger.
   *
   * @param logger The LogTape logger (default: category {@link SERVER_CATEGORY}).
   */
  constructor(logger: Logger = getLogger([...SERVER_CATEGORY])) {
    this.#logger = logger;
  }

  /**
   * Whether debug (`-D`) messages reach any sink. Callers on the per-packet path check this
   * before formatting a debug line.
   *
   * @returns True when debug records are recorded.
   */
  get debugEnabled(): boolean {
    return this.#logger.isEnabledFor("debug");
  }

  /**
   * Sends one knockd message.
   *
   * @param event Short event name (for `--log-format json`).
   * @param text The message as knockd formats it.
   * @param channels knockd channels, e.g. `"LV"`.
   * @param fields Structured fields.
   */
  emit(event: string, text: string, channels: Channels, fields: EventFields = {}): void {
    const properties: ServerRecordProperties = { ...fields, text, event, channels };
    const level = channels.includes("E")
      ? (fields.warning ? "warning" : "error")
      : channels === "D"
      ? "debug"
      : "info";
    // A finished record with its category: LogTape dispatches it as is, with no message template
    // to parse or properties to snapshot (a third of the CPU of a knock flood went there).
    const record: LogRecord = {
      category: this.#logger.category,
      level,
      timestamp: Date.now(),
      message: [text],
      rawMessage: text,
      properties: properties as unknown as Record<string, unknown>,
    };
    this.#logger.emit(record);
  }
}

/** Formats knockd's log file timestamp prefix: `[YYYY-MM-DD HH:MM] `, local time. */
function stamp(date: Date): string {
  return `[${date.getFullYear().toString().padStart(4, "0")}-${pad2(date.getMonth() + 1)}-${
    pad2(date.getDate())
  } ${pad2(date.getHours())}:${pad2(date.getMinutes())}] `;
}

function pad2(n: number): string {
  return n.toString().padStart(2, "0");
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** knockd formats messages into a 1024-byte buffer: at most 1023 bytes survive. */
function truncate1023(text: string): string {
  // A UTF-16 code unit is at most 3 UTF-8 bytes: short texts need no encoding to be measured.
  if (text.length <= 341) return text;
  const bytes = encoder.encode(text);
  if (bytes.length <= 1023) return text;
  return decoder.decode(bytes.subarray(0, 1023)).replace(/\uFFFD$/, "");
}

/**
 * Formats one knockd log file line: `[YYYY-MM-DD HH:MM] msg\n` in local time. A message that
 * already ends in `\n` yields the blank line knockd writes (docs/COMPATIBILITY.md B11) unless
 * `quirk` is false.
 *
 * @param date When the line is written.
 * @param text The message.
 * @param quirk Mirror knockd's extra newline (default true).
 * @returns The bytes to append, as text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatLogFileLine } from "./log.ts";
 * const line = formatLogFileLine(new Date(2026, 10, 21, 10, 25, 59), "shutting down");
 * assert.equal(line, "[2026-11-21 10:25] shutting down\n");
 * ```
 */
export function formatLogFileLine(date: Date, text: string, quirk = true): string {
  return logFileLineAt(date.getTime(), text, quirk);
}

/** {@link formatLogFileLine} for a time in epoch milliseconds (no Date per line). */
function logFileLineAt(ms: number, text: string, quirk: boolean): string {
  const msg = truncate1023(quirk ? text : text.replace(/\n+$/, ""));
  return `${cachedStamp(ms)}${msg}\n`;
}

/** The last stamp made and the epoch minute it is for: a log line needs a new one once a minute. */
let stampMinute = NaN;
let stampText = "";

function cachedStamp(ms: number): string {
  const minute = Math.floor(ms / 60_000);
  if (minute !== stampMinute) {
    stampMinute = minute;
    stampText = stamp(new Date(ms));
  }
  return stampText;
}

/**
 * Formats knockd's `-D` packet line, `YYYY-MM-DD HH:MM:SS: proto: src:sport -> dst:dport N bytes`,
 * in local time of the capture timestamp, with the real month (knockd prints month − 1:
 * docs/COMPATIBILITY.md B10, fixed).
 *
 * @param tsSec Capture time, seconds since the epoch.
 * @param p The packet fields.
 * @returns The line without a newline.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatPacketDebugLine } from "./log.ts";
 * const ts = new Date(2026, 10, 21, 10, 25, 7).getTime() / 1000;
 * const line = formatPacketDebugLine(ts, {
 *   protocol: "tcp", src: "127.0.0.1", srcPort: 40000, dst: "127.0.0.1", dstPort: 7000, wireLen: 74,
 * });
 * assert.equal(line, "2026-11-21 10:25:07: tcp: 127.0.0.1:40000 -> 127.0.0.1:7000 74 bytes");
 * ```
 */
export function formatPacketDebugLine(
  tsSec: number,
  p: {
    readonly protocol: string;
    readonly src: string;
    readonly srcPort: number;
    readonly dst: string;
    readonly dstPort: number;
    readonly wireLen: number;
  },
): string {
  const d = new Date(tsSec * 1000);
  const date = `${d.getFullYear().toString().padStart(4, "0")}-${pad2(d.getMonth() + 1)}-${
    pad2(d.getDate())
  }`;
  const time = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  return `${date} ${time}: ${p.protocol}: ${p.src}:${p.srcPort} -> ${p.dst}:${p.dstPort} ${p.wireLen} bytes`;
}

/**
 * Formats one `--log-format json` line:
 * `{"time","level","event","door","src","stage","message"}` (absent fields are null; the
 * message loses knockd's trailing newline).
 *
 * @param date When the event happened.
 * @param level LogTape level name.
 * @param p The record's properties.
 * @returns One line of JSON with its newline.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatJsonLine } from "./log.ts";
 * const line = formatJsonLine(new Date(0), "info", {
 *   text: "1.2.3.4: A: Stage 1", event: "stage", channels: "LV", door: "A", src: "1.2.3.4", stage: 1,
 * });
 * assert(line.startsWith('{"time":"1970-01-01T00:00:00.000Z","level":"info","event":"stage"'), line);
 * ```
 */
export function formatJsonLine(date: Date, level: string, p: ServerRecordProperties): string {
  return JSON.stringify({
    time: date.toISOString(),
    level,
    event: p.event,
    door: p.door ?? null,
    src: p.src ?? null,
    stage: p.stage ?? null,
    message: p.text.replace(/\n+$/, ""),
  }) + "\n";
}

/** Where {@link KnockdSink} sends syslog lines (the libc binding, or a fake in tests). */
export interface SyslogTarget {
  /** Sends one message at LOG_NOTICE. */
  notice(message: string): void;
}

/** Options of {@link KnockdSink}. */
export interface KnockdSinkOptions {
  /** Standard streams. */
  readonly io: Io;
  /** `-v`: print verbose lines on stdout. */
  readonly verbose: boolean;
  /** `-D`: print debug lines on stdout. */
  readonly debug: boolean;
  /** `text` (knockd's stdout lines) or `json` (JSON lines on stdout). */
  readonly format: "text" | "json";
  /** Log file path (`LogFile` / `-g`), opened in append mode. */
  readonly logFile?: string;
  /** Syslog connection when `UseSyslog` is set. */
  readonly syslog?: SyslogTarget;
  /** Mirror knockd's extra newline (docs/COMPATIBILITY.md B11) in the log file (default true). */
  readonly newlineQuirk?: boolean;
  /** Clock (default: the wall clock). */
  readonly now?: () => Date;
}

/**
 * The LogTape sink that writes knockd's channels.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { captureIo } from "../util/io.ts";
 * import { KnockdSink } from "./log.ts";
 * const io = captureIo();
 * const sink = new KnockdSink({ io, verbose: true, debug: false, format: "text" });
 * sink.write("info", { text: "1.2.3.4: A: Stage 1", event: "stage", channels: "LV" });
 * assert.equal(io.out, "1.2.3.4: A: Stage 1\n");
 * sink.close();
 * ```
 */
export class KnockdSink {
  readonly #opts: KnockdSinkOptions;
  #logPath: string | undefined;
  #file: Deno.FsFile | undefined;
  /** Log file lines of the current turn, written by {@link KnockdSink.flush}. */
  readonly #pending: string[] = [];
  #syslog: SyslogTarget | undefined;

  /**
   * Makes the sink. The log file is opened by {@link KnockdSink.open}.
   *
   * @param opts Options.
   */
  constructor(opts: KnockdSinkOptions) {
    this.#opts = opts;
    this.#logPath = opts.logFile;
    this.#syslog = opts.syslog;
    // This sink formats each record synchronously and keeps nothing of it, so LogTape need not
    // copy the record first (that copy was ~60 % of the cost of a log line). LogTape 2.4 marks
    // such sinks with this registered symbol (its markSinkAsImmediate is not exported); were the
    // protocol to change, records would merely be copied again.
    Object.defineProperty(this.sink, Symbol.for("LogTape.sinkSnapshotPolicy.immediate"), {
      value: true,
    });
  }

  /** The LogTape sink function (bound). */
  readonly sink = (record: LogRecord): void => {
    const p = record.properties as unknown as ServerRecordProperties;
    if (typeof p.text !== "string" || typeof p.channels !== "string") {
      // Some other library-side message in our category: show it as a debug or error line.
      const text = record.message.map((m) => typeof m === "string" ? m : String(m)).join("");
      const channels = record.level === "error" || record.level === "fatal" ||
          record.level === "warning"
        ? "E"
        : "D";
      this.write(record.level, { text, event: "internal", channels }, record.timestamp);
      return;
    }
    this.write(record.level, p, record.timestamp);
  };

  /**
   * Opens (or re-opens) the log file in append mode.
   *
   * @param path A new path (after a reload), or keep the current one.
   * @returns knockd's warning text when the file cannot be opened, else undefined.
   */
  open(path?: string): string | undefined {
    if (path !== undefined) this.#logPath = path;
    this.flush();
    this.#file?.close();
    this.#file = undefined;
    if (this.#logPath === undefined || this.#logPath === "") return undefined;
    try {
      this.#file = Deno.openSync(this.#logPath, { append: true, create: true, write: true });
    } catch (e) {
      return `warning: cannot open logfile: ${errnoText(e)}`;
    }
    return undefined;
  }

  /** The current log file path, if any. */
  get logFile(): string | undefined {
    return this.#logPath;
  }

  /** Replaces the syslog target (UseSyslog turned on by a reload). */
  set syslog(target: SyslogTarget | undefined) {
    this.#syslog = target;
  }

  /** The syslog target, if any. */
  get syslog(): SyslogTarget | undefined {
    return this.#syslog;
  }

  /**
   * Writes one message to its channels.
   *
   * @param level LogTape level name.
   * @param p The message and its channels.
   * @param at When it happened, epoch milliseconds (default: now; used by the JSON format).
   */
  write(level: string, p: ServerRecordProperties, at?: number): void {
    // Per knock this runs once or twice under a flood: no Date, closure or regex unless a
    // channel needs one (the file stamp is cached per minute).
    const ch = p.channels;
    if (ch.includes("L")) {
      if (this.#file !== undefined) {
        const now = this.#opts.now !== undefined ? this.#opts.now().getTime() : Date.now();
        // Lines of one event-loop turn (a drained batch of packets) go out in one write: under
        // a flood of knocks a write per line was a fifth of the daemon's CPU. knockd fflushes
        // per line; here a line reaches the file before the loop next waits, in order.
        this.#pending.push(logFileLineAt(now, p.text, this.#opts.newlineQuirk ?? true));
        if (this.#pending.length === 1) queueMicrotask(this.#flushSoon);
      }
      this.#syslog?.notice(truncate1023(p.text));
    } else if (ch.includes("S")) {
      this.#syslog?.notice(truncate1023(p.text));
    }
    const toStderr = ch.includes("E");
    const wantStdout = (ch.includes("V") && this.#opts.verbose) ||
      (ch.includes("D") && this.#opts.debug);
    const json = this.#opts.format === "json";
    if (!toStderr && !wantStdout && !(json && ch.includes("L"))) return;
    const bare = p.text.replace(/\n+$/, "");
    if (toStderr) this.#opts.io.stderr(bare + "\n");
    if (json) {
      if (wantStdout || ch.includes("L") || ch.includes("S") || toStderr) {
        const when = at !== undefined
          ? new Date(at)
          : (this.#opts.now !== undefined ? this.#opts.now() : new Date());
        this.#opts.io.stdout(formatJsonLine(when, level, p));
      }
    } else if (wantStdout) {
      this.#opts.io.stdout(bare + "\n");
    }
  }

  /** Writes the log file lines not yet written. */
  flush(): void {
    if (this.#pending.length === 0) return;
    const text = this.#pending.join("");
    this.#pending.length = 0;
    if (this.#file === undefined) return;
    try {
      // Raw config bytes (kept as lone surrogates) go back out as the bytes knockd writes.
      writeAllSync(this.#file, encodeRawText(text));
    } catch (e) {
      this.#opts.io.stderr(`warning: cannot write logfile: ${errnoText(e)}\n`);
    }
  }

  readonly #flushSoon = (): void => this.flush();

  /** Closes the log file. */
  close(): void {
    this.flush();
    this.#file?.close();
    this.#file = undefined;
  }
}

function writeAllSync(file: Deno.FsFile, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += file.writeSync(bytes.subarray(off));
}
