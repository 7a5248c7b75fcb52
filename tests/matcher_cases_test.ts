/**
 * The matcher against every behaviour of docs/COMPATIBILITY.md §4.3 (and §3.2's pre-filter
 * consequences), as a typed table: knockd.conf text, traffic with capture times, and the events in
 * knockd's log order.
 *
 * Events are written as knockd logs them (`SRC: DOOR: Stage N`, `SRC: DOOR: OPEN SESAME`,
 * `SRC: DOOR: sequence timeout (stage N)`); `-D` lines are prefixed `D ` and only compared in
 * cases with `debug: true`. Every case runs twice: with the matcher's `debug` option (debug lines
 * filtered out unless the case compares them) and without it (no debug event may appear), and both
 * runs must give the expected lines.
 *
 * `expect` is knockd 0.8's behaviour, which the matcher gives in strict mode (`--knockd-strict`);
 * every case also runs in the default mode, where it must give `defaultExpect` when the case has
 * one (repeats are ignored there: docs/COMPATIBILITY.md "Repeats and retransmissions"), and
 * `expect` otherwise.
 */
import assert from "node:assert/strict";
import type { Knock } from "../src/config/model.ts";
import { parseConfig } from "../src/config/parse.ts";
import { Matcher } from "../src/match/matcher.ts";
import type { MatchEvent } from "../src/match/events.ts";
import type { Packet } from "../src/wire/packet.ts";

const SYN = 0x02;
const ACK = 0x10;
const SYNACK = SYN | ACK;
const ME = "127.0.0.71";

interface KnockOpts {
  readonly src?: string;
  readonly dst?: string;
  readonly flags?: number;
  readonly srcPort?: number;
}

/** A packet at second `t` to `"port"` (TCP SYN) or `"port:udp"`, by default 127.0.0.71 → 127.0.0.1. */
function k(t: number, spec: string, opts: KnockOpts = {}): Packet {
  const [port, proto] = spec.split(":");
  const protocol = proto === "udp" ? "udp" : "tcp";
  const dst = opts.dst ?? "127.0.0.1";
  return {
    tsSec: t,
    tsUsec: 0,
    family: dst.includes(":") ? 6 : 4,
    src: opts.src ?? ME,
    dst,
    protocol,
    srcPort: opts.srcPort ?? 40000,
    dstPort: Number(port),
    tcpFlags: protocol === "tcp" ? opts.flags ?? SYN : 0,
    wireLen: 60,
  };
}

type Step =
  | Packet
  | { readonly tick: number }
  | { readonly setSequence: readonly [number, string | null] }
  | { readonly setLocalAddresses: readonly string[] };

interface Case {
  readonly name: string;
  readonly config: string;
  /** Interface addresses; default 127.0.0.1 and ::1 (knockd on `lo`). */
  readonly local?: readonly string[];
  readonly ipv4Only?: boolean;
  readonly debug?: boolean;
  readonly steps: readonly Step[];
  /** knockd 0.8's lines: the strict mode's result. */
  readonly expect: readonly string[];
  /** The default mode's lines when they differ from knockd's. */
  readonly defaultExpect?: readonly string[];
}

const ABC = "[A]\nsequence = 7000,8000,9000\nseq_timeout = 5\n";
/** tportknockd's SSH2 example (x, up, up, n, i on port 110) in the notation. */
const FLAGS110 = "[S]\nsequence = 110:tcp:fin+syn+rst+psh+ack+urg,110:tcp:psh+urg," +
  "110:tcp:psh+urg,110:tcp:none,110:tcp:any\n";

/** The default mode's debug line for an ignored repeat. */
function IGN(port: string, stage: number, door = "A", proto = "tcp"): string {
  return `D ignoring repeated knock ${port}:${proto} (${ME}) for door ${door} at stage ${stage}`;
}

const cases: readonly Case[] = [
  {
    name: "a correct sequence logs each stage then opens",
    config: ABC,
    steps: [k(100, "7000"), k(101, "8000"), k(102, "9000")],
    expect: [
      `${ME}: A: Stage 1`,
      `${ME}: A: Stage 2`,
      `${ME}: A: Stage 3`,
      `${ME}: A: OPEN SESAME`,
    ],
  },
  {
    name:
      "a duplicate knock invalidates the attempt and is not itself a restart (7000,7000,8000,9000 fails)",
    config: ABC,
    debug: true,
    steps: [k(100, "7000"), k(100, "7000"), k(101, "8000"), k(102, "9000")],
    expect: [`${ME}: A: Stage 1`, `D removing failed knock attempt (${ME})`],
    defaultExpect: [
      `${ME}: A: Stage 1`,
      IGN("7000", 1),
      `${ME}: A: Stage 2`,
      `${ME}: A: Stage 3`,
      `${ME}: A: OPEN SESAME`,
    ],
  },
  {
    name: "the knock after an invalidating one starts afresh (7000,7000,7000,8000,9000 opens)",
    config: ABC,
    steps: [k(100, "7000"), k(100, "7000"), k(100, "7000"), k(101, "8000"), k(102, "9000")],
    expect: [
      `${ME}: A: Stage 1`,
      `${ME}: A: Stage 1`,
      `${ME}: A: Stage 2`,
      `${ME}: A: Stage 3`,
      `${ME}: A: OPEN SESAME`,
    ],
    defaultExpect: [
      `${ME}: A: Stage 1`,
      `${ME}: A: Stage 2`,
      `${ME}: A: Stage 3`,
      `${ME}: A: OPEN SESAME`,
    ],
  },
  // Repeats (docs/COMPATIBILITY.md "Repeats and retransmissions"): knockd invalidates, the
  // default mode ignores the step just made.
  {
    name: "repeats: a retransmission at every stage (7000,7000,8000,8000,9000,9000)",
    config: ABC,
    debug: true,
    steps: [
      k(100, "7000"),
      k(101, "7000"),
      k(101, "8000"),
      k(102, "8000"),
      k(102, "9000"),
      k(103, "9000"),
    ],
    expect: [`${ME}: A: Stage 1`, `D removing failed knock attempt (${ME})`],
    defaultExpect: [
      `${ME}: A: Stage 1`,
      IGN("7000", 1),
      `${ME}: A: Stage 2`,
      IGN("8000", 2),
      `${ME}: A: Stage 3`,
      `${ME}: A: OPEN SESAME`,
      `D removing successful knock attempt (${ME})`,
    ],
  },
  {
    name: "repeats: a retransmission of the second knock only (7000,8000,8000,9000)",
    config: ABC,
    steps: [k(100, "7000"), k(101, "8000"), k(102, "8000"), k(102, "9000")],
    expect: [`${ME}: A: Stage 1`, `${ME}: A: Stage 2`],
    defaultExpect: [
      `${ME}: A: Stage 1`,
      `${ME}: A: Stage 2`,
      `${ME}: A: Stage 3`,
      `${ME}: A: OPEN SESAME`,
    ],
  },
  {
    name: "repeats: a repeat then a wrong port still invalidates (7000,7000,9000,8000,9000)",
    config: ABC,
    debug: true,
    steps: [
      k(100, "7000"),
      k(100, "7000"),
      k(101, "9000"),
      k(101, "8000"),
      k(102, "9000"),
      { tick: 110 },
    ],
    expect: [`${ME}: A: Stage 1`, `D removing failed knock attempt (${ME})`],
    defaultExpect: [
      `${ME}: A: Stage 1`,
      IGN("7000", 1),
      `D removing failed knock attempt (${ME})`,
    ],
  },
  {
    name: "repeats: an earlier step repeated is a wrong knock (7000,8000,7000,9000)",
    config: ABC,
    steps: [k(100, "7000"), k(101, "8000"), k(101, "7000"), k(102, "9000")],
    expect: [`${ME}: A: Stage 1`, `${ME}: A: Stage 2`],
  },
  {
    name: "repeats: a repeated port in the sequence advances (7000,7000,8000 on 7000,7000,8000)",
    config: "[A]\nsequence = 7000,7000,8000\n",
    steps: [k(100, "7000"), k(100, "7000"), k(101, "8000")],
    expect: [
      `${ME}: A: Stage 1`,
      `${ME}: A: Stage 2`,
      `${ME}: A: Stage 3`,
      `${ME}: A: OPEN SESAME`,
    ],
  },
  {
    name:
      "repeats: a third hit on a doubled port is ignored (7000,7000,7000,8000 on 7000,7000,8000)",
    config: "[A]\nsequence = 7000,7000,8000\n",
    debug: true,
    steps: [k(100, "7000"), k(100, "7000"), k(100, "7000"), k(101, "8000")],
    expect: [`${ME}: A: Stage 1`, `${ME}: A: Stage 2`, `D removing failed knock attempt (${ME})`],
    defaultExpect: [
      `${ME}: A: Stage 1`,
      `${ME}: A: Stage 2`,
      IGN("7000", 2),
      `${ME}: A: Stage 3`,
      `${ME}: A: OPEN SESAME`,
    ],
  },
  {
    name: "repeats: UDP knocks sent twice open the door",
    config: "[U]\nsequence = 7000:udp,8000:udp,9000:udp\n",
    debug: true,
    steps: [
      k(100, "7000:udp"),
      k(100, "7000:udp"),
      k(101, "8000:udp"),
      k(101, "8000:udp"),
      k(102, "9000:udp"),
      k(102, "9000:udp"),
    ],
    expect: [`${ME}: U: Stage 1`, `D removing failed knock attempt (${ME})`],
    defaultExpect: [
      `${ME}: U: Stage 1`,
      IGN("7000", 1, "U", "udp"),
      `${ME}: U: Stage 2`,
      IGN("8000", 2, "U", "udp"),
      `${ME}: U: Stage 3`,
      `${ME}: U: OPEN SESAME`,
      `D removing successful knock attempt (${ME})`,
    ],
  },
  {
    name: "repeats: the same port over the other protocol is a wrong knock",
    config: "[M]\nsequence = 7000:udp,8000:udp\n[N]\nsequence = 9000,7000\n",
    steps: [k(100, "7000:udp"), k(100, "7000"), k(101, "8000:udp")],
    expect: [`${ME}: M: Stage 1`],
  },
  {
    name: "repeats: a repeat does not extend the sequence timeout",
    config: ABC,
    steps: [k(100, "7000"), k(104, "7000"), k(105, "8000")],
    expect: [`${ME}: A: Stage 1`],
    defaultExpect: [`${ME}: A: Stage 1`, `${ME}: A: sequence timeout (stage 1)`],
  },
  {
    name: "repeats: a repeat keeps every door that shares the step",
    config: "[A]\nsequence = 7000,8000\n[B]\nsequence = 7000,9000\n",
    steps: [k(100, "7000"), k(100, "7000"), k(101, "9000")],
    expect: [`${ME}: A: Stage 1`, `${ME}: B: Stage 1`],
    defaultExpect: [
      `${ME}: A: Stage 1`,
      `${ME}: B: Stage 1`,
      `${ME}: B: Stage 2`,
      `${ME}: B: OPEN SESAME`,
    ],
  },
  {
    name: "repeats: another source's repeat neither advances nor spoils an attempt",
    config: ABC,
    steps: [
      k(100, "7000"),
      k(100, "7000", { src: "198.51.100.9", dst: "127.0.0.1" }),
      k(100, "7000", { src: "198.51.100.9", dst: "127.0.0.1" }),
      k(101, "8000"),
      k(102, "9000"),
    ],
    expect: [
      `${ME}: A: Stage 1`,
      `198.51.100.9: A: Stage 1`,
      `${ME}: A: Stage 2`,
      `${ME}: A: Stage 3`,
      `${ME}: A: OPEN SESAME`,
    ],
  },
  {
    name: "repeats: a packet the door's TCPFlags rejects is ignored in both modes",
    config: "[F]\nsequence = 7000,8000\ntcpflags = syn,!ack\n",
    steps: [k(100, "7000"), k(100, "7000", { flags: SYNACK }), k(101, "8000")],
    expect: [`${ME}: F: Stage 1`, `${ME}: F: Stage 2`, `${ME}: F: OPEN SESAME`],
  },
  // Flag steps (docs/FLAG-KNOCKING.md): several hits on one port told apart by their flags.
  {
    name: "flag steps: one port, told apart by flags (tportknockd's SSH2 example)",
    config: FLAGS110,
    steps: [
      k(100, "110", { flags: 0x3f }),
      k(100, "110", { flags: 0x28 }),
      k(100, "110", { flags: 0x28 }),
      k(101, "110", { flags: 0 }),
      k(101, "110", { flags: ACK }),
    ],
    expect: [
      `${ME}: S: Stage 1`,
      `${ME}: S: Stage 2`,
      `${ME}: S: Stage 3`,
      `${ME}: S: Stage 4`,
      `${ME}: S: Stage 5`,
      `${ME}: S: OPEN SESAME`,
    ],
  },
  {
    name: "flag steps: a wrong flag on the right port invalidates",
    config: FLAGS110,
    steps: [
      k(100, "110", { flags: 0x3f }),
      k(100, "110", { flags: SYN }),
      k(100, "110", { flags: 0x28 }),
      k(100, "110", { flags: 0x28 }),
      k(101, "110", { flags: 0 }),
      k(101, "110", { flags: SYN }),
    ],
    expect: [`${ME}: S: Stage 1`],
  },
  {
    name: "flag steps: the first step's flags decide whether an attempt starts",
    config: FLAGS110,
    steps: [k(100, "110", { flags: SYN }), k(100, "110", { flags: 0x3e })],
    expect: [],
  },
  {
    name: "flag steps: ECE and CWR are not compared (an ECN SYN is a syn step)",
    config: "[E]\nsequence = 7000:tcp:syn,8000:tcp:syn\n",
    steps: [k(100, "7000", { flags: 0xc2 }), k(100, "8000", { flags: 0x42 })],
    expect: [`${ME}: E: Stage 1`, `${ME}: E: Stage 2`, `${ME}: E: OPEN SESAME`],
  },
  {
    name: "flag steps: a retransmitted flag step is ignored, the same port with other flags is not",
    config: FLAGS110,
    debug: true,
    steps: [
      k(100, "110", { flags: 0x3f }),
      k(100, "110", { flags: 0x3f }),
      k(100, "110", { flags: 0x28 }),
      k(100, "110", { flags: 0x28 }),
      k(100, "110", { flags: 0x28 }),
      k(101, "110", { flags: 0 }),
      k(101, "110", { flags: ACK }),
    ],
    expect: [`${ME}: S: Stage 1`, `D removing failed knock attempt (${ME})`],
    defaultExpect: [
      `${ME}: S: Stage 1`,
      `D ignoring repeated knock 110:tcp:fin+syn+rst+psh+ack+urg (${ME}) for door S at stage 1`,
      `${ME}: S: Stage 2`,
      `${ME}: S: Stage 3`,
      `D ignoring repeated knock 110:tcp:psh+urg (${ME}) for door S at stage 3`,
      `${ME}: S: Stage 4`,
      `${ME}: S: Stage 5`,
      `${ME}: S: OPEN SESAME`,
    ],
  },
  {
    name: "flag steps: a step with flags replaces the door's TCPFlags, a step without keeps them",
    config: "[G]\nsequence = 7000:tcp:fin,8000\ntcpflags = syn\n",
    steps: [
      k(100, "7000", { flags: 0x01 }),
      k(100, "8000", { flags: ACK }),
      k(101, "8000", { flags: SYN }),
    ],
    expect: [`${ME}: G: Stage 1`, `${ME}: G: Stage 2`, `${ME}: G: OPEN SESAME`],
  },
  {
    name:
      "a knock on another door's first port only kills the live attempts; the other door does not start",
    config: "[A]\nsequence = 7000,8000,9000\n[B]\nsequence = 7000,8000,9001\n" +
      "[C]\nsequence = 8000:udp,9000:udp\n",
    steps: [
      k(100, "7000"),
      k(100, "8000:udp"),
      k(101, "8000:udp"),
      k(101, "9000:udp"),
    ],
    expect: [
      `${ME}: A: Stage 1`,
      `${ME}: B: Stage 1`,
      `${ME}: C: Stage 1`,
      `${ME}: C: Stage 2`,
      `${ME}: C: OPEN SESAME`,
    ],
  },
  {
    name:
      "traffic to a port no door uses never reaches the state machine (7000,1234,8000,9000 opens)",
    config: ABC,
    steps: [k(100, "7000"), k(100, "1234"), k(100, "1234:udp"), k(101, "8000"), k(102, "9000")],
    expect: [
      `${ME}: A: Stage 1`,
      `${ME}: A: Stage 2`,
      `${ME}: A: Stage 3`,
      `${ME}: A: OPEN SESAME`,
    ],
  },
  {
    name:
      "wrong TCP flags admitted through another door are ignored by the door, which still opens",
    config: "[A]\nsequence = 7000,8000,9000\ntcpflags = syn\n[D]\nsequence = 8000,5000\n",
    debug: true,
    steps: [k(100, "7000"), k(100, "8000", { flags: ACK }), k(101, "8000"), k(102, "9000")],
    expect: [
      `${ME}: A: Stage 1`,
      "D packet is not SYN, ignoring...",
      `${ME}: A: Stage 2`,
      `${ME}: A: Stage 3`,
      `${ME}: A: OPEN SESAME`,
    ],
  },
  {
    name: "wrong TCP flags that no door admits are invisible (no debug line either)",
    config: "[A]\nsequence = 7000,8000,9000\ntcpflags = syn\n",
    debug: true,
    steps: [k(100, "7000"), k(100, "8000", { flags: ACK }), k(101, "8000"), k(102, "9000")],
    expect: [
      `${ME}: A: Stage 1`,
      `${ME}: A: Stage 2`,
      `${ME}: A: Stage 3`,
      `${ME}: A: OPEN SESAME`,
    ],
  },
  {
    name: "!ack means the bit must be clear: a SYN+ACK is ignored by a syn,!ack door",
    config: "[A]\nsequence = 7000,8000\ntcpflags = syn,!ack\n[D]\nsequence = 8000,5000\n",
    debug: true,
    steps: [k(100, "7000"), k(100, "8000", { flags: SYNACK }), k(101, "8000")],
    expect: [
      `${ME}: A: Stage 1`,
      "D packet is not !ACK, ignoring...",
      `${ME}: A: Stage 2`,
      `${ME}: A: OPEN SESAME`,
    ],
  },
  {
    name: "a failing flag test is reported for every door with constraints, whatever the port",
    config: "[A]\nsequence = 7000,8000\ntcpflags = syn\n[B]\nsequence = 6000,8000\n" +
      "tcpflags = ack\n[C]\nsequence = 7000\n",
    debug: true,
    steps: [k(100, "7000", { flags: 0 })],
    expect: [
      "D packet is not SYN, ignoring...",
      "D packet is not ACK, ignoring...",
      `${ME}: C: Stage 1`,
      `${ME}: C: OPEN SESAME`,
    ],
  },
  {
    name:
      "the right port with the wrong protocol invalidates (UDP 8000 where TCP 8000 was expected)",
    config: ABC + "[C]\nsequence = 8000:udp,9000:udp\n",
    steps: [k(100, "7000"), k(100, "8000:udp"), k(101, "8000"), k(102, "9000")],
    expect: [`${ME}: A: Stage 1`],
  },
  {
    name: "a TCP packet to a port the door lists only as UDP is invisible without another door",
    config: "[M]\nsequence = 2222:udp,3333:tcp,4444:udp\ntcpflags = syn,!ack\n",
    steps: [k(100, "2222:udp"), k(100, "3333"), k(101, "4444"), k(101, "4444:udp")],
    expect: [
      `${ME}: M: Stage 1`,
      `${ME}: M: Stage 2`,
      `${ME}: M: Stage 3`,
      `${ME}: M: OPEN SESAME`,
    ],
  },
  {
    name: "UDP packets always satisfy TCPFlags",
    config: "[U]\nsequence = 5000:udp,6000:udp\ntcpflags = syn,!ack\n",
    steps: [k(100, "5000:udp"), k(101, "6000:udp")],
    expect: [`${ME}: U: Stage 1`, `${ME}: U: Stage 2`, `${ME}: U: OPEN SESAME`],
  },
  {
    name: "a UDP-only door with TCPFlags ignores (not fails on) TCP packets of the wrong flags",
    config: "[U]\nsequence = 5000:udp,6000:udp\ntcpflags = syn\n[T]\nsequence = 6000,1\n",
    debug: true,
    steps: [k(100, "5000:udp"), k(100, "6000", { flags: ACK }), k(101, "6000:udp")],
    expect: [
      `${ME}: U: Stage 1`,
      "D packet is not SYN, ignoring...",
      `${ME}: U: Stage 2`,
      `${ME}: U: OPEN SESAME`,
    ],
  },
  {
    name: "a late knock first times out the old attempt, then starts a new one",
    config: "[A]\nsequence = 7000,8000\nseq_timeout = 1\n",
    steps: [k(100, "7000"), k(102, "7000")],
    expect: [`${ME}: A: Stage 1`, `${ME}: A: sequence timeout (stage 1)`, `${ME}: A: Stage 1`],
  },
  {
    name: "seq_timeout uses >= on whole seconds: a knock at +4 s advances, at +5 s times out",
    config: ABC,
    steps: [k(100, "7000"), k(104, "8000"), k(105, "9000")],
    expect: [`${ME}: A: Stage 1`, `${ME}: A: Stage 2`, `${ME}: A: sequence timeout (stage 2)`],
  },
  {
    name: "seq_timeout runs from the first knock, not the last",
    config: ABC,
    steps: [k(100, "7000"), k(103, "8000"), k(105, "9000"), k(105, "7000")],
    expect: [
      `${ME}: A: Stage 1`,
      `${ME}: A: Stage 2`,
      `${ME}: A: sequence timeout (stage 2)`,
      `${ME}: A: Stage 1`,
    ],
  },
  {
    name: "seq_timeout 0 expires the attempt on the next packet, even in the same second",
    config: "[A]\nsequence = 7000,8000\nseq_timeout = 0\n",
    steps: [k(100, "7000"), k(100, "8000")],
    expect: [`${ME}: A: Stage 1`, `${ME}: A: sequence timeout (stage 1)`],
  },
  {
    name: "a negative seq_timeout behaves like 0",
    config: "[A]\nsequence = 7000,8000\nseq_timeout = -3\n",
    steps: [k(100, "7000"), k(100, "8000"), k(100, "7000")],
    expect: [`${ME}: A: Stage 1`, `${ME}: A: sequence timeout (stage 1)`, `${ME}: A: Stage 1`],
  },
  {
    name: "tick() reports a timeout on an idle link at most one second after a packet would",
    config: ABC,
    steps: [k(100, "7000"), { tick: 104 }, { tick: 105 }, { tick: 106 }, k(106, "8000")],
    expect: [`${ME}: A: Stage 1`, `${ME}: A: sequence timeout (stage 1)`],
  },
  {
    name: "a tick at the deadline, then a packet captured at deadline-1 still advances",
    config: ABC,
    steps: [k(100, "7000"), k(101, "8000"), { tick: 105 }, k(104, "9000")],
    expect: [
      `${ME}: A: Stage 1`,
      `${ME}: A: Stage 2`,
      `${ME}: A: Stage 3`,
      `${ME}: A: OPEN SESAME`,
    ],
  },
  {
    name: "after the tick one second past the deadline, a packet from deadline-1 is too late",
    config: ABC,
    steps: [k(100, "7000"), k(101, "8000"), { tick: 106 }, k(104, "9000")],
    expect: [`${ME}: A: Stage 1`, `${ME}: A: Stage 2`, `${ME}: A: sequence timeout (stage 2)`],
  },
  {
    name: "an unrelated packet from another source sweeps timeouts before its own match",
    config: ABC,
    steps: [
      k(100, "7000"),
      k(101, "7000", { src: "127.0.0.72" }),
      k(107, "7000", { src: "10.9.9.9" }),
    ],
    expect: [
      `${ME}: A: Stage 1`,
      "127.0.0.72: A: Stage 1",
      `${ME}: A: sequence timeout (stage 1)`,
      "127.0.0.72: A: sequence timeout (stage 1)",
      "10.9.9.9: A: Stage 1",
    ],
  },
  {
    name: "timeouts of doors with different seq_timeout are reported in attempt creation order",
    config: "[X]\nsequence = 7000,8000\nseq_timeout = 10\n[Y]\nsequence = 6000,8000\n" +
      "seq_timeout = 3\n",
    steps: [k(95, "7000", { src: "127.0.0.5" }), k(100, "6000", { src: "127.0.0.6" }), {
      tick: 106,
    }],
    expect: [
      "127.0.0.5: X: Stage 1",
      "127.0.0.6: Y: Stage 1",
      "127.0.0.5: X: sequence timeout (stage 1)",
      "127.0.0.6: Y: sequence timeout (stage 1)",
    ],
  },
  {
    name:
      "shared prefixes advance together; the diverging knock opens one door and kills the other",
    config: "[A]\nsequence = 7000,8000,9000\n[B]\nsequence = 7000,8000,9001\n",
    debug: true,
    steps: [k(100, "7000"), k(100, "8000"), k(101, "9001"), k(102, "7000")],
    expect: [
      `${ME}: A: Stage 1`,
      `${ME}: B: Stage 1`,
      `${ME}: A: Stage 2`,
      `${ME}: B: Stage 2`,
      `${ME}: B: Stage 3`,
      `${ME}: B: OPEN SESAME`,
      `D removing failed knock attempt (${ME})`,
      `D removing successful knock attempt (${ME})`,
      `${ME}: A: Stage 1`,
      `${ME}: B: Stage 1`,
    ],
  },
  {
    name: "two doors with identical sequences both open on one packet, in door order",
    config: "[A]\nsequence = 7000,8000\n[B]\nsequence = 7000,8000\n",
    steps: [k(100, "7000"), k(100, "8000")],
    expect: [
      `${ME}: A: Stage 1`,
      `${ME}: B: Stage 1`,
      `${ME}: A: Stage 2`,
      `${ME}: A: OPEN SESAME`,
      `${ME}: B: Stage 2`,
      `${ME}: B: OPEN SESAME`,
    ],
  },
  {
    name: "attempts of one source started by different packets progress in creation order",
    config: "[A]\nsequence = 7000,8000,9000\n[T]\nsequence = 7000,8000\ntarget = 127.0.0.2\n" +
      "[L]\nsequence = 8000,9000\ntarget = 127.0.0.2\n",
    local: ["127.0.0.1"],
    steps: [
      // T starts first (A's target test fails: 127.0.0.2 is not local yet), then A; once
      // 127.0.0.2 is local too, one knock to it advances both, in creation order (T before A,
      // unlike config order), and L cannot start while they live.
      k(100, "7000", { dst: "127.0.0.2" }),
      k(100, "7000"),
      { setLocalAddresses: ["127.0.0.1", "127.0.0.2"] },
      k(101, "8000", { dst: "127.0.0.2" }),
    ],
    expect: [
      `${ME}: T: Stage 1`,
      `${ME}: A: Stage 1`,
      `${ME}: T: Stage 2`,
      `${ME}: T: OPEN SESAME`,
      `${ME}: A: Stage 2`,
    ],
  },
  {
    name: "single-knock doors fire on every matching packet",
    config: "[M]\nsequence = 19132:udp\n",
    steps: [k(100, "19132:udp"), k(100, "19132:udp"), k(101, "19132:udp")],
    expect: [
      `${ME}: M: Stage 1`,
      `${ME}: M: OPEN SESAME`,
      `${ME}: M: Stage 1`,
      `${ME}: M: OPEN SESAME`,
      `${ME}: M: Stage 1`,
      `${ME}: M: OPEN SESAME`,
    ],
  },
  {
    name: "after success the next knock starts fresh (no cooldown)",
    config: "[A]\nsequence = 7000,8000\n",
    steps: [k(100, "7000"), k(100, "8000"), k(100, "7000"), k(100, "8000")],
    expect: [
      `${ME}: A: Stage 1`,
      `${ME}: A: Stage 2`,
      `${ME}: A: OPEN SESAME`,
      `${ME}: A: Stage 1`,
      `${ME}: A: Stage 2`,
      `${ME}: A: OPEN SESAME`,
    ],
  },
  {
    name: "removing the oldest attempt keeps the others (B1 fixed: .32 opens, .33 still opens)",
    config: ABC,
    steps: [
      k(100, "7000", { src: "127.0.0.32" }),
      k(100, "7000", { src: "127.0.0.33" }),
      k(101, "8000", { src: "127.0.0.32" }),
      k(101, "9000", { src: "127.0.0.32" }),
      k(102, "7000", { src: "127.0.0.34" }),
      k(102, "8000", { src: "127.0.0.33" }),
      k(103, "9000", { src: "127.0.0.33" }),
    ],
    expect: [
      "127.0.0.32: A: Stage 1",
      "127.0.0.33: A: Stage 1",
      "127.0.0.32: A: Stage 2",
      "127.0.0.32: A: Stage 3",
      "127.0.0.32: A: OPEN SESAME",
      "127.0.0.34: A: Stage 1",
      "127.0.0.33: A: Stage 2",
      "127.0.0.33: A: Stage 3",
      "127.0.0.33: A: OPEN SESAME",
    ],
  },
  {
    name: "a door whose first port lies inside another door's sequence cannot start during it",
    config: ABC + "[E]\nsequence = 8000,6000\n",
    steps: [k(100, "7000"), k(100, "8000"), k(101, "6000"), k(101, "8000"), k(101, "6000")],
    expect: [
      `${ME}: A: Stage 1`,
      `${ME}: A: Stage 2`,
      `${ME}: E: Stage 1`,
      `${ME}: E: Stage 2`,
      `${ME}: E: OPEN SESAME`,
    ],
  },
  {
    name: "the source port is ignored: attempts are keyed by source address",
    config: ABC,
    steps: [
      k(100, "7000", { srcPort: 1 }),
      k(100, "8000", { srcPort: 2 }),
      k(100, "9000", { srcPort: 3 }),
    ],
    expect: [
      `${ME}: A: Stage 1`,
      `${ME}: A: Stage 2`,
      `${ME}: A: Stage 3`,
      `${ME}: A: OPEN SESAME`,
    ],
  },
  {
    name: "knocks may alternate between the interface's addresses",
    config: ABC,
    local: ["127.0.0.1", "127.0.0.3"],
    steps: [k(100, "7000"), k(100, "8000", { dst: "127.0.0.3" }), k(100, "9000")],
    expect: [
      `${ME}: A: Stage 1`,
      `${ME}: A: Stage 2`,
      `${ME}: A: Stage 3`,
      `${ME}: A: OPEN SESAME`,
    ],
  },
  {
    name: "knocks to an address that is not local are invisible",
    config: ABC,
    steps: [k(100, "7000"), k(100, "7000", { dst: "127.0.0.9" }), k(100, "8000"), k(100, "9000")],
    expect: [
      `${ME}: A: Stage 1`,
      `${ME}: A: Stage 2`,
      `${ME}: A: Stage 3`,
      `${ME}: A: OPEN SESAME`,
    ],
  },
  {
    name: "IPv6 knocks open a door like IPv4 ones",
    config: ABC,
    steps: [
      k(100, "7000", { src: "2001:db8::7", dst: "::1" }),
      k(100, "8000", { src: "2001:db8::7", dst: "::1" }),
      k(100, "9000", { src: "2001:db8::7", dst: "::1" }),
    ],
    expect: [
      "2001:db8::7: A: Stage 1",
      "2001:db8::7: A: Stage 2",
      "2001:db8::7: A: Stage 3",
      "2001:db8::7: A: OPEN SESAME",
    ],
  },
  {
    name: "-4 never admits IPv6 packets",
    config: ABC,
    ipv4Only: true,
    steps: [
      k(100, "7000", { src: "2001:db8::7", dst: "::1" }),
      k(100, "8000", { src: "2001:db8::7", dst: "::1" }),
    ],
    expect: [],
  },
  {
    name: "a Target door matches only its target; its attempts do not block local doors",
    config: "[A]\nsequence = 7000,8000\n[T]\nsequence = 7000,8000\ntarget = 192.0.2.9\n",
    steps: [
      k(100, "7000"),
      k(100, "7000", { dst: "192.0.2.9" }),
      k(100, "8000"),
      k(100, "8000", { dst: "192.0.2.9" }),
    ],
    expect: [
      `${ME}: A: Stage 1`,
      `${ME}: T: Stage 1`,
      `${ME}: A: Stage 2`,
      `${ME}: A: OPEN SESAME`,
      `${ME}: T: Stage 2`,
      `${ME}: T: OPEN SESAME`,
    ],
  },
  {
    name: "a Target that is not a canonical IP literal never matches (string compare)",
    config:
      "[T]\nsequence = 7000\ntarget = 192.0.2.009\n[H]\nsequence = 7000\ntarget = localhost\n",
    steps: [k(100, "7000", { dst: "192.0.2.9" }), k(100, "7000", { dst: "127.0.0.1" })],
    expect: [],
  },
  {
    name: "an IPv6 Target literal is canonicalised before the string compare (B24 fix)",
    config: "[T]\nsequence = 7000,8000\ntarget = 2001:DB8:0:0::9\n",
    steps: [
      k(100, "7000", { src: "2001:db8::7", dst: "2001:db8::9" }),
      k(100, "8000", { src: "2001:db8::7", dst: "2001:db8::9" }),
    ],
    expect: ["2001:db8::7: T: Stage 1", "2001:db8::7: T: Stage 2", "2001:db8::7: T: OPEN SESAME"],
  },
  {
    name: "a Target is in every sub-filter: UDP to an IPv4 target passes with only IPv6 local",
    config: "[T]\nsequence = 5000:udp\ntarget = 192.0.2.9\n",
    local: ["::1"],
    steps: [k(100, "5000:udp", { dst: "192.0.2.9" })],
    expect: [`${ME}: T: Stage 1`, `${ME}: T: OPEN SESAME`],
  },
  {
    name: "a TCPFlags Target door admits no TCP of a family without a local address",
    config: "[T]\nsequence = 5000\ntarget = 192.0.2.9\ntcpflags = syn\n",
    local: ["::1"],
    steps: [k(100, "5000", { dst: "192.0.2.9" })],
    expect: [],
  },
  {
    name: "with no local address knockd installs no filter: any packet to the target invalidates",
    config: "[T]\nsequence = 7000,8000\ntarget = 192.0.2.9\n",
    local: [],
    steps: [
      k(100, "7000", { dst: "192.0.2.9" }),
      k(100, "1234:udp", { dst: "192.0.2.9" }),
      k(100, "8000", { dst: "192.0.2.9" }),
    ],
    expect: [`${ME}: T: Stage 1`],
  },
  {
    name: "with no local address a door without Target never matches",
    config: ABC,
    local: [],
    steps: [k(100, "7000")],
    expect: [],
  },
  {
    name: "new local addresses take effect at once",
    config: ABC,
    local: [],
    steps: [k(100, "7000"), { setLocalAddresses: ["127.0.0.1"] }, k(100, "7000")],
    expect: [`${ME}: A: Stage 1`],
  },
  {
    name: "one-time rotation: another source continues against the new sequence at its stage index",
    config: ABC,
    steps: [
      k(100, "7000", { src: "127.0.0.5" }),
      k(100, "7000"),
      k(100, "8000"),
      k(100, "9000"),
      { setSequence: [0, "1001,1002,1003"] },
      k(101, "8000", { src: "127.0.0.5" }),
      k(101, "1002", { src: "127.0.0.5" }),
      k(101, "1003", { src: "127.0.0.5" }),
    ],
    expect: [
      "127.0.0.5: A: Stage 1",
      `${ME}: A: Stage 1`,
      `${ME}: A: Stage 2`,
      `${ME}: A: Stage 3`,
      `${ME}: A: OPEN SESAME`,
      "127.0.0.5: A: Stage 2",
      "127.0.0.5: A: Stage 3",
      "127.0.0.5: A: OPEN SESAME",
    ],
  },
  {
    name: "one-time rotation to a shorter sequence drops attempts already past its length",
    config: ABC,
    debug: true,
    steps: [
      k(100, "7000"),
      k(100, "8000"),
      { setSequence: [0, "1001,1002"] },
      k(101, "1001"),
    ],
    expect: [
      `${ME}: A: Stage 1`,
      `${ME}: A: Stage 2`,
      `D removing successful knock attempt (${ME})`,
      `${ME}: A: Stage 1`,
    ],
  },
  {
    name: "a disabled door admits and matches nothing and loses its attempts",
    config: ABC + "[B]\nsequence = 6000,8000\n",
    steps: [
      k(100, "7000"),
      { setSequence: [0, null] },
      k(100, "8000"),
      k(100, "7000"),
      k(100, "6000"),
      { tick: 200 },
    ],
    expect: [`${ME}: A: Stage 1`, `${ME}: B: Stage 1`, `${ME}: B: sequence timeout (stage 1)`],
  },
];

function render(event: MatchEvent): string {
  switch (event.kind) {
    case "stage":
      return `${event.src}: ${event.door.name}: Stage ${event.stage}`;
    case "open":
      return `${event.src}: ${event.door.name}: OPEN SESAME`;
    case "timeout":
      return `${event.src}: ${event.door.name}: sequence timeout (stage ${event.stage})`;
    case "debug":
      return `D ${event.message}`;
  }
}

function sequence(text: string): Knock[] {
  return text.split(",").map((s) => ({ port: Number(s), protocol: "tcp" as const }));
}

function run(c: Case, debug: boolean, strict: boolean): string[] {
  const parsed = parseConfig(c.config);
  if (!parsed.ok) throw new Error(`Cannot parse config of "${c.name}": ${parsed.error.message}`);
  const matcher = new Matcher(parsed.config.doors, {
    localAddresses: c.local ?? ["127.0.0.1", "::1"],
    ipv4Only: c.ipv4Only ?? false,
    debug,
    strict,
  });
  const out: string[] = [];
  for (const step of c.steps) {
    let events: readonly MatchEvent[] = [];
    if ("tick" in step) events = matcher.tick(step.tick);
    else if ("setSequence" in step) {
      const [index, text] = step.setSequence;
      matcher.setSequence(index, text === null ? null : sequence(text));
    } else if ("setLocalAddresses" in step) matcher.setLocalAddresses(step.setLocalAddresses);
    else events = matcher.handle(step);
    for (const event of events) {
      if (event.kind === "debug" && !debug) {
        throw new Error(`Cannot run case "${c.name}": debug event without debug: ${event.message}`);
      }
      if (event.kind !== "debug" || c.debug) out.push(render(event));
    }
  }
  return out;
}

const names = new Set<string>();
for (const c of cases) {
  if (names.has(c.name)) throw new Error(`Cannot register case "${c.name}": duplicate name`);
  names.add(c.name);
  Deno.test(`matcher: ${c.name}`, () => {
    for (const strict of [true, false]) {
      const want = strict ? c.expect : c.defaultExpect ?? c.expect;
      const mode = strict ? "strict" : "default";
      assert.deepEqual(run(c, true, strict), want, `${mode}, with debug`);
      const quiet = c.debug ? want.filter((line) => !line.startsWith("D ")) : want;
      assert.deepEqual(run(c, false, strict), quiet, `${mode}, without debug`);
    }
  });
}

Deno.test("matcher: events carry the door, its index and the packet family", () => {
  const parsed = parseConfig("[A]\nsequence = 1\n[B]\nsequence = 7000,8000\nseq_timeout = 2\n");
  assert.ok(parsed.ok);
  const doors = parsed.config.doors;
  const matcher = new Matcher(doors, { localAddresses: ["::1"] });
  const v6 = { src: "2001:db8::1", dst: "::1" };
  assert.deepEqual(matcher.handle(k(10, "7000", v6)), [
    { kind: "stage", door: doors[1], doorIndex: 1, src: "2001:db8::1", family: 6, stage: 1 },
  ]);
  assert.deepEqual(matcher.tick(13), [
    { kind: "timeout", door: doors[1], doorIndex: 1, src: "2001:db8::1", family: 6, stage: 1 },
  ]);
});
