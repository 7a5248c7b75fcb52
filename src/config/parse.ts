/**
 * The knockd.conf parser, faithful to knockd 0.8's `parseconfig` (docs/COMPATIBILITY.md §2): it
 * accepts and rejects the same files, with knockd's own error line alongside a readable message.
 *
 * Over 400 lines because it follows knockd's single `parseconfig` function: the order of its
 * checks decides which error a broken file gets, and one file keeps that order visible.
 *
 * @module
 */
import {
  applyClusterDirective,
  type ClusterDraft,
  clusterOptions,
  isClusterKey,
} from "./cluster_directives.ts";

import type {
  Cidr,
  Config,
  Door,
  ExtensionUse,
  FlagRequirement,
  Knock,
  NftSetRef,
  PortNote,
  TcpFlagName,
} from "./model.ts";
import { readAtoi } from "./atoi.ts";
import { cTrim, cUpper, iterPieces, truncateBytes } from "./_cstr.ts";
import { encodeRawText } from "../util/bytes.ts";
import { parsePortSequence, type SequenceProblem } from "./sequence.ts";
import { noMoreSequencesText, readFirstOneTimeSequence } from "./onetime_file.ts";
import {
  applySecretDirective,
  finishSecret,
  isSecretKey,
  type SecretDraft,
} from "./secret_parse.ts";
import { extensionName } from "./extensions.ts";
import { parseCidr } from "./cidr.ts";
import type { SuffixNote } from "./model.ts";

/** Why a config was rejected. */
export interface ConfigError {
  /** What went wrong, in std's voice, naming the line (or the section). */
  readonly message: string;
  /** The exact line knockd 0.8 prints on stderr for the same file, e.g. `config: line 3: syntax error`. */
  readonly knockdText: string;
  /** 1-based line the error is about, when there is one. */
  readonly line?: number;
  /** Section (door) name the error is about, when there is one. */
  readonly section?: string;
}

/** The outcome of {@link parseConfig}. */
export type ParseResult = { ok: true; config: Config } | { ok: false; error: ConfigError };

/** Options of {@link parseConfig}. */
export interface ParseOptions {
  /**
   * Loads the first unused sequence of a door's one-time sequences file. The default opens the
   * file as knockd does (it must exist and be writable, relative paths resolve against the cwd).
   */
  readonly oneTimeSequences?: (
    path: string,
    doorName: string,
  ) => { sequence: Knock[] } | ConfigError;
}

const FLAG_TOKENS: Readonly<Record<string, TcpFlagName>> = {
  FIN: "fin",
  SYN: "syn",
  RST: "rst",
  PSH: "psh",
  ACK: "ack",
  URG: "urg",
};

/** knockd keeps 255 bytes of a section name for the `[options]` test and 127 for the door name. */
const SECTION_BYTES = 254;
const DOOR_NAME_BYTES = 127;

interface DoorDraft {
  name: string;
  line: number;
  sequence: Knock[];
  sequenceLine?: number;
  portNotes: PortNote[];
  suffixNotes: SuffixNote[];
  oneTimeSequencesFile?: string;
  seqTimeout: number;
  seqTimeoutLine?: number;
  tcpFlags: Partial<Record<TcpFlagName, FlagRequirement>>;
  tcpFlagsLine?: number;
  target?: string;
  startCommand?: string;
  startCommand6?: string;
  cmdTimeout: number;
  stopCommand?: string;
  stopCommand6?: string;
  secret?: SecretDraft;
  nftSet?: NftSetRef;
  nftSet6?: NftSetRef;
  from?: Cidr[];
  cooldown?: number;
  cmdTimeoutLine?: number;
}

class Reject {
  constructor(readonly error: ConfigError) {}
}

/**
 * Parses knockd.conf text. See {@link parseConfigBytes}; the text is read as its UTF-8 bytes, so
 * knockd's 4095-byte line limit applies to bytes.
 *
 * @param text The file's content.
 * @param opts How to load one-time sequences files.
 * @returns The config, or the first error knockd would report.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "./parse.ts";
 * const r = parseConfig("[options]\n UseSyslog\n[ssh]\n sequence = 7000,8000:udp\n");
 * assert(r.ok);
 * assert.equal(r.config.doors[0]?.sequence[1]?.protocol, "udp");
 * const bad = parseConfig("[ssh]\nsequence = 70000\n");
 * assert(!bad.ok);
 * assert.equal(bad.error.knockdText, "config: section ssh: port 70000 is invalid");
 * ```
 */
export function parseConfig(text: string, opts: ParseOptions = {}): ParseResult {
  return parseConfigBytes(encodeRawText(text), opts);
}

/**
 * Parses knockd.conf bytes exactly as knockd 0.8 does (docs/COMPATIBILITY.md §2.1–§2.5).
 *
 * @param bytes The file's content.
 * @param opts How to load one-time sequences files.
 * @returns The config, or the first error knockd would report.
 */
export function parseConfigBytes(bytes: Uint8Array, opts: ParseOptions = {}): ParseResult {
  try {
    return { ok: true, config: parseOrReject(bytes, opts) };
  } catch (e) {
    if (e instanceof Reject) return { ok: false, error: e.error };
    throw e;
  }
}

function parseOrReject(bytes: Uint8Array, opts: ParseOptions): Config {
  let useSyslog = false;
  let logFile: string | undefined;
  let pidFile: string | undefined;
  let iface: string | undefined;
  let ifaceLine: number | undefined;
  let knockdStrict: boolean | undefined;
  let stateDir: string | undefined;
  let maxStartsPerMinute: number | undefined;
  const cluster: ClusterDraft = {};
  const extensions: ExtensionUse[] = [];
  const doors: DoorDraft[] = [];
  let section: string | undefined;
  let door: DoorDraft | undefined;

  for (const piece of iterPieces(bytes)) {
    const n = piece.line;
    const line = cTrim(piece.text);
    if (line === "" || line.startsWith("#")) continue;

    if (line.length >= 2 && line.startsWith("[") && line.endsWith("]")) {
      const name = line.slice(1, -1);
      if (name === "") {
        reject(
          `Cannot parse line ${n}: section name is empty`,
          `config: line ${n}: bad section name`,
          n,
        );
      }
      section = truncateBytes(name, SECTION_BYTES);
      if (section === "options") {
        door = undefined;
      } else {
        door = {
          name: truncateBytes(name, DOOR_NAME_BYTES),
          line: n,
          sequence: [],
          portNotes: [],
          suffixNotes: [],
          seqTimeout: 25,
          tcpFlags: {},
          cmdTimeout: 10,
        };
        doors.push(door);
      }
      continue;
    }

    if (section === undefined) {
      const what = line.includes("=") ? cTrim(line.slice(0, line.indexOf("="))) : line;
      reject(
        `Cannot parse line ${n}: directive ${
          quote(what)
        } is outside any section (add a "[section]" header above it)`,
        `config: line ${n}: all directives must belong to a section`,
        n,
      );
    }
    const syntax = (detail: string): never =>
      reject(`Cannot parse line ${n}: ${detail}`, `config: line ${n}: syntax error`, n, door?.name);

    const eq = line.indexOf("=");
    if (eq < 0) {
      // knockd accepts the bare word UseSyslog in any section, doors included
      // (docs/COMPATIBILITY.md B13).
      if (cUpper(line) === "USESYSLOG") useSyslog = true;
      else if (door === undefined && cUpper(line) === "KNOCKDSTRICT") {
        knockdStrict = true;
        extensions.push({ directive: "KnockdStrict", line: n });
      } else syntax(`expected "key = value" but found ${quote(line)}`);
      continue;
    }
    const written = cTrim(line.slice(0, eq));
    const key = cUpper(written);
    const value = cTrim(line.slice(eq + 1));
    if (key === "") syntax(`directive name before "=" is empty`);
    if (key === "USESYSLOG") syntax(`${quote(written)} takes no value: write it alone on its line`);
    const ext = extensionName(key);
    if (ext !== undefined) extensions.push({ directive: ext, line: n });

    if (door === undefined) {
      if (key === "LOGFILE") logFile = value;
      else if (key === "PIDFILE") pidFile = value;
      else if (key === "INTERFACE") {
        iface = value;
        ifaceLine = n;
      } else if (key === "KNOCKDSTRICT") knockdStrict = parseSwitch(value, written, n);
      else if (key === "STATE_DIR") {
        if (value === "") syntax(`"State_Dir" needs a directory`);
        stateDir = value;
      } else if (key === "MAX_STARTS_PER_MINUTE") {
        maxStartsPerMinute = wholeNumber(value, "Max_Starts_Per_Minute", n, undefined);
      } else if (isClusterKey(key)) {
        const problem = applyClusterDirective(cluster, key, value, n);
        if (problem !== undefined) {
          reject(
            `Cannot parse ${quote(written)} at line ${n}: ${problem}`,
            `config: line ${n}: syntax error`,
            n,
          );
        }
      } else syntax(`unknown directive ${quote(written)} in section "[options]"`);
      continue;
    }

    if (isSecretKey(key)) {
      const problem = applySecretDirective(door.secret ??= { lines: {} }, key, value, n);
      if (problem !== undefined) {
        reject(
          `Cannot parse ${quote(written)} at line ${n}: ${problem}`,
          `config: line ${n}: syntax error`,
          n,
          door.name,
        );
      }
      continue;
    }
    switch (key) {
      case "SEQUENCE": {
        const r = parsePortSequence(value);
        if (!r.ok) sequenceReject(r.problem, written, n, door.name);
        else {
          door.sequence = r.knocks;
          door.portNotes = r.notes;
          door.suffixNotes = r.suffixes;
          door.sequenceLine = n;
        }
        break;
      }
      case "ONE_TIME_SEQUENCES": {
        door.oneTimeSequencesFile = value;
        door.sequence = loadOneTime(value, door.name, n, opts);
        door.portNotes = [];
        door.suffixNotes = [];
        door.sequenceLine = n;
        break;
      }
      case "SEQ_TIMEOUT":
      case "TIMEOUT":
        door.seqTimeout = readAtoi(value).value;
        door.seqTimeoutLine = n;
        break;
      case "CMD_TIMEOUT":
        door.cmdTimeout = readAtoi(value).value;
        door.cmdTimeoutLine = n;
        break;
      case "NFT_SET":
        door.nftSet = nftSetRef(value, "Nft_Set", n, door.name);
        break;
      case "NFT_SET_6":
        door.nftSet6 = nftSetRef(value, "Nft_Set_6", n, door.name);
        break;
      case "FROM":
        door.from = cidrList(value, n, door.name);
        break;
      case "COOLDOWN":
        door.cooldown = wholeNumber(value, "Cooldown", n, door.name);
        break;
      case "TCPFLAGS":
        parseFlags(value, door, written, n);
        door.tcpFlagsLine = n;
        break;
      case "TARGET":
        door.target = value;
        break;
      case "START_COMMAND":
      case "COMMAND":
        door.startCommand = value;
        break;
      case "START_COMMAND_6":
      case "COMMAND_6":
        door.startCommand6 = value;
        break;
      case "STOP_COMMAND":
        door.stopCommand = value;
        break;
      case "STOP_COMMAND_6":
        door.stopCommand6 = value;
        break;
      default: {
        const hint = cUpper(door.name) === "OPTIONS" && door.name !== "options"
          ? ` (only "[options]" in lower case starts the options section)`
          : "";
        syntax(`unknown directive ${quote(written)} in door ${quote(door.name)}${hint}`);
      }
    }
  }

  for (const d of doors) {
    if (d.secret !== undefined) {
      const problem = finishSecret(d.secret, d.sequenceLine);
      if (problem !== undefined) {
        reject(
          `Cannot load door ${quote(d.name)} at line ${d.line}: ${problem}`,
          // knockd stops at the first Secret_* line: an unknown directive.
          `config: line ${Math.min(...Object.values(d.secret.lines))}: syntax error`,
          d.line,
          d.name,
        );
      }
      continue;
    }
    if (d.sequence.length === 0) {
      reject(
        `Cannot load door ${
          quote(d.name)
        } at line ${d.line}: knock sequence is empty (set "Sequence" or "One_Time_Sequences")`,
        `error: section '${d.name}' has an empty knock sequence`,
        d.line,
        d.name,
      );
    }
    const set = d.nftSet ?? d.nftSet6;
    if (set !== undefined && d.cmdTimeout <= 0) {
      const at = d.cmdTimeoutLine ?? d.line;
      reject(
        `Cannot load door ${quote(d.name)} at line ${at}: "Nft_Set" needs a positive ` +
          `"Cmd_Timeout" (the element's timeout), got "${d.cmdTimeout}"`,
        `config: line ${d.cmdTimeoutLine ?? set.line}: syntax error`,
        d.cmdTimeoutLine ?? set.line,
        d.name,
      );
    }
  }

  const options: Config["options"] = {
    useSyslog,
    ...(logFile !== undefined ? { logFile } : {}),
    ...(pidFile !== undefined ? { pidFile } : {}),
    ...(iface !== undefined ? { interface: iface } : {}),
    ...(ifaceLine !== undefined ? { interfaceLine: ifaceLine } : {}),
    ...(knockdStrict !== undefined ? { knockdStrict } : {}),
    ...(stateDir !== undefined ? { stateDir } : {}),
    ...(maxStartsPerMinute !== undefined ? { maxStartsPerMinute } : {}),
    ...clusterOptions(cluster),
  };
  return {
    options,
    doors: doors.map(freezeDoor),
    ...(extensions.length > 0 ? { extensions } : {}),
  };
}

/** A yes/no value of a knocktool switch (`KnockdStrict = yes`). */
function parseSwitch(value: string, written: string, n: number): boolean {
  const v = value.toLowerCase();
  if (["yes", "true", "on", "1"].includes(v)) return true;
  if (["no", "false", "off", "0"].includes(v)) return false;
  return reject(
    `Cannot parse ${quote(written)} at line ${n}: value ${
      quote(value)
    } must be "yes" or "no" (or write ${quote(written)} alone on its line for "yes")`,
    `config: line ${n}: syntax error`,
    n,
  );
}

function parseFlags(value: string, door: DoorDraft, written: string, n: number): void {
  // knockd upper-cases the whole value and splits on "," without trimming the tokens
  // (docs/COMPATIBILITY.md B13).
  for (const token of cUpper(value).split(",")) {
    const not = token.startsWith("!");
    const name = not ? token.slice(1) : token;
    const flag = Object.hasOwn(FLAG_TOKENS, name) ? FLAG_TOKENS[name] : undefined;
    if (flag === undefined) {
      reject(
        `Cannot parse ${quote(written)} at line ${n}: unknown flag ${
          quote(token)
        } (expected FIN, SYN, RST, PSH, ACK or URG, each optionally preceded by "!", separated by "," without spaces)`,
        `config: line ${n}: unrecognized flag "${token}"`,
        n,
        door.name,
      );
    }
    door.tcpFlags[flag] = not ? "clear" : "set";
  }
}

function sequenceReject(problem: SequenceProblem, written: string, n: number, name: string): never {
  const where = `Cannot parse ${quote(written)} at line ${n}`;
  switch (problem.kind) {
    case "too-many":
      return reject(
        `${where}: door ${quote(name)} has more than 32 knocks`,
        `config: section ${name}: too many ports in knock sequence`,
        n,
        name,
      );
    case "invalid-port":
      return reject(
        `${where}: port ${quote(cTrim(problem.portText))} must be at most 65535${
          cTrim(problem.portText) === String(problem.value) ? "" : ` (read as ${problem.value})`
        }`,
        `config: section ${name}: port ${problem.portText} is invalid`,
        n,
        name,
      );
    case "unknown-protocol":
      return reject(
        `${where}: protocol ${quote(problem.protocolText)} in ${
          quote(problem.element)
        } must be "tcp" or "udp"`,
        `config: section ${name}: unknown protocol in knock sequence`,
        n,
        name,
      );
  }
}

function loadOneTime(path: string, doorName: string, n: number, opts: ParseOptions): Knock[] {
  if (opts.oneTimeSequences !== undefined) {
    const r = opts.oneTimeSequences(path, doorName);
    if ("sequence" in r) return r.sequence;
    throw new Reject({ ...r, line: r.line ?? n, section: r.section ?? doorName });
  }
  const r = readFirstOneTimeSequence(path);
  if (r.ok) return r.knocks;
  if (r.reason === "open") {
    return reject(
      `Cannot open one-time sequences file ${quote(path, false)} at line ${n}: ${r.errno}`,
      path === "" ? r.errno : `${path}: ${r.errno}`,
      n,
      doorName,
    );
  }
  return reject(
    `Cannot load one-time sequences file ${
      quote(path, false)
    } at line ${n}: no unused sequence left for door ${quote(doorName)}`,
    noMoreSequencesText(doorName),
    n,
    doorName,
  );
}

function freezeDoor(d: DoorDraft): Door {
  return {
    name: d.name,
    line: d.line,
    sequence: d.sequence,
    ...(d.sequenceLine !== undefined ? { sequenceLine: d.sequenceLine } : {}),
    ...(d.portNotes.length > 0 ? { portNotes: d.portNotes } : {}),
    ...(d.suffixNotes.length > 0 ? { suffixNotes: d.suffixNotes } : {}),
    ...(d.oneTimeSequencesFile !== undefined
      ? { oneTimeSequencesFile: d.oneTimeSequencesFile }
      : {}),
    ...(d.secret?.done !== undefined ? { secret: d.secret.done } : {}),
    seqTimeout: d.seqTimeout,
    ...(d.seqTimeoutLine !== undefined ? { seqTimeoutLine: d.seqTimeoutLine } : {}),
    tcpFlags: d.tcpFlags,
    ...(d.tcpFlagsLine !== undefined ? { tcpFlagsLine: d.tcpFlagsLine } : {}),
    ...(d.target !== undefined ? { target: d.target } : {}),
    ...(d.startCommand !== undefined ? { startCommand: d.startCommand } : {}),
    ...(d.startCommand6 !== undefined ? { startCommand6: d.startCommand6 } : {}),
    cmdTimeout: d.cmdTimeout,
    ...(d.cmdTimeoutLine !== undefined ? { cmdTimeoutLine: d.cmdTimeoutLine } : {}),
    ...(d.stopCommand !== undefined ? { stopCommand: d.stopCommand } : {}),
    ...(d.stopCommand6 !== undefined ? { stopCommand6: d.stopCommand6 } : {}),
    ...(d.nftSet !== undefined ? { nftSet: d.nftSet } : {}),
    ...(d.nftSet6 !== undefined ? { nftSet6: d.nftSet6 } : {}),
    ...(d.from !== undefined ? { from: d.from } : {}),
    ...(d.cooldown !== undefined ? { cooldown: d.cooldown } : {}),
  };
}

const NFT_FAMILIES = ["ip", "ip6", "inet", "arp", "bridge", "netdev"];
const NFT_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,255}$/;

/** `Nft_Set = FAMILY TABLE SET` (docs/GRANTS.md). */
function nftSetRef(value: string, directive: string, n: number, door: string): NftSetRef {
  const words = value.split(/[ \t]+/).filter((w) => w !== "");
  const [family, table, set] = words;
  if (
    words.length !== 3 || family === undefined || table === undefined || set === undefined ||
    !NFT_FAMILIES.includes(family) || !NFT_NAME.test(table) || !NFT_NAME.test(set)
  ) {
    reject(
      `Cannot parse "${directive}" at line ${n}: expected "FAMILY TABLE SET" (FAMILY one of ${
        NFT_FAMILIES.join(", ")
      }; e.g. "inet knock allow4") but found ${quote(value)}`,
      `config: line ${n}: syntax error`,
      n,
      door,
    );
  }
  return { family: family!, table: table!, set: set!, line: n };
}

/** `From = CIDR[, CIDR…]` (docs/GRANTS.md). */
function cidrList(value: string, n: number, door: string): Cidr[] {
  const out: Cidr[] = [];
  for (const piece of value.split(",")) {
    const text = piece.trim();
    const c = parseCidr(text);
    if (c === null) {
      reject(
        `Cannot parse "From" at line ${n}: ${
          quote(text)
        } is not an IPv4 or IPv6 address or CIDR block (e.g. "198.51.100.0/24")`,
        `config: line ${n}: syntax error`,
        n,
        door,
      );
    }
    out.push(c!);
  }
  return out;
}

/** A whole number of seconds (or of starts) for an extension directive. */
function wholeNumber(value: string, directive: string, n: number, door: string | undefined) {
  if (!/^\d{1,9}$/.test(value)) {
    reject(
      `Cannot parse "${directive}" at line ${n}: ${quote(value)} must be a whole number`,
      `config: line ${n}: syntax error`,
      n,
      door,
    );
  }
  return Number(value);
}

function reject(message: string, knockdText: string, line?: number, section?: string): never {
  throw new Reject({
    message,
    knockdText,
    ...(line !== undefined ? { line } : {}),
    ...(section !== undefined ? { section } : {}),
  });
}

/**
 * Quotes a value for a message, shortening very long ones unless `shorten` is false: a file path is
 * always shown whole (a cut path cannot be found, and how long it is depends on where the config
 * lives).
 */
function quote(s: string, shorten = true): string {
  const short = shorten && s.length > 60 ? s.slice(0, 57) + "..." : s;
  // JSON escapes C0 controls; also show invisible characters (BOM, C1, zero-width) as escapes.
  return JSON.stringify(short).replace(
    /[\u007f-\u009f\u200b-\u200f\u2028\u2029\ufeff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    // Bytes that are not UTF-8 (kept as lone surrogates, see bytes.ts) show as \xNN.
  ).replace(/\\udc([89a-f][0-9a-f])/g, "\\x$1");
}
