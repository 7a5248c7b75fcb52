import assert from "node:assert/strict";
import { lintConfig, type StartOverlap, startOverlaps } from "./lint.ts";
import type { Config, Door } from "./model.ts";
import { parseConfig } from "./parse.ts";

function lint(text: string): string[] {
  const r = parseConfig(text);
  assert(r.ok, r.ok ? "" : r.error.message);
  return lintConfig(r.config).map((w) => `${w.line}: ${w.message}`);
}

Deno.test("lintConfig: a clean config has no warnings", () => {
  assert.deepEqual(
    lint(
      "[a]\nsequence=9000,7000,8000:udp\nseq_timeout=5\ncommand=x\nstop_command=y\ntarget=192.0.2.1\n",
    ),
    [],
  );
});

Deno.test("lintConfig: ascending sequence", () => {
  assert.deepEqual(lint("[options]\nUseSyslog\n[a]\nsequence=7000,8000,9000\n"), [
    `4: Door "a": sequence 7000:tcp,8000:tcp,9000:tcp is in ascending order, so a sequential port scan completes it`,
  ]);
  // Mixed protocols, a repeat, or a single knock are not what a port scan produces.
  assert.deepEqual(lint("[a]\nsequence=7000,8000:udp\n[b]\nsequence=1,1,2\n[c]\nsequence=5\n"), []);
});

Deno.test("lintConfig: timeouts", () => {
  assert.deepEqual(lint("[a]\nsequence=2,1\nseq_timeout=0\ncmd_timeout=-1\n"), [
    `3: Door "a": "Seq_Timeout" is 0, so every attempt expires at the next packet and no sequence of more than one knock can complete`,
    `4: Door "a": "Cmd_Timeout" is -1: knockd sleeps practically forever, so the stop command never runs`,
  ]);
});

Deno.test("lintConfig: ports read from junk, empty or out-of-range text", () => {
  assert.deepEqual(lint("[a]\n\nsequence=9, abc,,12x, -1,\n"), [
    `3: Door "a": knock 2 port "abc" is not a number, so knockd reads port 0`,
    `3: Door "a": knock 3 has no port, so knockd reads port 0`,
    `3: Door "a": knock 4 port "12x" is not a number, so knockd reads port 12`,
    `3: Door "a": knock 5 port "-1" is out of range, so knockd wraps it to port 65535`,
    `3: Door "a": knock 6 has no port, so knockd reads port 0`,
  ]);
});

Deno.test("lintConfig: a door whose first knock lies inside another door's sequence", () => {
  assert.deepEqual(lint("[a]\nsequence=9000,8000,7000\n[b]\nsequence=8000,1\n"), [
    `3: Door "b": its first knock 8000:tcp is knock 2 of door "a": this bites only after an unfinished attempt on "a" (a lost or wrong knock), when for up to 25 s (its "Seq_Timeout") that knock breaks the attempt instead of starting this door; a completed or expired attempt leaves nothing in the way`,
  ]);
  // Same port, other protocol: no conflict; shared first knock: both start.
  assert.deepEqual(
    lint("[a]\nsequence=9000,8000,7000\n[b]\nsequence=8000:udp,1\n[c]\nsequence=9000,5\n"),
    [],
  );
});

Deno.test("lintConfig: stop command without start command", () => {
  assert.deepEqual(lint("[a]\nsequence=2,1\nstop_command=x\n"), [
    `1: Door "a": has a stop command but no start command, so the stop command never runs`,
  ]);
  assert.deepEqual(lint("[a]\nsequence=2,1\ncommand_6=\nstart_command=s\nstop_command_6=y\n"), [
    `1: Door "a": has an IPv6 stop command but no IPv6 start command, so it never runs`,
  ]);
});

Deno.test("lintConfig: Target that is no IP literal or not canonical", () => {
  assert.deepEqual(
    lint(
      "[a]\nsequence=2,1\ntarget=not..valid\n[b]\nsequence=2,1\ntarget=192.168.001.002\n" +
        "[c]\nsequence=2,1\ntarget=2001:DB8::1\n[d]\nsequence=2,1\ntarget=2001:db8::1\n",
    ),
    [
      `1: Door "a": "Target" "not..valid" is not an IP address: knockd fails to compile its filter and no knock can match`,
      `4: Door "b": "Target" "192.168.001.002" has a leading zero in an IPv4 part, so it is not an address and no knock can match (write "192.168.1.2")`,
      `7: Door "c": "Target" "2001:DB8::1" is not in canonical form "2001:db8::1": knockd compares it as text and never matches (knocktool matches it)`,
    ],
  );
});

Deno.test("lintConfig: no doors", () => {
  assert.deepEqual(lint("[options]\nUseSyslog\n"), [
    "undefined: Config defines no doors: no knock can open anything",
  ]);
});

const config = (doors: readonly Door[]): Config => ({ options: { useSyslog: false }, doors });

/** A door built directly (no parsing) whose `sequence` reads are counted in `reads`. */
function countedDoor(
  name: string,
  ports: readonly [number, "tcp" | "udp"][],
  reads: Map<string, number>,
): Door {
  const sequence = ports.map(([port, protocol]) => ({ port, protocol }));
  return {
    name,
    line: 1,
    seqTimeout: 25,
    cmdTimeout: 10,
    tcpFlags: {},
    get sequence() {
      reads.set(name, (reads.get(name) ?? 0) + 1);
      return sequence;
    },
  };
}

/** The pairwise definition of the overlap warning, for comparison with the indexed helper. */
function pairwiseOverlaps(doors: readonly Door[]): (StartOverlap | undefined)[] {
  return doors.map((door) => {
    const first = door.sequence[0];
    if (first === undefined) return undefined;
    for (const other of doors) {
      if (other === door) continue;
      const at = other.sequence.findIndex((k, i) =>
        i > 0 && k.port === first.port && k.protocol === first.protocol
      );
      if (at > 0) return { other, at };
    }
    return undefined;
  });
}

Deno.test("startOverlaps: the indexed search equals the pairwise definition", () => {
  let seed = 7;
  const rnd = (m: number) => {
    seed = (Math.imul(seed, 48271) + 11) >>> 0;
    return (seed >>> 8) % m;
  };
  const reads = new Map<string, number>();
  for (let round = 0; round < 20; round++) {
    // Few ports, short sequences with repeats, an empty door, a door listed twice.
    const doors: Door[] = [];
    for (let i = 0; i < 40; i++) {
      const ports = Array.from(
        { length: rnd(5) },
        () => [1 + rnd(6), rnd(3) === 0 ? "udp" : "tcp"] as [number, "tcp" | "udp"],
      );
      doors.push(countedDoor(`d${i}`, ports, reads));
    }
    doors.push(doors[rnd(doors.length)]!);
    const want = pairwiseOverlaps(doors);
    const got = startOverlaps(doors);
    assert.equal(got.length, doors.length);
    got.forEach((g, i) => {
      assert.equal(g?.other.name, want[i]?.other.name, `door ${i} of round ${round}`);
      assert.equal(g?.at, want[i]?.at, `door ${i} of round ${round}`);
    });
    assert(want.some((w) => w !== undefined) && want.some((w) => w === undefined));
  }
});

Deno.test("lintConfig: reads each door's sequence a number of times independent of the door count", () => {
  // A pairwise overlap search reads every other door's sequence once per door (n reads each).
  const maxReads = (n: number) => {
    const reads = new Map<string, number>();
    // Distinct ports: no door's first knock is in another door, the worst case for a scan.
    const doors = Array.from(
      { length: n },
      (_, i) => countedDoor(`d${i}`, [[2 * i + 1, "tcp"], [2 * i, "tcp"]], reads),
    );
    const warnings = lintConfig(config(doors));
    assert.deepEqual(warnings, []);
    return Math.max(...reads.values());
  };
  const small = maxReads(3);
  assert(small <= 6, `${small} reads`);
  assert.equal(maxReads(3000), small);
});

Deno.test("lintConfig: the overlap warning on 60,000 doors", () => {
  // Door i starts at knock 2 of door i - 1; door 0 overlaps nothing. Pairwise this is
  // 3.6 * 10^9 comparisons; from the index it is one pass.
  const n = 60_000;
  const doors: Door[] = Array.from({ length: n }, (_, i) => ({
    name: `d${i}`,
    line: i + 1,
    seqTimeout: 25,
    cmdTimeout: 10,
    tcpFlags: {},
    sequence: [{ port: 65000 - i, protocol: "udp" }, { port: 64999 - i, protocol: "udp" }],
  }));
  const w = lintConfig(config(doors));
  assert.equal(w.length, n - 1);
  assert.equal(
    w[n - 2]?.message,
    `Door "d${n - 1}": its first knock ${65001 - n}:udp is knock 2 of door "d${
      n - 2
    }": this bites only after an unfinished attempt on "d${
      n - 2
    }" (a lost or wrong knock), when for up to 25 s (its "Seq_Timeout") that knock breaks the attempt instead of starting this door; a completed or expired attempt leaves nothing in the way`,
  );
  assert(w.every((x, i) => x.door === `d${i + 1}` && x.line === i + 2));
});

Deno.test("lintConfig: a third field that is not TCP flags is ignored, with a warning", () => {
  const r = parseConfig("[a]\nsequence = 9000:tcp:syb,2:udp:syn\n");
  assert(r.ok);
  assert.deepEqual(lintConfig(r.config).map((w) => `${w.line}: ${w.message}`), [
    `2: Door "a": knock 1 9000:tcp has "syb" after its protocol, which is ignored as knockd ignores it: it is not TCP flags (write them like "syn", "fin+psh+urg", "none" or "any")`,
    `2: Door "a": knock 2 2:udp has "syn" after its protocol, which is ignored as knockd ignores it: a UDP step has no TCP flags`,
  ]);
});

Deno.test("lintConfig: TCPFlags a bare SYN cannot pass, once, at the TCPFlags line", () => {
  assert.deepEqual(lint("[a]\nsequence=2,1\ntcpflags=syn\ntcpflags=ack\n"), [
    `4: Door "a": "TCPFlags = syn,ack" rejects a bare SYN, so knock, nc, curl, nmap -sT and every other connect()-based client can never complete its TCP knocks (only raw packets with those flags can)`,
  ]);
  assert.deepEqual(lint("[a]\nsequence=2,1\ntcpflags=!syn\n").length, 1);
  // syn, syn,!ack and UDP-only or flag-step doors are fine.
  assert.deepEqual(lint("[a]\nsequence=2,1\ntcpflags=syn,!ack,!rst\n"), []);
  assert.deepEqual(lint("[a]\nsequence=2:udp,1:udp\ntcpflags=ack\n"), []);
  assert.deepEqual(lint("[a]\nsequence=2:tcp:ack,1:tcp:ack\ntcpflags=ack\n"), []);
});

Deno.test("lintConfig: two doors with the identical sequence, once, at the second's line", () => {
  assert.deepEqual(
    lint(
      "[open]\nsequence=7000,9000,8000\n[close]\nsequence = 7000,9000,8000\n[x]\nsequence=7000,9000,8000\ntarget=192.0.2.1\n",
    ),
    [
      `4: Door "close": its sequence 7000:tcp,9000:tcp,8000:tcp is the sequence of door "open" (line 2), so one knock opens both and their commands race`,
    ],
  );
});

Deno.test("lintConfig: an empty or quoted Interface, at its line", () => {
  assert.deepEqual(lint('[options]\ninterface = ""\n[a]\nsequence=2,1\n'), [
    `2: "Interface" is "\\"\\"", quotes included: knockd keeps them and cannot open an interface of that name (write the name without quotes, or remove the line for "eth0")`,
  ]);
  assert.deepEqual(lint("[options]\n\ninterface =\n[a]\nsequence=2,1\n"), [
    `3: "Interface" is empty, so knockd (and knocktool) listen on the default "eth0": name the interface or remove the line`,
  ]);
  assert.deepEqual(lint("[options]\ninterface = eth1\n[a]\nsequence=2,1\n"), []);
});
