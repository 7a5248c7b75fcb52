/**
 * Warnings about configs that knockd accepts but that probably do not do what their author
 * meant (docs/COMPATIBILITY.md §2, §4.3, B13, B23, B24).
 *
 * @module
 */
import type { Config, Door, Knock } from "./model.ts";
import { canonicalAddress } from "../wire/address.ts";
import { formatKnock, formatSequence } from "./sequence.ts";
import { TCP_FLAG_NAMES } from "../wire/tcp_flags.ts";

/** One warning about a config. */
export interface Warning {
  /** The door it is about, when it is about one. */
  readonly door?: string;
  /** The 1-based line it is about, when known. */
  readonly line?: number;
  /** What is wrong and what follows from it, in std's voice. */
  readonly message: string;
}

const knockText = (k: Knock) => formatKnock(k);

/**
 * Lists the warnings for a parsed config, door by door in config order.
 *
 * @param config A config from `parseConfig` or `loadConfig`.
 * @returns The warnings; empty when nothing looks wrong.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "./parse.ts";
 * import { lintConfig } from "./lint.ts";
 * const r = parseConfig("[a]\nsequence = 7000,8000,9000\n");
 * assert(r.ok);
 * const w = lintConfig(r.config);
 * assert.equal(w.length, 1);
 * assert(w[0]?.message.includes("ascending"));
 * ```
 */
export function lintConfig(config: Config): Warning[] {
  const out: Warning[] = [];
  if (config.doors.length === 0) {
    out.push({ message: "Config defines no doors: no knock can open anything" });
  }
  lintInterface(config, out);
  const overlaps = startOverlaps(config.doors);
  const twins = identicalSequences(config.doors);
  config.doors.forEach((door, i) => {
    lintDoor(door, overlaps[i], out);
    const twin = twins[i];
    if (twin !== undefined) {
      out.push({
        door: door.name,
        line: door.sequenceLine ?? door.line,
        message: `Door ${JSON.stringify(door.name)}: its sequence ${
          formatSequence(door.sequence)
        } is the sequence of door ${JSON.stringify(twin.name)} (line ${
          twin.sequenceLine ?? twin.line
        }), so one knock opens both and their commands race`,
      });
    }
  });
  return out;
}

/** `Interface` values knockd cannot open, or that do not do what they seem to. */
function lintInterface(config: Config, out: Warning[]): void {
  const iface = config.options.interface;
  if (iface === undefined) return;
  const line = config.options.interfaceLine;
  const at = line !== undefined ? { line } : {};
  if (iface === "") {
    out.push({
      ...at,
      message:
        `"Interface" is empty, so knockd (and knocktool) listen on the default "eth0": name the interface or remove the line`,
    });
  } else if (/^(["']).*\1$/.test(iface)) {
    out.push({
      ...at,
      message: `"Interface" is ${
        JSON.stringify(iface)
      }, quotes included: knockd keeps them and cannot open an interface of that name (write the name without quotes, or remove the line for "eth0")`,
    });
  }
}

/** For each door, the earlier door with the same sequence and target, if any. */
function identicalSequences(doors: readonly Door[]): (Door | undefined)[] {
  const seen = new Map<string, Door>();
  return doors.map((door) => {
    if (door.sequence.length === 0 || door.oneTimeSequencesFile !== undefined) return undefined;
    const key = `${door.target ?? ""} ${formatSequence(door.sequence)}`;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, door);
    return first;
  });
}

/** Whether a bare SYN (what `connect()` sends) passes a door's `TCPFlags`. */
function synPasses(door: Door): boolean {
  for (const name of TCP_FLAG_NAMES) {
    const want = door.tcpFlags[name];
    if (want === undefined) continue;
    if ((want === "set") !== (name === "syn")) return false;
  }
  return true;
}

/** A door's first knock found later in another door's sequence; see {@link startOverlaps}. */
export interface StartOverlap {
  /** The first door, in config order, whose sequence holds the knock after its own first knock. */
  readonly other: Door;
  /** 0-based position of the knock in `other.sequence`: its first occurrence past position 0. */
  readonly at: number;
}

/**
 * For every door, the first other door (config order) whose sequence holds the door's first
 * knock (same port and protocol) at some position past the first, with the earliest such
 * position. Computed from an index of the knocks at positions past the first, keyed by port and
 * protocol, which keeps the two earliest distinct doors per knock: each sequence is read once,
 * so the work is linear in the total number of knocks (a pairwise scan is quadratic in the
 * number of doors, minutes for 100,000 doors).
 *
 * @param doors The doors, in config order.
 * @returns One entry per door, `undefined` where there is no such other door.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startOverlaps } from "./lint.ts";
 * const door = (name: string, ports: number[]) => ({ name, line: 1, seqTimeout: 25,
 *   cmdTimeout: 10, tcpFlags: {}, sequence: ports.map((port) => ({ port, protocol: "tcp" as const })) });
 * const [a, b] = startOverlaps([door("a", [9000, 8000, 7000]), door("b", [8000, 1])]);
 * assert.equal(a, undefined);
 * assert.equal(b?.other.name, "a");
 * assert.equal(b.at, 1);
 * ```
 */
export function startOverlaps(doors: readonly Door[]): (StartOverlap | undefined)[] {
  // port * 2 + (udp ? 1 : 0) -> up to two overlaps with distinct doors, earliest door first.
  const index = new Map<number, StartOverlap[]>();
  const key = (k: Knock) => k.port * 2 + (k.protocol === "udp" ? 1 : 0);
  for (const other of doors) {
    const seq = other.sequence;
    for (let i = 1; i < seq.length; i++) {
      const k = key(seq[i]!);
      const hits = index.get(k);
      if (hits === undefined) index.set(k, [{ other, at: i }]);
      else if (hits.length < 2 && !hits.some((h) => h.other === other)) hits.push({ other, at: i });
    }
  }
  return doors.map((door) => {
    const first = door.sequence[0];
    if (first === undefined) return undefined;
    return index.get(key(first))?.find((h) => h.other !== door);
  });
}

function lintDoor(door: Door, overlap: StartOverlap | undefined, out: Warning[]): void {
  const warn = (message: string, line = door.line) =>
    out.push({ door: door.name, line, message: `Door ${JSON.stringify(door.name)}: ${message}` });
  const seq = door.sequence;
  const seqLine = door.sequenceLine ?? door.line;

  for (const note of door.portNotes ?? []) {
    const what = note.kind === "empty"
      ? `knock ${note.index + 1} has no port, so knockd reads port ${note.port}`
      : note.kind === "junk"
      ? `knock ${note.index + 1} port ${
        JSON.stringify(note.text)
      } is not a number, so knockd reads port ${note.port}`
      : `knock ${note.index + 1} port ${
        JSON.stringify(note.text)
      } is out of range, so knockd wraps it to port ${note.port}`;
    warn(what, seqLine);
  }

  for (const note of door.suffixNotes ?? []) {
    const k = seq[note.index];
    const what = k?.protocol === "udp"
      ? "a UDP step has no TCP flags"
      : `it is not TCP flags (write them like "syn", "fin+psh+urg", "none" or "any")`;
    warn(
      `knock ${note.index + 1} ${k === undefined ? "" : `${knockText(k)} `}has ${
        JSON.stringify(note.text)
      } after its protocol, which is ignored as knockd ignores it: ${what}`,
      seqLine,
    );
  }

  if (
    seq.length >= 2 && seq.every((k) => k.protocol === seq[0]?.protocol) &&
    seq.every((k, i) => i === 0 || k.port > (seq[i - 1]?.port ?? 0))
  ) {
    warn(
      `sequence ${
        seq.map(knockText).join(",")
      } is in ascending order, so a sequential port scan completes it`,
      seqLine,
    );
  }

  if (door.seqTimeout <= 0) {
    warn(
      `"Seq_Timeout" is ${door.seqTimeout}, so every attempt expires at the next packet and no sequence of more than one knock can complete`,
      door.seqTimeoutLine ?? door.line,
    );
  }
  if (door.cmdTimeout < 0) {
    warn(
      `"Cmd_Timeout" is ${door.cmdTimeout}: knockd sleeps practically forever, so the stop command never runs`,
      door.cmdTimeoutLine ?? door.line,
    );
  }

  if (seq.some((k) => k.protocol === "tcp" && k.flags === undefined) && !synPasses(door)) {
    const flags = TCP_FLAG_NAMES.flatMap((f) => {
      const want = door.tcpFlags[f];
      return want === undefined ? [] : [want === "set" ? f : `!${f}`];
    }).join(",");
    warn(
      `"TCPFlags = ${flags}" rejects a bare SYN, so knock, nc, curl, nmap -sT and every other connect()-based client can never complete its TCP knocks (only raw packets with those flags can)`,
      door.tcpFlagsLine ?? door.line,
    );
  }

  const first = seq[0];
  if (first !== undefined && overlap !== undefined) {
    const other = JSON.stringify(overlap.other.name);
    warn(
      `its first knock ${knockText(first)} is knock ${
        overlap.at + 1
      } of door ${other}: this bites only after an unfinished attempt on ${other} (a lost or wrong knock), when for up to ${overlap.other.seqTimeout} s (its "Seq_Timeout") that knock breaks the attempt instead of starting this door; a completed or expired attempt leaves nothing in the way`,
    );
  }

  if (door.stopCommand !== undefined && door.stopCommand !== "" && !door.startCommand) {
    warn(`has a stop command but no start command, so the stop command never runs`);
  } else if (
    door.stopCommand6 !== undefined && door.stopCommand6 !== "" &&
    !(door.startCommand6 ?? door.startCommand)
  ) {
    warn(`has an IPv6 stop command but no IPv6 start command, so it never runs`);
  }

  if (door.target !== undefined) {
    // One rule for Target (knockd's docs/COMPATIBILITY.md B24, fixed): an inet_pton literal is
    // compared in canonical form; anything else (a host name, an IPv4 part with a leading zero)
    // matches no packet.
    const ip = canonicalAddress(door.target);
    const unpadded = /^\d{1,3}(\.\d{1,3}){3}$/.test(door.target)
      ? canonicalAddress(door.target.split(".").map((p) => String(Number(p))).join("."))
      : null;
    if (ip === null && unpadded !== null) {
      warn(
        `"Target" ${
          JSON.stringify(door.target)
        } has a leading zero in an IPv4 part, so it is not an address and no knock can match (write ${
          JSON.stringify(unpadded.text)
        })`,
      );
    } else if (ip === null) {
      warn(
        `"Target" ${
          JSON.stringify(door.target)
        } is not an IP address: knockd fails to compile its filter and no knock can match`,
      );
    } else if (ip.text !== door.target) {
      warn(
        `"Target" ${JSON.stringify(door.target)} is not in canonical form ${
          JSON.stringify(ip.text)
        }: knockd compares it as text and never matches (knocktool matches it)`,
      );
    }
  }
}
