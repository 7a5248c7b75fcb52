/**
 * tportknockd's configuration files, read as they are (docs/FLAG-KNOCKING.md, "tportknockd
 * files") into the same {@link Config} model as knockd.conf, so `serve -c` and `check -c` take
 * them. `loadConfig` tells the formats apart by content ({@link looksLikeTportknockd}).
 *
 * ```
 * <SSH>                                    # an event: a door
 *  sequence      = udp:1234 tcp:543:i tcp:123:frap
 *  timeout       = 10                      # Seq_Timeout
 *  start_command = /usr/sbin/iptables -A INPUT -s %IP% -p tcp --dport 22 -j ACCEPT
 *  stop_command  = /usr/sbin/iptables -D INPUT -s %IP% -p tcp --dport 22 -j ACCEPT
 *  command_delay = 30                      # Cmd_Timeout
 * </SSH>
 * ```
 *
 * Choices where tportknockd's page is silent (each documented in docs/FLAG-KNOCKING.md): `#`
 * starts a comment at the start of a line or after white space (so `#` inside a command word is
 * kept); frames are separated by white space or commas; keys are case-insensitive; a key given
 * twice in one event is an error; `timeout` defaults to 25 s and `command_delay` to 10 s, as
 * knockd's; at most 32 frames per event, as knockd.
 *
 * @module
 */
import type { Config, Door, Knock } from "./model.ts";
import type { ConfigError, ParseResult } from "./parse.ts";
import { parseTportknockdFlags } from "../wire/tcp_flags.ts";
import { MAX_KNOCKS } from "./sequence.ts";

const KEYS = ["sequence", "timeout", "start_command", "stop_command", "command_delay"] as const;
type Key = typeof KEYS[number];

/** Drops a comment: `#` at the start of the line or after white space. */
function uncomment(line: string): string {
  const m = /(^|\s)#/.exec(line);
  return (m === null ? line : line.slice(0, m.index)).trim();
}

const OPEN = /^<([^\s<>/]+)>$/;
const CLOSE = /^<\/([^\s<>/]*)>$/;

/**
 * Whether a file's text is a tportknockd file: its first line that is not blank or a comment is an
 * event tag `<NAME>`. A knockd.conf never starts so (knockd rejects such a line).
 *
 * @param text The file's text.
 * @returns True for a tportknockd file.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { looksLikeTportknockd } from "./tportknockd.ts";
 *
 * assert.equal(looksLikeTportknockd("# mine\n<SSH>\n sequence = tcp:1:s\n</SSH>\n"), true);
 * assert.equal(looksLikeTportknockd("[options]\n UseSyslog\n"), false);
 * ```
 */
export function looksLikeTportknockd(text: string): boolean {
  for (const raw of text.split(/\r?\n/)) {
    const line = uncomment(raw);
    if (line === "") continue;
    return OPEN.test(line);
  }
  return false;
}

class Reject {
  constructor(readonly error: ConfigError) {}
}

function fail(message: string, line: number, section?: string): never {
  throw new Reject({
    message,
    knockdText: message,
    line,
    ...(section !== undefined ? { section } : {}),
  });
}

interface EventDraft {
  readonly name: string;
  readonly line: number;
  readonly values: Map<Key, { value: string; line: number }>;
}

/**
 * Parses a tportknockd file (see the module documentation).
 *
 * @param text The file's text.
 * @returns The config (`format: "tportknockd"`), or the first error, naming its line.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTportknockd } from "./tportknockd.ts";
 *
 * const r = parseTportknockd("<SSH2>\n sequence = tcp:110:x tcp:110:up tcp:110:n\n</SSH2>\n");
 * assert(r.ok);
 * assert.deepEqual(r.config.doors[0]?.sequence, [
 *   { port: 110, protocol: "tcp", flags: 0x3f },
 *   { port: 110, protocol: "tcp", flags: 0x28 },
 *   { port: 110, protocol: "tcp", flags: 0 },
 * ]);
 * const bad = parseTportknockd("<A>\n sequence = tcp:70000\n</A>\n");
 * assert(!bad.ok);
 * assert.equal(
 *   bad.error.message,
 *   `Cannot parse "sequence" at line 2: frame "tcp:70000" has port "70000", expected 1 to 65535`,
 * );
 * ```
 */
export function parseTportknockd(text: string): ParseResult {
  try {
    return { ok: true, config: parseOrReject(text) };
  } catch (e) {
    if (e instanceof Reject) return { ok: false, error: e.error };
    throw e;
  }
}

function parseOrReject(text: string): Config {
  const events: EventDraft[] = [];
  const names = new Map<string, number>();
  let open: EventDraft | undefined;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const n = i + 1;
    const line = uncomment(raw);
    if (line === "") return;
    const opening = OPEN.exec(line);
    if (opening !== null) {
      const name = opening[1]!;
      if (open !== undefined) {
        fail(
          `Cannot parse line ${n}: "<${name}>" opens an event inside event ${
            JSON.stringify(open.name)
          } (close it with "</${open.name}>" first)`,
          n,
          open.name,
        );
      }
      const first = names.get(name);
      if (first !== undefined) {
        fail(
          `Cannot parse line ${n}: event name ${
            JSON.stringify(name)
          } is used twice (first at line ${first})`,
          n,
          name,
        );
      }
      names.set(name, n);
      open = { name, line: n, values: new Map() };
      events.push(open);
      return;
    }
    const closing = CLOSE.exec(line);
    if (closing !== null) {
      const name = closing[1]!;
      if (open === undefined) {
        fail(`Cannot parse line ${n}: "</${name}>" closes no open event`, n);
      }
      if (name !== open.name) {
        fail(
          `Cannot parse line ${n}: "</${name}>" closes event ${
            JSON.stringify(open.name)
          }, which was opened at line ${open.line} (write "</${open.name}>")`,
          n,
          open.name,
        );
      }
      open = undefined;
      return;
    }
    const eq = line.indexOf("=");
    if (eq < 0) {
      fail(
        `Cannot parse line ${n}: expected "key = value", "<NAME>" or "</NAME>" but found ${
          JSON.stringify(line)
        }`,
        n,
        open?.name,
      );
    }
    const written = line.slice(0, eq).trim();
    const key = written.toLowerCase();
    const value = line.slice(eq + 1).trim();
    if (open === undefined) {
      fail(
        `Cannot parse line ${n}: directive ${
          JSON.stringify(written)
        } is outside any event (open one with "<NAME>")`,
        n,
      );
    }
    if (!(KEYS as readonly string[]).includes(key)) {
      fail(
        `Cannot parse line ${n}: unknown directive ${JSON.stringify(written)} in event ${
          JSON.stringify(open.name)
        } (expected sequence, timeout, start_command, stop_command or command_delay)`,
        n,
        open.name,
      );
    }
    const before = open.values.get(key as Key);
    if (before !== undefined) {
      fail(
        `Cannot parse line ${n}: directive ${JSON.stringify(written)} is set twice in event ${
          JSON.stringify(open.name)
        } (first at line ${before.line})`,
        n,
        open.name,
      );
    }
    if (value === "") {
      fail(
        `Cannot parse ${JSON.stringify(written)} at line ${n}: value is empty`,
        n,
        open.name,
      );
    }
    open.values.set(key as Key, { value, line: n });
  });
  if (open !== undefined) {
    fail(
      `Cannot load event ${
        JSON.stringify(open.name)
      } at line ${open.line}: it is never closed (add "</${open.name}>")`,
      open.line,
      open.name,
    );
  }
  return { options: { useSyslog: false }, doors: events.map(toDoor), format: "tportknockd" };
}

function seconds(
  ev: EventDraft,
  key: "timeout" | "command_delay",
  min: number,
  fallback: number,
): number {
  const v = ev.values.get(key);
  if (v === undefined) return fallback;
  if (!/^\d{1,9}$/.test(v.value) || Number(v.value) < min) {
    fail(
      `Cannot parse "${key}" at line ${v.line}: value ${
        JSON.stringify(v.value)
      } must be a whole number of seconds${min > 0 ? ` from ${min}` : ""}`,
      v.line,
      ev.name,
    );
  }
  return Number(v.value);
}

function toDoor(ev: EventDraft): Door {
  const seq = ev.values.get("sequence");
  if (seq === undefined) {
    fail(
      `Cannot load event ${JSON.stringify(ev.name)} at line ${ev.line}: it has no "sequence"`,
      ev.line,
      ev.name,
    );
  }
  const start = ev.values.get("start_command")?.value;
  const stop = ev.values.get("stop_command")?.value;
  return {
    name: ev.name,
    line: ev.line,
    sequence: parseFrames(seq.value, seq.line, ev.name),
    sequenceLine: seq.line,
    seqTimeout: seconds(ev, "timeout", 1, 25),
    tcpFlags: {},
    ...(start !== undefined ? { startCommand: start } : {}),
    cmdTimeout: seconds(ev, "command_delay", 0, 10),
    ...(stop !== undefined ? { stopCommand: stop } : {}),
  };
}

/**
 * Parses a `sequence` value: frames `tcp|udp:PORT[:FLAGS]` separated by white space or commas.
 *
 * @param value The value.
 * @param n Its line.
 * @param event The event's name.
 * @returns The steps (a TCP frame without flags demands no flag set).
 */
function parseFrames(value: string, n: number, event: string): Knock[] {
  const where = `Cannot parse "sequence" at line ${n}`;
  const frames = value.split(/[\s,]+/).filter((f) => f !== "");
  if (frames.length > MAX_KNOCKS) {
    fail(`${where}: event ${JSON.stringify(event)} has more than ${MAX_KNOCKS} frames`, n, event);
  }
  return frames.map((frame) => {
    const parts = frame.split(":");
    const q = JSON.stringify(frame);
    if (parts.length < 2 || parts.length > 3) {
      fail(`${where}: frame ${q} must be "tcp|udp:PORT[:FLAGS]"`, n, event);
    }
    const proto = parts[0]!.toLowerCase();
    if (proto !== "tcp" && proto !== "udp") {
      fail(
        `${where}: frame ${q} has protocol ${JSON.stringify(parts[0])}, expected "tcp" or "udp"`,
        n,
        event,
      );
    }
    const portText = parts[1]!;
    const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!(port >= 1 && port <= 65535)) {
      fail(
        `${where}: frame ${q} has port ${JSON.stringify(portText)}, expected 1 to 65535`,
        n,
        event,
      );
    }
    const letters = parts[2];
    if (proto === "udp") {
      if (letters !== undefined) {
        fail(`${where}: frame ${q} has flags, but a UDP frame cannot`, n, event);
      }
      return { port, protocol: "udp" };
    }
    const flags = parseTportknockdFlags(letters ?? "n");
    if (!flags.ok) fail(`${where}: frame ${q}: ${flags.error}`, n, event);
    return { port, protocol: "tcp", flags: flags.flags };
  });
}
