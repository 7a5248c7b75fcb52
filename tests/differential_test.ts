/**
 * Differential suite: Debian's knockd 0.8 and `knocktool serve` run side by side
 * on `lo` of one private namespace per scenario, with identical configs (each in its own working
 * directory, so relative paths — the `marks` file the door commands append to, one-time sequence
 * files — are per daemon), the same crafted frames injected once (both capture them), then:
 * the log lines without timestamps, stderr, the commands run (marker lines, in order), the files
 * left behind and the exit status are compared.
 *
 * Each scenario carries knockd's observed behaviour (recorded on this machine and checked against
 * docs/COMPATIBILITY.md §4.3, §5 and §6) as the expectation; knocktool must match it, except where
 * the scenario says `differs` and why (a knockd defect knocktool fixes), in which case knocktool's
 * own expected behaviour is given.
 *
 * knocktool runs twice beside knockd: with `--knockd-strict` (`knocktool-strict`), which must show
 * exactly that expectation, and in its default mode (`knocktool`), which must show it too unless the
 * scenario has a `defaultMode` entry naming why it differs (a repeated knock that the default mode
 * ignores: docs/COMPATIBILITY.md "Repeats and retransmissions") and what it shows instead.
 *
 * The lines the command child logs (`running command`, `command timeout`, non-zero status) are
 * compared in order among themselves, not interleaved with the matcher's lines: when a command runs
 * relative to the next packet is up to the scheduler. Blank log lines are ignored: knockd writes
 * them after messages that end in `\n` (docs/COMPATIBILITY.md B11); knocktool mirrors them, and
 * `src/server/log_test.ts` checks those bytes.
 *
 * Nothing here waits a fixed time for a daemon to be ready: traffic that depends on a rotated or
 * reloaded sequence comes after a {@link Barrier} (the new capture filter is installed, a log line
 * is there), so the suite gives the same verdicts on a loaded machine.
 *
 * Environment: `KT_DIFF_ONLY=knockd` (or `knocktool`, `knocktool-strict`) runs one daemon only, to
 * record or debug; `KT_DIFF_FILTER=<substring>` runs the matching scenarios only. Needs root, `ip`,
 * `/usr/sbin/knockd`.
 *
 * @module
 */

import { ok } from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import {
  bpfTestsValue,
  canUseNetns,
  ignoreUnlessCi,
  Netns,
  readText,
  sleep,
  waitUntil,
} from "../testing/netns.ts";
import type { BgProcess } from "../testing/netns.ts";
import { injectInNetns } from "../testing/inject.ts";
import type { FrameSpec } from "../testing/inject.ts";
import { mulberry32 as prng } from "../testing/prng.ts";

const KNOCKD = "/usr/sbin/knockd";
const MAIN = new URL("../main.ts", import.meta.url).pathname;
const DENO_CONFIG = new URL("../deno.json", import.meta.url).pathname;

/** One knock: src/dst addresses (dst defaults to 127.0.0.1 or ::1), protocol, port, flags, delay before it. */
interface Knock {
  readonly src: string;
  readonly dst?: string;
  readonly proto?: "tcp" | "udp";
  readonly port: number;
  readonly flags?: string;
  readonly delayMs?: number;
  /** 802.1Q tags (outermost first). */
  readonly vlan?: readonly number[];
}

/** A signal to both daemons at this point of the traffic, then a pause before what follows. */
interface Signal {
  readonly signal: Deno.Signal;
  readonly pauseMs?: number;
}

/**
 * A wait between knocks, bounded (the scenario fails if it does not hold): until each daemon still
 * running has logged `log` and installed a capture filter that tests for `filterPort` (the new
 * sequence after a one-time rotation), per daemon when a knockd defect makes them differ (the
 * `knocktool` port applies to both of knocktool's modes).
 */
interface Barrier {
  /** Each daemon has a capture filter installed (any). */
  readonly filtered?: true;
  readonly log?: string;
  readonly filterPort?: number | Readonly<Record<"knockd" | "knocktool", number>>;
}

/** What one daemon is expected to show. */
interface Expected {
  /** Log lines (timestamps and blank lines removed), without the start and shutdown lines. */
  readonly log: readonly string[];
  /** Lines appended to `marks` by door commands, in order. */
  readonly marks: readonly string[];
  /** Lines on stderr (default none), or "unchecked" when they hold garbage (uninitialised memory). */
  readonly stderr?: readonly string[] | "unchecked";
  /** Exit status (default 15: it is stopped with SIGTERM). Other values: it died by itself. */
  readonly exit?: number;
  /** Files (in the daemon's directory) and their expected contents at the end. */
  readonly files?: Readonly<Record<string, string>>;
}

interface Scenario {
  readonly name: string;
  readonly config: string;
  /** Files created in each daemon's directory before start (e.g. one-time sequence files). */
  readonly files?: Readonly<Record<string, string>>;
  /** Knocks, and signals to both daemons (sent between injections, after the knocks before them). */
  readonly traffic: readonly (Knock | Signal | Barrier)[];
  /** Extra daemon options (given to both), e.g. `-4`. */
  readonly args?: readonly string[];
  /** knockd 0.8's recorded behaviour. */
  readonly knockd: Expected;
  /** "same": knocktool must show exactly `knockd`; else why it differs and what it shows. */
  readonly expect: "same" | { readonly differs: string; readonly knocktool: Expected };
  /**
   * knocktool's default mode, when it differs from `expect` (strict mode): why, and what it shows.
   */
  readonly defaultMode?: { readonly differs: string; readonly knocktool: Expected };
  /** Compare log lines and marks as multisets (events from one packet race in forked children). */
  readonly unordered?: boolean;
  /** No recorded expectation: knocktool must show exactly what knockd shows in the same run. */
  readonly oracle?: boolean;
}

/**
 * The probe of docs/COMPATIBILITY.md B17: every descriptor of the command's shell except 0, 1 and 2
 * (excluded by number, not by target, so a leaked pipe or /dev file shows), one line each, reduced
 * to its kind.
 */
const B17_CMD = "set -- /proc/$$/fd/*; for f; do case ${f##*/} in 0|1|2) ;; *) readlink $f ;; " +
  "esac; done >> marks 2>/dev/null; sed -i -e 's#.*/##' -e 's/:.*//' marks";

const S = "127.0.0.71";
const T = "127.0.0.72";
const OPTS = "[options]\n";

/** A door section; `lines` are `key = value` strings. */
function door(name: string, ...lines: string[]): string {
  return `[${name}]\n${lines.map((l) => `    ${l}\n`).join("")}`;
}

/** Knocks from `src` on `ports` (TCP SYN, 150 ms apart). */
function seq(src: string, ...ports: number[]): Knock[] {
  return ports.map((port) => ({ src, port }));
}

/** The log lines of one knock sequence that completes: Stage 1..n and OPEN SESAME. */
function opens(src: string, d: string, n: number): string[] {
  return [...stages(src, d, n), `${src}: ${d}: OPEN SESAME`];
}

/** Stage 1..n lines. */
function stages(src: string, d: string, n: number, from = 1): string[] {
  const out: string[] = [];
  for (let i = from; i <= n; i++) out.push(`${src}: ${d}: Stage ${i}`);
  return out;
}

const MARK_A = "start_command = echo A %IP% >> marks";
const RUN_A = (ip: string) => `A: running command: echo A ${ip} >> marks`;
const A = door("A", "sequence = 7000,8000,9000", "seq_timeout = 5", MARK_A);

const scenarios: Scenario[] = [
  {
    name: "a complete sequence opens and runs the command once",
    config: OPTS + A,
    traffic: seq(S, 7000, 8000, 9000),
    knockd: { log: [...opens(S, "A", 3), RUN_A(S)], marks: [`A ${S}`] },
    expect: "same",
  },
  {
    name: "a wrong port invalidates and does not restart (7000,8000,7000,8000,9000)",
    config: OPTS + A,
    traffic: seq(S, 7000, 8000, 7000, 8000, 9000),
    knockd: { log: stages(S, "A", 2), marks: [] },
    expect: "same",
  },
  {
    name: "a duplicate first knock breaks the sequence (7000,7000,8000,9000)",
    config: OPTS + A,
    traffic: seq(S, 7000, 7000, 8000, 9000),
    knockd: { log: stages(S, "A", 1), marks: [] },
    expect: "same",
    defaultMode: {
      differs: "the second 7000 repeats the step just made and is ignored",
      knocktool: { log: [...opens(S, "A", 3), RUN_A(S)], marks: [`A ${S}`] },
    },
  },
  {
    name: "a third first knock starts afresh (7000,7000,7000,8000,9000)",
    config: OPTS + A,
    traffic: seq(S, 7000, 7000, 7000, 8000, 9000),
    knockd: {
      log: [`${S}: A: Stage 1`, ...opens(S, "A", 3), RUN_A(S)],
      marks: [`A ${S}`],
    },
    expect: "same",
    defaultMode: {
      differs: "the second and third 7000 repeat the step just made and are ignored: one " +
        "attempt, no restart",
      knocktool: { log: [...opens(S, "A", 3), RUN_A(S)], marks: [`A ${S}`] },
    },
  },
  {
    name: "repeats: a retransmission at every stage (7000,7000,8000,8000,9000)",
    config: OPTS + A,
    traffic: seq(S, 7000, 7000, 8000, 8000, 9000),
    knockd: { log: stages(S, "A", 1), marks: [] },
    expect: "same",
    defaultMode: {
      differs: "each repeat is of the step just made and is ignored",
      knocktool: { log: [...opens(S, "A", 3), RUN_A(S)], marks: [`A ${S}`] },
    },
  },
  {
    name: "repeats: a repeat then a wrong port (7000,7000,9000,8000,9000)",
    config: OPTS + A,
    traffic: seq(S, 7000, 7000, 9000, 8000, 9000),
    knockd: { log: stages(S, "A", 1), marks: [] },
    expect: "same",
  },
  {
    name: "repeats: a doubled port in the sequence (7000,7000,8000 hit 7000,7000,7000,8000)",
    config: OPTS +
      door("D", "sequence = 7000,7000,8000", "seq_timeout = 5", "start_command = echo D >> marks"),
    traffic: seq(S, 7000, 7000, 7000, 8000),
    knockd: { log: stages(S, "D", 2), marks: [] },
    expect: "same",
    defaultMode: {
      differs: "the third 7000 repeats the step just made (the second) and is ignored",
      knocktool: {
        log: [...opens(S, "D", 3), "D: running command: echo D >> marks"],
        marks: ["D"],
      },
    },
  },
  {
    name: "repeats: UDP knocks sent twice (7000,7000,8000,8000 over UDP)",
    config: OPTS +
      door(
        "U",
        "sequence = 7000:udp,8000:udp",
        "seq_timeout = 5",
        "start_command = echo U >> marks",
      ),
    traffic: [7000, 7000, 8000, 8000].map((port) => ({ src: S, port, proto: "udp" as const })),
    knockd: { log: stages(S, "U", 1), marks: [] },
    expect: "same",
    defaultMode: {
      differs: "the second 7000 is ignored, 8000 opens, the second 8000 starts nothing",
      knocktool: {
        log: [...opens(S, "U", 2), "U: running command: echo U >> marks"],
        marks: ["U"],
      },
    },
  },
  {
    name: "ports of no door are invisible (7000,1234,8000,9000)",
    config: OPTS + A,
    traffic: seq(S, 7000, 1234, 8000, 9000),
    knockd: { log: [...opens(S, "A", 3), RUN_A(S)], marks: [`A ${S}`] },
    expect: "same",
  },
  {
    name: "a packet with wrong flags is ignored by the door, not an invalidation",
    config: OPTS +
      door("A", "sequence = 7000,8000,9000", "tcpflags = syn", MARK_A) +
      door("D", "sequence = 5555,8000", "start_command = echo D %IP% >> marks"),
    traffic: [
      { src: S, port: 7000 },
      { src: S, port: 8000, flags: "ACK" },
      { src: S, port: 8000 },
      { src: S, port: 9000 },
    ],
    knockd: { log: [...opens(S, "A", 3), RUN_A(S)], marks: [`A ${S}`] },
    expect: "same",
  },
  {
    name: "a !ack door does not see SYN+ACK (filtered before matching)",
    config: OPTS + door("A", "sequence = 7000,8000,9000", "tcpflags = syn,!ack", MARK_A),
    traffic: [
      { src: S, port: 7000 },
      { src: S, port: 8000, flags: "SYN,ACK" },
      { src: S, port: 8000, flags: "FIN" },
      { src: S, port: 8000 },
      { src: S, port: 9000 },
    ],
    knockd: { log: [...opens(S, "A", 3), RUN_A(S)], marks: [`A ${S}`] },
    expect: "same",
  },
  {
    name: "the right port over the wrong protocol invalidates (UDP 8000 seen through door C)",
    config: OPTS + A + door("C", "sequence = 8000:udp,9999:udp", "start_command = echo C >> marks"),
    traffic: [
      { src: S, port: 7000 },
      { src: S, port: 8000, proto: "udp" },
      { src: S, port: 8000 },
      { src: S, port: 9000 },
    ],
    knockd: { log: stages(S, "A", 1), marks: [] },
    expect: "same",
  },
  {
    name: "a mixed UDP/TCP sequence opens; a TCP packet to a UDP-only port is invisible",
    config: OPTS +
      door("U", "sequence = 2222:udp,3333:tcp,4444:udp", "start_command = echo U %IP% >> marks"),
    traffic: [
      { src: S, port: 2222, proto: "udp" },
      { src: S, port: 2222, proto: "tcp" },
      { src: S, port: 3333, proto: "tcp" },
      { src: S, port: 4444, proto: "udp" },
    ],
    knockd: {
      log: [...opens(S, "U", 3), `U: running command: echo U ${S} >> marks`],
      marks: [`U ${S}`],
    },
    expect: "same",
  },
  {
    name: "a sequence timeout is logged and a later first knock restarts",
    config: OPTS + door("A", "sequence = 7000,8000,9000", "seq_timeout = 2", MARK_A),
    traffic: [
      { src: S, port: 7000 },
      { src: S, port: 7000, delayMs: 3300 },
      { src: S, port: 8000 },
      { src: S, port: 9000 },
    ],
    knockd: {
      log: [
        `${S}: A: Stage 1`,
        `${S}: A: sequence timeout (stage 1)`,
        ...opens(S, "A", 3),
        RUN_A(S),
      ],
      marks: [`A ${S}`],
    },
    expect: "same",
  },
  {
    name: "a knock after the timeout that is not a first port starts nothing",
    config: OPTS + door("A", "sequence = 7000,8000,9000", "seq_timeout = 2", MARK_A),
    traffic: [
      { src: S, port: 7000 },
      { src: S, port: 8000 },
      { src: S, port: 9000, delayMs: 3300 },
    ],
    knockd: {
      log: [...stages(S, "A", 2), `${S}: A: sequence timeout (stage 2)`],
      marks: [],
    },
    expect: "same",
  },
  {
    name: "shared prefixes advance both doors; the last port opens one",
    config: OPTS + A +
      door("B", "sequence = 7000,8000,9001", "start_command = echo B %IP% >> marks"),
    traffic: seq(S, 7000, 8000, 9001),
    knockd: {
      log: [
        `${S}: A: Stage 1`,
        `${S}: B: Stage 1`,
        `${S}: A: Stage 2`,
        `${S}: B: Stage 2`,
        `${S}: B: Stage 3`,
        `${S}: B: OPEN SESAME`,
        `B: running command: echo B ${S} >> marks`,
      ],
      marks: [`B ${S}`],
    },
    expect: "same",
  },
  {
    name: "identical sequences: one packet opens both doors",
    config: OPTS + door("A", "sequence = 7000,8000", MARK_A) +
      door("B", "sequence = 7000,8000", "start_command = echo B %IP% >> marks"),
    traffic: seq(S, 7000, 8000),
    knockd: {
      log: [
        `${S}: A: Stage 1`,
        `${S}: B: Stage 1`,
        ...opens(S, "A", 2).slice(1),
        ...opens(S, "B", 2).slice(1),
        RUN_A(S),
        `B: running command: echo B ${S} >> marks`,
      ],
      marks: [`A ${S}`, `B ${S}`],
    },
    expect: "same",
    unordered: true,
  },
  {
    name: "a single-knock door fires on every packet",
    config: OPTS + door("P", "sequence = 5000:udp", "start_command = echo P %IP% >> marks"),
    traffic: [
      { src: S, port: 5000, proto: "udp" },
      { src: S, port: 5000, proto: "udp", delayMs: 300 },
      { src: T, port: 5000, proto: "udp", delayMs: 300 },
    ],
    knockd: {
      log: [
        ...opens(S, "P", 1),
        `P: running command: echo P ${S} >> marks`,
        ...opens(S, "P", 1),
        `P: running command: echo P ${S} >> marks`,
        ...opens(T, "P", 1),
        `P: running command: echo P ${T} >> marks`,
      ],
      marks: [`P ${S}`, `P ${S}`, `P ${T}`],
    },
    expect: "same",
  },
  {
    name: "a target door sees only knocks to its target address",
    config: OPTS +
      door(
        "T",
        "sequence = 6000,6001",
        "target = 127.0.0.2",
        "start_command = echo T %IP% >> marks",
      ),
    traffic: [
      { src: S, dst: "127.0.0.1", port: 6000 },
      { src: S, dst: "127.0.0.2", port: 6000 },
      { src: S, dst: "127.0.0.1", port: 6001 },
      { src: S, dst: "127.0.0.2", port: 6001 },
    ],
    knockd: {
      log: [...opens(S, "T", 2), `T: running command: echo T ${S} >> marks`],
      marks: [`T ${S}`],
    },
    expect: "same",
  },
  {
    name: "a door without target ignores knocks to a non-local address",
    config: OPTS + A,
    traffic: [
      { src: S, port: 7000 },
      { src: S, dst: "127.0.0.9", port: 8000 },
      { src: S, port: 8000 },
      { src: S, port: 9000 },
    ],
    knockd: { log: [...opens(S, "A", 3), RUN_A(S)], marks: [`A ${S}`] },
    expect: "same",
  },
  {
    name: "two interleaved knockers both open when the younger finishes first",
    config: OPTS + A,
    traffic: [
      { src: S, port: 7000 },
      { src: T, port: 7000 },
      { src: T, port: 8000 },
      { src: T, port: 9000 },
      { src: S, port: 8000 },
      { src: S, port: 9000 },
    ],
    knockd: {
      log: [
        `${S}: A: Stage 1`,
        ...opens(T, "A", 3),
        RUN_A(T),
        `${S}: A: Stage 2`,
        `${S}: A: Stage 3`,
        `${S}: A: OPEN SESAME`,
        RUN_A(S),
      ],
      marks: [`A ${T}`, `A ${S}`],
    },
    expect: "same",
  },
  {
    name: "B1: removing the oldest attempt drops the other knockers' attempts",
    config: OPTS + A,
    traffic: [
      { src: S, port: 7000 },
      { src: T, port: 7000 },
      { src: S, port: 8000 },
      { src: S, port: 9000 },
      { src: T, port: 8000 },
      { src: T, port: 9000 },
    ],
    knockd: {
      log: [`${S}: A: Stage 1`, `${T}: A: Stage 1`, ...opens(S, "A", 3).slice(1), RUN_A(S)],
      marks: [`A ${S}`],
    },
    expect: {
      differs: "B1: knockd's sweep empties the whole attempt list when it removes the head; " +
        "knocktool keeps 127.0.0.72's live attempt, so it opens too",
      knocktool: {
        log: [
          `${S}: A: Stage 1`,
          `${T}: A: Stage 1`,
          ...opens(S, "A", 3).slice(1),
          RUN_A(S),
          ...opens(T, "A", 3).slice(1),
          RUN_A(T),
        ],
        marks: [`A ${S}`, `A ${T}`],
      },
    },
  },
  {
    name: "a live attempt blocks another door's first port (B15), which only invalidates",
    config: OPTS + A + door("C", "sequence = 5000,5001", "start_command = echo C %IP% >> marks"),
    traffic: seq(S, 7000, 5000, 5001, 5000, 5001),
    knockd: {
      log: [`${S}: A: Stage 1`, ...opens(S, "C", 2), `C: running command: echo C ${S} >> marks`],
      marks: [`C ${S}`],
    },
    expect: "same",
  },
  {
    name: "another source's traffic does not disturb a knocker",
    config: OPTS + A,
    traffic: [
      { src: S, port: 7000 },
      { src: "127.1.2.3", port: 8000 },
      { src: "127.1.2.3", port: 9000 },
      { src: S, port: 8000 },
      { src: S, port: 9000 },
    ],
    knockd: { log: [...opens(S, "A", 3), RUN_A(S)], marks: [`A ${S}`] },
    expect: "same",
  },
  {
    name: "an IPv6 knocker opens; Start_Command is the fallback for Start_Command_6",
    config: OPTS + A,
    traffic: seq("::1", 7000, 8000, 9000),
    knockd: { log: [...opens("::1", "A", 3), RUN_A("::1")], marks: ["A ::1"] },
    expect: "same",
  },
  {
    name: "Start_Command_6 is used over IPv6, Start_Command over IPv4",
    config: OPTS +
      door("A", "sequence = 7000,8000", MARK_A, "start_command_6 = echo A6 %IP% >> marks"),
    traffic: [...seq("::1", 7000, 8000), ...seq(S, 7000, 8000)],
    knockd: {
      log: [
        ...opens("::1", "A", 2),
        "A: running command: echo A6 ::1 >> marks",
        ...opens(S, "A", 2),
        RUN_A(S),
      ],
      marks: ["A6 ::1", `A ${S}`],
    },
    expect: "same",
  },
  {
    name: "an empty Start_Command_6 runs nothing over IPv6",
    config: OPTS + door("A", "sequence = 7000,8000", MARK_A, "start_command_6 ="),
    traffic: [...seq("::1", 7000, 8000), ...seq(S, 7000, 8000)],
    knockd: {
      log: [...opens("::1", "A", 2), ...opens(S, "A", 2), RUN_A(S)],
      marks: [`A ${S}`],
    },
    expect: "same",
  },
  {
    name: "%IP% is the only substitution",
    config: OPTS + door("A", "sequence = 7000", "start_command = echo %IP% %ip% %IP >> marks"),
    traffic: seq(S, 7000),
    knockd: {
      log: [...opens(S, "A", 1), `A: running command: echo ${S} %ip% %IP >> marks`],
      marks: [`${S} %ip% %IP`],
    },
    expect: "same",
  },
  {
    name: "the stop command runs after cmd_timeout",
    config: OPTS +
      door(
        "A",
        "sequence = 7000,8000",
        "start_command = echo start %IP% >> marks",
        "cmd_timeout = 1",
        "stop_command = echo stop %IP% >> marks",
      ),
    traffic: seq(S, 7000, 8000),
    knockd: {
      log: [
        ...opens(S, "A", 2),
        `A: running command: echo start ${S} >> marks`,
        `${S}: A: command timeout`,
        `A: running command: echo stop ${S} >> marks`,
      ],
      marks: [`start ${S}`, `stop ${S}`],
    },
    expect: "same",
  },
  {
    name: "a stop command without a start command never runs",
    config: OPTS +
      door("A", "sequence = 7000", "cmd_timeout = 1", "stop_command = echo stop %IP% >> marks"),
    traffic: seq(S, 7000),
    knockd: { log: opens(S, "A", 1), marks: [] },
    expect: "same",
  },
  {
    name: "a non-zero command status is logged and printed",
    config: OPTS + door("A", "sequence = 7000", "start_command = exit 3"),
    traffic: seq(S, 7000),
    knockd: {
      log: [
        ...opens(S, "A", 1),
        "A: running command: exit 3",
        "A: command returned non-zero status code (3)",
      ],
      marks: [],
      stderr: ["A: command returned non-zero status code (3)"],
    },
    expect: "same",
  },
  {
    name: "one-time sequences rotate and mark used lines with #",
    config: OPTS +
      door("O", "one_time_sequences = otp.txt", "start_command = echo O %IP% >> marks"),
    files: { "otp.txt": " 1001,1002\n 2001,2002\n 3001,3002\n" },
    traffic: [...seq(S, 1001, 1002), { filterPort: 2001 }, ...seq(S, 1001, 1002, 2001, 2002)],
    knockd: {
      log: [
        ...opens(S, "O", 2),
        `O: running command: echo O ${S} >> marks`,
        ...opens(S, "O", 2),
        `O: running command: echo O ${S} >> marks`,
      ],
      marks: [`O ${S}`, `O ${S}`],
      files: { "otp.txt": "#1001,1002\n#2001,2002\n 3001,3002\n" },
    },
    expect: "same",
  },
  {
    name: "B3: after a one-time rotation the new sequence works over IPv6",
    config: OPTS +
      door("O", "one_time_sequences = otp.txt", "start_command = echo O %IP% >> marks"),
    files: { "otp.txt": " 1001,1002\n 2001,2002\n 3001,3002\n" },
    traffic: [...seq(S, 1001, 1002), { filterPort: 2001 }, ...seq("::1", 2001, 2002)],
    knockd: {
      log: [...opens(S, "O", 2), `O: running command: echo O ${S} >> marks`],
      marks: [`O ${S}`],
      files: { "otp.txt": "#1001,1002\n 2001,2002\n 3001,3002\n" },
    },
    expect: {
      differs: "B3: knockd rebuilds only the IPv4 part of its filter after a rotation, so the " +
        "new sequence is invisible over IPv6; knocktool re-installs the whole filter",
      knocktool: {
        log: [
          ...opens(S, "O", 2),
          `O: running command: echo O ${S} >> marks`,
          ...opens("::1", "O", 2),
          "O: running command: echo O ::1 >> marks",
        ],
        marks: [`O ${S}`, "O ::1"],
        files: { "otp.txt": "#1001,1002\n#2001,2002\n 3001,3002\n" },
      },
    },
  },
  {
    name: "an empty Stop_Command_6 runs an empty command over IPv6 after cmd_timeout",
    config: OPTS +
      door(
        "A",
        "sequence = 7000",
        "start_command = echo start %IP% >> marks",
        "cmd_timeout = 1",
        "stop_command = echo stop %IP% >> marks",
        "stop_command_6 =",
      ),
    traffic: seq("::1", 7000),
    knockd: {
      log: [
        ...opens("::1", "A", 1),
        "A: running command: echo start ::1 >> marks",
        "::1: A: command timeout",
        "A: running command: ",
      ],
      marks: ["start ::1"],
    },
    expect: "same",
  },
  {
    name: "seq_timeout = 0 expires every attempt at the next packet",
    config: OPTS + door("A", "sequence = 7000,8000,9000", "seq_timeout = 0", MARK_A),
    traffic: seq(S, 7000, 8000, 9000),
    knockd: { log: [`${S}: A: Stage 1`, `${S}: A: sequence timeout (stage 1)`], marks: [] },
    expect: "same",
  },
  {
    name: "-4: IPv6 knocks are not tracked",
    config: OPTS + A,
    args: ["-4"],
    traffic: [...seq("::1", 7000, 8000, 9000), ...seq(S, 7000, 8000, 9000)],
    knockd: { log: [...opens(S, "A", 3), RUN_A(S)], marks: [`A ${S}`] },
    expect: "same",
  },
  {
    name: "-l: the knocker's host name is shown in the log lines",
    config: OPTS + door("A", "sequence = 7000,8000", MARK_A),
    args: ["-l"],
    traffic: seq("127.0.0.1", 7000, 8000),
    knockd: {
      log: [
        "127.0.0.1 (localhost): A: Stage 1",
        "127.0.0.1 (localhost): A: Stage 2",
        "127.0.0.1 (localhost): A: OPEN SESAME",
        RUN_A("127.0.0.1"),
      ],
      marks: ["A 127.0.0.1"],
    },
    expect: {
      differs: "B21: knockd resolves the name inside the capture loop (blocking) before the " +
        "first Stage line; knocktool resolves in the background, so the first line has no name",
      knocktool: {
        log: [
          "127.0.0.1: A: Stage 1",
          "127.0.0.1 (localhost): A: Stage 2",
          "127.0.0.1 (localhost): A: OPEN SESAME",
          RUN_A("127.0.0.1"),
        ],
        marks: ["A 127.0.0.1"],
      },
    },
  },
  {
    name: "SIGHUP re-reads the config and drops attempts in progress",
    config: OPTS + A,
    traffic: [
      ...seq(S, 7000, 8000),
      { log: `${S}: A: Stage 2` },
      { signal: "SIGHUP" },
      { log: "re-reading config file", filterPort: 7000 },
      ...seq(S, 9000, 7000, 8000, 9000),
    ],
    knockd: {
      log: [
        ...stages(S, "A", 2),
        "re-reading config file: knockd.conf",
        ...opens(S, "A", 3),
        RUN_A(S),
      ],
      marks: [`A ${S}`],
    },
    expect: "same",
  },
  {
    name: "an IPv6 Target door ignores IPv4 knocks and opens for IPv6 ones",
    config: OPTS +
      door("T", "sequence = 6000,6001", "target = ::1", "start_command = echo T %IP% >> marks"),
    traffic: [...seq(S, 6000, 6001), ...seq("::1", 6000, 6001)],
    knockd: {
      log: [...opens("::1", "T", 2), "T: running command: echo T ::1 >> marks"],
      marks: ["T ::1"],
    },
    expect: "same",
  },
  {
    name: "a Target with leading zeros is no IP literal and never matches (as in knockd)",
    config: OPTS +
      door("T", "sequence = 6000,6001", "target = 127.000.0.2", "start_command = echo T >> marks"),
    traffic: [{ src: S, dst: "127.0.0.2", port: 6000 }, { src: S, dst: "127.0.0.2", port: 6001 }],
    knockd: { log: [], marks: [] },
    expect: "same",
  },
  {
    name: "B24: a non-canonical IPv6 Target",
    config: OPTS +
      door(
        "T",
        "sequence = 6000,6001",
        "target = 0:0:0:0:0:0:0:1",
        "start_command = echo T >> marks",
      ),
    traffic: seq("::1", 6000, 6001),
    knockd: { log: [], marks: [] },
    expect: {
      differs: "B24: knockd compares the Target as a string, so `0:0:0:0:0:0:0:1` never equals " +
        "the packet's `::1`; knocktool compares canonical addresses",
      knocktool: {
        log: [...opens("::1", "T", 2), "T: running command: echo T >> marks"],
        marks: ["T"],
      },
    },
  },
  {
    name: "the same port over UDP then TCP, and a trailing comma's port 0",
    config: OPTS + door("A", "sequence = 7000:udp,7000:tcp,", MARK_A),
    traffic: [{ src: S, port: 7000, proto: "udp" }, { src: S, port: 7000 }, { src: S, port: 0 }],
    knockd: { log: [...opens(S, "A", 3), RUN_A(S)], marks: [`A ${S}`] },
    expect: "same",
  },
  {
    name: "TCPFlags accumulate across lines; SYN+ACK knocks open a syn,ack door only",
    config: OPTS + door("A", "sequence = 7000,8000", "tcpflags = syn", "tcpflags = !ack", MARK_A) +
      door(
        "B",
        "sequence = 7100,8100",
        "tcpflags = syn,ack",
        "start_command = echo B %IP% >> marks",
      ),
    traffic: [
      { src: S, port: 7000, flags: "SYN,ACK" },
      { src: S, port: 7000 },
      { src: S, port: 8000 },
      { src: T, port: 7100, flags: "SYN,ACK,PSH" },
      { src: T, port: 7100 },
      { src: T, port: 8100, flags: "SYN,ACK" },
    ],
    knockd: {
      log: [
        ...opens(S, "A", 2),
        RUN_A(S),
        ...opens(T, "B", 2),
        `B: running command: echo B ${T} >> marks`,
      ],
      marks: [`A ${S}`, `B ${T}`],
    },
    expect: "same",
  },
  {
    name: "B22: an 802.1Q-tagged knock",
    config: OPTS + A,
    traffic: [{ src: S, port: 7000 }, { src: S, port: 8000, vlan: [100] }, { src: S, port: 9000 }],
    knockd: { log: stages(S, "A", 1), marks: [] },
    expect: {
      differs: "B22: knockd drops VLAN-tagged frames; knocktool decodes them, so the tagged " +
        "8000 counts and the door opens",
      knocktool: { log: [...opens(S, "A", 3), RUN_A(S)], marks: [`A ${S}`] },
    },
  },
  {
    name: "B4: an invalid line in the one-time sequences file",
    config: OPTS +
      door("O", "one_time_sequences = otp.txt", "start_command = echo O %IP% >> marks"),
    files: { "otp.txt": " 1001,1002\n 99999\n 2001,2002\n 3001,3002\n" },
    traffic: [
      ...seq(S, 1001, 1002),
      { filterPort: 2001 },
      ...seq(S, 2001, 2002),
      // knockd (B4) still listens for 2001,2002; knocktool has moved on to 3001,3002.
      { filterPort: { knockd: 2001, knocktool: 3001 } },
      ...seq(S, 2001, 2002),
      { filterPort: 3001 },
      ...seq(S, 3001, 3002),
    ],
    knockd: {
      log: [
        ...opens(S, "O", 2),
        `O: running command: echo O ${S} >> marks`,
        ...opens(S, "O", 2),
        `O: running command: echo O ${S} >> marks`,
        ...opens(S, "O", 2),
        `O: running command: echo O ${S} >> marks`,
        ...opens(S, "O", 2),
        "no more sequences left in the one time sequences file for door O --> disabling the door",
        `O: running command: echo O ${S} >> marks`,
      ],
      marks: [`O ${S}`, `O ${S}`, `O ${S}`, `O ${S}`],
      // The invalid line is reported with an uninitialised door name (docs/COMPATIBILITY.md §5).
      stderr: "unchecked",
      exit: 134,
      files: { "otp.txt": "#1001,1002\n#99999\n#2001,2002\n#3001,3002\n" },
    },
    expect: {
      differs: "B4: knockd marks the invalid line instead of 2001,2002, serves 2001,2002 " +
        "twice, then dies of B2 after the last line; knocktool marks each used line, skips the " +
        "invalid one, serves 2001,2002 once and disables the door after the last line",
      knocktool: {
        log: [
          ...opens(S, "O", 2),
          `O: running command: echo O ${S} >> marks`,
          ...opens(S, "O", 2),
          `O: running command: echo O ${S} >> marks`,
          ...opens(S, "O", 2),
          "no more sequences left in the one time sequences file for door O --> disabling the door",
          `O: running command: echo O ${S} >> marks`,
        ],
        marks: [`O ${S}`, `O ${S}`, `O ${S}`],
        stderr: [
          "no more sequences left in the one time sequences file for door O --> disabling the door",
        ],
        files: { "otp.txt": "#1001,1002\n 99999\n#2001,2002\n#3001,3002\n" },
      },
    },
    unordered: true,
  },
  {
    name: "B17: command children inherit no descriptors of the daemon",
    // The shell lists its own fds with a builtin glob (no fork, no pipe yet), skips 0-2 by number
    // (whatever they point at), then names each: the glob's directory fd is closed by then, so
    // only descriptors the shell inherited are left. Targets are reduced to their kind afterwards.
    config: OPTS + door("A", "sequence = 7000", `start_command = ${B17_CMD}`),
    traffic: seq(S, 7000),
    knockd: {
      log: [...opens(S, "A", 1), `A: running command: ${B17_CMD}`],
      marks: ["log", "anon_inode", "socket"],
    },
    expect: {
      differs: "B17: knockd's children inherit its log file and capture socket; knocktool " +
        "opens everything close-on-exec",
      knocktool: {
        log: [...opens(S, "A", 1), `A: running command: ${B17_CMD}`],
        marks: [],
      },
    },
  },
  {
    name: "a start command longer than 4095 bytes after %IP% is not run",
    config: OPTS +
      door("A", "sequence = 7000", "start_command = echo " + "%IP%".repeat(450) + " >> marks"),
    traffic: seq(S, 7000),
    knockd: {
      log: [
        ...opens(S, "A", 1),
        "error: parsed start command has been truncated! --> won't execute it",
      ],
      marks: [],
      stderr: ["error: parsed start command has been truncated! --> won't execute it"],
    },
    expect: "same",
  },
  {
    name: "the stop command runs even when the start command failed",
    config: OPTS +
      door(
        "A",
        "sequence = 7000",
        "start_command = exit 1",
        "cmd_timeout = 1",
        "stop_command = echo stop >> marks",
      ),
    traffic: seq(S, 7000),
    knockd: {
      log: [
        ...opens(S, "A", 1),
        "A: running command: exit 1",
        "A: command returned non-zero status code (1)",
        `${S}: A: command timeout`,
        "A: running command: echo stop >> marks",
      ],
      marks: ["stop"],
      stderr: ["A: command returned non-zero status code (1)"],
    },
    expect: "same",
  },
  {
    name: "B2: one-time sequences running out at runtime",
    config: OPTS +
      door("O", "one_time_sequences = otp.txt", "start_command = echo O %IP% >> marks"),
    files: { "otp.txt": " 1001,1002\n" },
    traffic: seq(S, 1001, 1002),
    knockd: {
      log: [
        ...opens(S, "O", 2),
        "no more sequences left in the one time sequences file for door O --> disabling the door",
        `O: running command: echo O ${S} >> marks`,
      ],
      marks: [`O ${S}`],
      stderr: [
        "no more sequences left in the one time sequences file for door O --> disabling the door",
        "free(): double free detected in tcache 2",
      ],
      exit: 134,
      files: { "otp.txt": "#1001,1002\n" },
    },
    expect: {
      differs: "B2: knockd aborts with a double free (exit 134); knocktool disables the door " +
        "as documented and keeps serving",
      knocktool: {
        log: [
          ...opens(S, "O", 2),
          "no more sequences left in the one time sequences file for door O --> disabling the door",
          `O: running command: echo O ${S} >> marks`,
        ],
        marks: [`O ${S}`],
        stderr: [
          "no more sequences left in the one time sequences file for door O --> disabling the door",
        ],
        files: { "otp.txt": "#1001,1002\n" },
      },
    },
    unordered: true,
  },
];

// ---------------------------------------------------------------------------------------------

/** knockd 0.8, knocktool in its default mode, knocktool with `--knockd-strict`. */
type Daemon = "knockd" | "knocktool" | "knocktool-strict";

interface Observed {
  log: string[];
  marks: string[];
  stderr: string[];
  exit: number | null;
  files: Record<string, string>;
  /** Full raw outputs for failure messages. */
  raw: string;
}

const TS = /^\[\d{4}-\d\d-\d\d \d\d:\d\d\] /;

function logLines(text: string): string[] {
  return text.split("\n").map((l) => l.replace(TS, "")).filter((l) => l.trim() !== "");
}

function lines(text: string): string[] {
  return text.split("\n").filter((l) => l.trim() !== "");
}

/** The full expectation of a daemon, start and shutdown lines included. */
function full(e: Expected): Required<Expected> {
  const exit = e.exit ?? 15;
  return {
    log: ["starting up, listening on lo", ...e.log, ...(exit === 15 ? ["shutting down"] : [])],
    marks: e.marks,
    stderr: e.stderr ?? [],
    exit,
    files: e.files ?? {},
  };
}

function expectedFor(s: Scenario, d: Daemon): Required<Expected> {
  if (d === "knocktool" && s.defaultMode !== undefined) return full(s.defaultMode.knocktool);
  if (d === "knockd" || s.expect === "same") return full(s.knockd);
  return full(s.expect.knocktool);
}

/**
 * Lines written by the forked command child (knockd logs them from the child process), whose
 * timing relative to the matcher's lines depends on scheduling.
 */
const CHILD_LINE =
  /: running command: |: command timeout$|: command returned non-zero status code /;

/**
 * The comparable form of an outcome: the matcher's lines in order, the command child's lines in
 * order, and the marker lines; everything as multisets when the scenario is unordered.
 */
function comparable(o: { log: readonly string[]; marks: readonly string[] }, unordered: boolean) {
  const sort = (a: readonly string[]) => (unordered ? [...a].sort() : [...a]);
  return {
    log: sort(o.log.filter((l) => !CHILD_LINE.test(l))),
    commands: sort(o.log.filter((l) => CHILD_LINE.test(l))),
    marks: sort(o.marks),
  };
}

function sameOutcome(o: Observed, e: Required<Expected>, unordered: boolean): boolean {
  const a = comparable(o, unordered);
  const b = comparable(e, unordered);
  return isDeepStrictEqual(a, b) &&
    (e.stderr === "unchecked" || isDeepStrictEqual([...o.stderr].sort(), [...e.stderr].sort())) &&
    o.exit === e.exit &&
    Object.entries(e.files).every(([f, text]) => o.files[f] === text);
}

function daemonArgv(d: Daemon, extra: readonly string[]): string[] {
  return d === "knockd" ? [KNOCKD, "-i", "lo", "-c", "knockd.conf", "-g", "log", ...extra] : [
    Deno.execPath(),
    "run",
    "-A",
    "--config",
    DENO_CONFIG,
    MAIN,
    "serve",
    "-i",
    "lo",
    "-c",
    "knockd.conf",
    "-g",
    "log",
    ...(d === "knocktool-strict" ? ["--knockd-strict"] : []),
    ...extra,
  ];
}

function observe(dir: string, p: BgProcess, s: Scenario): Observed {
  const files: Record<string, string> = {};
  for (const f of Object.keys(s.files ?? {})) files[f] = readText(`${dir}/${f}`);
  const log = readText(`${dir}/log`);
  const marks = readText(`${dir}/marks`);
  return {
    log: logLines(log),
    marks: lines(marks),
    stderr: lines(p.stderr()),
    exit: p.exited?.code ?? null,
    files,
    raw: `${p.describe()}--- ${p.label} log:\n${log}--- ${p.label} marks:\n${marks}` +
      Object.entries(files).map(([f, t]) => `--- ${p.label} ${f}:\n${t}`).join(""),
  };
}

function toFrames(traffic: readonly Knock[]): FrameSpec[] {
  return traffic.map((k) => ({
    src: k.src,
    dst: k.dst ?? (k.src.includes(":") ? "::1" : "127.0.0.1"),
    proto: k.proto ?? "tcp",
    port: k.port,
    ...(k.flags === undefined ? {} : { flags: k.flags }),
    ...(k.delayMs === undefined ? {} : { delayMs: k.delayMs }),
    ...(k.vlan === undefined ? {} : { vlan: k.vlan }),
  }));
}

/** Waits until a {@link Barrier} holds for every daemon still running (bounded; throws if not). */
async function barrier(
  ns: Netns,
  procs: ReadonlyMap<Daemon, { dir: string; p: BgProcess }>,
  b: Barrier,
): Promise<void> {
  const portFor = (d: Daemon) =>
    typeof b.filterPort === "object"
      ? (d === "knockd" ? b.filterPort.knockd : b.filterPort.knocktool)
      : b.filterPort;
  await waitUntil(async () => {
    const filters = b.filterPort === undefined && b.filtered === undefined
      ? undefined
      : await ns.packetFilters();
    return [...procs].every(([d, { dir, p }]) => {
      if (p.exited !== undefined) return true;
      if (b.log !== undefined && !readText(`${dir}/log`).includes(b.log)) return false;
      if (b.filtered && (filters?.get(p.pid) ?? []).length === 0) return false;
      const port = portFor(d);
      return port === undefined ||
        (filters?.get(p.pid) ?? []).some((f) => bpfTestsValue(f, port));
    });
  }, {
    timeoutMs: 20_000,
    what: `the daemons to reach ${JSON.stringify(b)}`,
    context: () => [...procs.values()].map(({ p }) => p.describe()).join(""),
  });
}

/** Daemons that did not start, and how often: after two, later scenarios fail at once. */
const startFailures = new Map<Daemon, number>();

/** Runs one scenario with the given daemons; returns what each showed. */
async function runScenario(
  s: Scenario,
  daemons: readonly Daemon[],
): Promise<Map<Daemon, Observed>> {
  const ns = await Netns.create("diff");
  const procs = new Map<Daemon, { dir: string; p: BgProcess }>();
  try {
    for (const d of daemons) {
      const dir = `${ns.dir}/${d}`;
      await Deno.mkdir(dir);
      await Deno.writeTextFile(`${dir}/knockd.conf`, s.config);
      for (const [f, text] of Object.entries(s.files ?? {})) {
        await Deno.writeTextFile(`${dir}/${f}`, text);
      }
      procs.set(d, { dir, p: ns.spawn(d, daemonArgv(d, s.args ?? []), { cwd: dir }) });
    }
    for (const [d, { dir, p }] of procs) {
      const failed = startFailures.get(d) ?? 0;
      if (failed >= 2) {
        throw new Error(`Cannot start ${d}: it did not start in ${failed} earlier scenarios`);
      }
      const started = () => readText(`${dir}/log`).includes("starting up");
      await waitUntil(() => started() || p.exited !== undefined, {
        timeoutMs: 30_000,
        what: `${d} to log "starting up"`,
        context: () => p.describe(),
      }).catch(() => {});
      if (!started()) {
        startFailures.set(d, failed + 1);
        throw new Error(`Cannot start ${d}:\n${p.describe()}`);
      }
    }
    // "starting up" comes with the filter in knocktool, just before it in knockd.
    await barrier(ns, procs, { filtered: true });
    let chunk: Knock[] = [];
    for (const step of [...s.traffic, { signal: "SIGCONT" } as Signal]) {
      if ("port" in step) {
        chunk.push(step);
        continue;
      }
      if (chunk.length > 0) {
        await injectInNetns(ns.name, { iface: "lo", gapMs: 150, frames: toFrames(chunk) });
      }
      chunk = [];
      if (!("signal" in step)) {
        await barrier(ns, procs, step);
        continue;
      }
      if (step.signal === "SIGCONT") break; // the end marker
      await sleep(150);
      for (const { p } of procs.values()) p.kill(step.signal);
      await sleep(step.pauseMs ?? 500);
    }
    // Wait until each daemon shows what it should before shutdown, or a bounded deadline.
    const settled = async (d: Daemon) => {
      const { dir, p } = procs.get(d)!;
      const e = expectedFor(s, d);
      const preShutdown = { ...e, log: e.exit === 15 ? e.log.slice(0, -1) : e.log, exit: e.exit };
      await waitUntil(() => {
        const o = observe(dir, p, s);
        return sameOutcome(
          { ...o, exit: e.exit === 15 ? 15 : o.exit },
          preShutdown,
          s.unordered ?? false,
        );
      }, { timeoutMs: 4000, intervalMs: 100 }).catch(() => {});
    };
    if (s.oracle) {
      // No recorded expectation: wait until nothing changes for 700 ms (bounded).
      let last = "";
      let since = Date.now();
      await waitUntil(() => {
        const now = [...procs.values()].map(({ dir }) =>
          readText(`${dir}/log`) + readText(`${dir}/marks`)
        ).join("\0");
        if (now !== last) [last, since] = [now, Date.now()];
        return Date.now() - since >= 700;
      }, { timeoutMs: 8000, intervalMs: 100 }).catch(() => {});
    } else {
      await Promise.all([...procs.keys()].map(settled));
    }
    await sleep(300); // let anything unexpected show up too
    // One SIGTERM each, at the same time (a second one would test something else).
    await Promise.all([...procs.values()].map(({ p }) => p.stop("SIGTERM", 5000)));
    const out = new Map<Daemon, Observed>();
    for (const [d, { dir, p }] of procs) out.set(d, observe(dir, p, s));
    return out;
  } finally {
    await ns.destroy();
  }
}

function report(s: Scenario, d: Daemon, o: Observed, e: Required<Expected>, all: string): string {
  return `${d} did not show the expected outcome for "${s.name}"\n` +
    `expected: ${JSON.stringify(e, null, 1)}\n` +
    `observed: ${JSON.stringify({ ...o, raw: undefined }, null, 1)}\n${all}`;
}

/**
 * The daemons start with stdin, stdout and stderr only, as under systemd: descriptors this test
 * inherited (from a CI runner or a terminal multiplexer) would otherwise reach both daemons and
 * show in the probe of docs/COMPATIBILITY.md B17. Marks every inherited descriptor above 2
 * close-on-exec.
 */
function keepInheritedFdsFromDaemons(): void {
  const lib = Deno.dlopen(
    "libc.so.6",
    {
      fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
    } as const,
  );
  try {
    for (const e of Deno.readDirSync("/proc/self/fd")) {
      const fd = Number(e.name);
      if (fd <= 2) continue;
      const flags = lib.symbols.fcntl(fd, 1, /* F_GETFD */ 0);
      if (flags >= 0 && (flags & 1) === 0) lib.symbols.fcntl(fd, 2, /* F_SETFD */ flags | 1);
    }
  } finally {
    lib.close();
  }
}

async function pool<T, R>(items: readonly T[], n: number, f: (t: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await f(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return results;
}

const names = new Set(scenarios.map((s) => s.name));
if (names.size !== scenarios.length) throw new Error("Cannot run: scenario names must be unique");

const available = (await canUseNetns()) &&
  (await Deno.stat(KNOCKD).then(() => true, () => false));
const only = Deno.env.get("KT_DIFF_ONLY");
const daemons: Daemon[] = only === "knockd" || only === "knocktool" || only === "knocktool-strict"
  ? [only]
  : ["knockd", "knocktool-strict", "knocktool"];
const filter = Deno.env.get("KT_DIFF_FILTER");
const selected = scenarios.filter((s) => filter === undefined || s.name.includes(filter));

Deno.test({
  name:
    `differential: knockd 0.8 vs knocktool serve, strict and default, on lo (${selected.length} scenarios)`,
  ignore: ignoreUnlessCi(available),
  async fn(t) {
    if (!available) throw new Error("Cannot run the differential suite: needs root, ip and knockd");
    keepInheritedFdsFromDaemons();
    const results = await pool(selected, 3, async (s) => {
      try {
        return { s, obs: await runScenario(s, daemons) };
      } catch (e) {
        return { s, error: e instanceof Error ? e.stack ?? e.message : String(e) };
      }
    });
    const differing = selected.filter((s) => s.defaultMode !== undefined);
    console.log(
      `default mode differs from knockd in ${differing.length} of ${selected.length} scenarios:\n` +
        differing.map((s) => `  ${s.name}: ${s.defaultMode!.differs}`).join("\n"),
    );
    for (const r of results) {
      await t.step(r.s.name, () => {
        if ("error" in r) throw new Error(`Cannot run "${r.s.name}": ${r.error}`);
        const all = [...r.obs.values()].map((o) => o.raw).join("");
        const failures: string[] = [];
        for (const [d, o] of r.obs) {
          const e = expectedFor(r.s, d);
          if (!sameOutcome(o, e, r.s.unordered ?? false)) failures.push(report(r.s, d, o, e, all));
        }
        if (failures.length > 0) throw new Error(failures.join("\n"));
      });
    }
  },
});

// ---------------------------------------------------------------------------------------------
// Random traffic with knockd as the live oracle.

/**
 * A random case for one knocker: two or three doors over a small port alphabet, with distinct first
 * knocks (so at most one attempt is ever live and knockd's docs/COMPATIBILITY.md B1 cannot show),
 * random TCPFlags, and about 30 knocks: whole door sequences and random knocks mixing door ports,
 * other ports, both protocols and several flag combinations.
 */
function randomScenario(seed: number): Scenario {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const ports = [7001, 7002, 7003, 7004];
  const protos = ["tcp", "udp"] as const;
  const flagSets = ["", "syn", "syn,!ack", "ack", "!fin"];
  const nDoors = 2 + Math.floor(rnd() * 2);
  const firsts = [...ports].sort(() => rnd() - 0.5).slice(0, nDoors);
  let config = OPTS;
  const sequences: Knock[][] = [];
  for (let d = 0; d < nDoors; d++) {
    const len = 1 + Math.floor(rnd() * 3);
    const seqItems = [`${firsts[d]}:${pick(protos)}`];
    for (let i = 1; i < len; i++) seqItems.push(`${pick(ports)}:${pick(protos)}`);
    sequences.push(seqItems.map((item) => {
      const [port, proto] = item.split(":");
      return { src: S, port: Number(port), proto: proto as "tcp" | "udp" };
    }));
    const flags = pick(flagSets);
    const name = String.fromCharCode(65 + d);
    config += door(
      name,
      `sequence = ${seqItems.join(",")}`,
      ...(flags === "" ? [] : [`tcpflags = ${flags}`]),
      `start_command = echo ${name} %IP% >> marks`,
    );
  }
  const traffic: Knock[] = [];
  while (traffic.length < 30) {
    if (rnd() < 0.3) {
      // A door's whole sequence (SYN knocks), which random noise around it may spoil.
      traffic.push(...pick(sequences));
      continue;
    }
    traffic.push({
      src: S,
      port: rnd() < 0.85 ? pick(ports) : 7999,
      proto: pick(protos),
      flags: pick(["SYN", "SYN", "SYN", "ACK", "SYN,ACK", "FIN"]),
    });
  }
  return {
    name: `random case, seed ${seed}`,
    config,
    traffic,
    knockd: { log: [], marks: [] },
    expect: "same",
    oracle: true,
  };
}

const randomCases = [1, 2, 3, 4, 5, 6, 7, 8].map(randomScenario);

Deno.test({
  name:
    `differential: random single-knocker traffic, knockd as the oracle of --knockd-strict (${randomCases.length} cases)`,
  ignore: ignoreUnlessCi(available) || only !== undefined || filter !== undefined,
  async fn(t) {
    if (!available) throw new Error("Cannot run the differential suite: needs root, ip and knockd");
    const results = await pool(randomCases, 3, async (s) => {
      try {
        return { s, obs: await runScenario(s, ["knockd", "knocktool-strict"]) };
      } catch (e) {
        return { s, error: e instanceof Error ? e.stack ?? e.message : String(e) };
      }
    });
    // Guard against a vacuous generator: the cases together must exercise stages and opens.
    const knockdLogs = results.flatMap((r) => ("obs" in r ? r.obs.get("knockd")!.log : []));
    const stagesSeen = knockdLogs.filter((l) => / Stage \d+$/.test(l)).length;
    const opensSeen = knockdLogs.filter((l) => l.endsWith("OPEN SESAME")).length;
    console.log(`random cases: knockd logged ${stagesSeen} stages and ${opensSeen} opens`);
    await t.step("the random cases exercise stages and opens", () => {
      ok(
        stagesSeen >= 10 && opensSeen >= 3,
        `Expected at least 10 stages and 3 opens, got ${stagesSeen}, ${opensSeen}`,
      );
    });
    for (const r of results) {
      await t.step(r.s.name, () => {
        if ("error" in r) throw new Error(`Cannot run "${r.s.name}": ${r.error}`);
        const k = r.obs.get("knockd")!;
        // Random traffic repeats knocks at will: only strict mode must equal knockd here.
        const kt = r.obs.get("knocktool-strict")!;
        const opens = k.log.filter((l) => l.endsWith("OPEN SESAME")).length;
        ok(
          isDeepStrictEqual(comparable(k, false), comparable(kt, false)) &&
            isDeepStrictEqual(k.stderr, kt.stderr) && k.exit === kt.exit,
          `knocktool differs from knockd in "${r.s.name}" (knockd opened ${opens} times)\n` +
            `config:\n${r.s.config}traffic: ${JSON.stringify(r.s.traffic)}\n${k.raw}${kt.raw}`,
        );
      });
    }
  },
});
