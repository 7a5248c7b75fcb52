import assert from "node:assert/strict";
import { parseConfig, type ParseResult } from "./parse.ts";
import type { Config, Door } from "./model.ts";

function ok(r: ParseResult): Config {
  assert(r.ok, r.ok ? "" : r.error.message);
  return r.config;
}
function door(text: string, i = 0): Door {
  const d = ok(parseConfig(text)).doors[i];
  assert(d !== undefined);
  return d;
}
function err(text: string): { message: string; knockdText: string; line?: number } {
  const r = parseConfig(text);
  assert(!r.ok, "accepted");
  return r.error;
}
const seq = (d: Door) => d.sequence.map((k) => `${k.port}:${k.protocol}`).join(",");

Deno.test("parseConfig: defaults, aliases and IPv6 fallbacks as written", () => {
  const d = door("[ my door ]\nSequence = 1\nTimeout=3\nCommand=echo a=b # c\nCommand_6=\n");
  assert.equal(d.name, " my door ");
  assert.equal(d.line, 1);
  assert.equal(d.seqTimeout, 3);
  assert.equal(d.cmdTimeout, 10);
  assert.equal(d.startCommand, "echo a=b # c");
  assert.equal(d.startCommand6, "");
  assert.equal("stopCommand6" in d, false);
  const e = door("[e]\nsequence=1\n");
  assert.equal(e.seqTimeout, 25);
  assert.deepEqual(e.tcpFlags, {});
  assert.equal("startCommand" in e, false);
});

Deno.test("parseConfig: atoi semantics of ports and timeouts", () => {
  assert.equal(
    seq(door("[d]\nsequence=abc, -1 ,,  7:UdP , 8 : tcp,\n")),
    "0:tcp,65535:tcp,0:tcp,7:udp,8:tcp,0:tcp",
  );
  assert.equal(
    seq(
      door("[d]\nsequence=-70000,4294967297,9223372036854775808,-9223372036854775809, +5, 0x10\n"),
    ),
    "61072:tcp,1:tcp,65535:tcp,0:tcp,5:tcp,0:tcp",
  );
  assert.equal(seq(door("[d]\nsequence=\n")), "0:tcp");
  assert.equal(seq(door("[d]\nsequence=1:tcp:udp,2:udp:x\n")), "1:tcp,2:udp");
  const t = door("[d]\nsequence=1\nseq_timeout=abc\ncmd_timeout= 12x\n");
  assert.equal(t.seqTimeout, 0);
  assert.equal(t.cmdTimeout, 12);
  assert.deepEqual(door("[d]\nsequence=5,x7\n").portNotes, [
    { index: 1, text: "x7", kind: "junk", port: 0 },
  ]);
  assert.equal("portNotes" in door("[d]\nsequence=5,7\n"), false);
});

Deno.test("parseConfig: flags accumulate, later mention of a flag wins", () => {
  assert.deepEqual(
    door("[a]\nsequence=1\ntcpflags=syn\ntcpflags=!ack,fin\ntcpflags=!syn\n").tcpFlags,
    {
      syn: "clear",
      ack: "clear",
      fin: "set",
    },
  );
});

Deno.test("parseConfig: duplicate keys, sequence replaced, Sequence/One_Time_Sequences order", () => {
  const d = door("[a]\nsequence=1,2,3\nsequence=4\ncommand=first\ncommand=second\n");
  assert.equal(seq(d), "4:tcp");
  assert.equal(d.sequenceLine, 3);
  assert.equal(d.startCommand, "second");
  const load = () => ({ sequence: [{ port: 1001, protocol: "udp" as const }] });
  const a = ok(parseConfig("[a]\none_time_sequences=f\nsequence=5\n", { oneTimeSequences: load }));
  assert.equal(seq(a.doors[0]!), "5:tcp");
  assert.equal(a.doors[0]!.oneTimeSequencesFile, "f");
  const b = ok(parseConfig("[a]\nsequence=5\none_time_sequences=f\n", { oneTimeSequences: load }));
  assert.equal(seq(b.doors[0]!), "1001:udp");
});

Deno.test("parseConfig: a one-time loader's error gets the line and door", () => {
  const r = parseConfig("[a]\n\none_time_sequences=f\n", {
    oneTimeSequences: () => ({ message: "Cannot open it", knockdText: "f: Permission denied" }),
  });
  assert(!r.ok);
  assert.deepEqual(r.error, {
    message: "Cannot open it",
    knockdText: "f: Permission denied",
    line: 3,
    section: "a",
  });
});

Deno.test("parseConfig: options, UseSyslog anywhere, duplicate doors, merged [options]", () => {
  const c = ok(parseConfig(
    "[options]\nlogfile=/a\n[d]\nusesyslog\nsequence=1\n[d]\nsequence=2\n[options]\npidfile=/b\ninterface=eth1\n",
  ));
  assert.deepEqual(c.options, {
    useSyslog: true,
    logFile: "/a",
    pidFile: "/b",
    interface: "eth1",
    interfaceLine: 10,
  });
  assert.deepEqual(c.doors.map((d) => d.name), ["d", "d"]);
  assert.deepEqual(ok(parseConfig("")), { options: { useSyslog: false }, doors: [] });
});

Deno.test("parseConfig: CRLF, tabs, NUL bytes, 4095-byte pieces", () => {
  assert.equal(seq(door("[d]\r\nsequence = 1,2 \r\n\r\n")), "1:tcp,2:tcp");
  assert.equal(door("[a]\nsequence=1\x00junk\ncommand=x\x00y\n").startCommand, "x");
  const long = door("[a]\nsequence=1\ncommand=" + "x".repeat(4087) + "timeout=9\n");
  assert.equal(long.startCommand?.length, 4087);
  assert.equal(long.seqTimeout, 9);
  assert.equal(
    err("[a]\nsequence=1\ncommand=" + "x".repeat(4088) + "\n").knockdText,
    "config: line 4: syntax error",
  );
  // The limit counts UTF-8 bytes: 8 + 2 × 2043 bytes fit, 8 + 2 × 2044 do not.
  const utf = door("[a]\nsequence=1\ncommand=" + "é".repeat(2043) + "\ntimeout=1\n");
  assert.equal(utf.startCommand, "é".repeat(2043));
  assert.equal(
    err("[a]\nsequence=1\ncommand=" + "é".repeat(2044) + "\n").knockdText,
    "config: line 4: syntax error",
  );
});

Deno.test("parseConfig: door names keep 127 bytes", () => {
  const e = err("[" + "n".repeat(300) + "]\n");
  assert.equal(e.knockdText, `error: section '${"n".repeat(127)}' has an empty knock sequence`);
});

Deno.test("parseConfig: error texts", () => {
  assert.deepEqual(err("[a]\nsequence=1\ntcpflags=syn, ack\n"), {
    message:
      `Cannot parse "tcpflags" at line 3: unknown flag " ACK" (expected FIN, SYN, RST, PSH, ACK or URG, each optionally preceded by "!", separated by "," without spaces)`,
    knockdText: `config: line 3: unrecognized flag " ACK"`,
    line: 3,
    section: "a",
  });
  // knockd prints the port as written, with the space after the comma (verified with knockd 0.8).
  assert.deepEqual(err("[ssh]\n Sequence = 7000, 70000:udp\n"), {
    message: `Cannot parse "Sequence" at line 2: port "70000" must be at most 65535`,
    knockdText: "config: section ssh: port  70000 is invalid",
    line: 2,
    section: "ssh",
  });
  assert.equal(err("[a]\n=5\n").message, `Cannot parse line 2: directive name before "=" is empty`);
  assert.equal(err("[]\n").knockdText, "config: line 1: bad section name");
});

Deno.test("parseConfig: KnockdStrict in [options], alone or with yes/no, recorded as an extension", () => {
  const bare = ok(parseConfig("[options]\n  KnockdStrict\n[a]\nsequence=1\n"));
  assert.equal(bare.options.knockdStrict, true);
  assert.deepEqual(bare.extensions, [{ directive: "KnockdStrict", line: 2 }]);
  assert.equal(ok(parseConfig("[options]\nknockdstrict = No\n")).options.knockdStrict, false);
  assert.equal(ok(parseConfig("[options]\nKnockdStrict = yes\n")).options.knockdStrict, true);
  assert.equal(ok(parseConfig("[a]\nsequence=1\n")).options.knockdStrict, undefined);
  assert.deepEqual(err("[options]\nKnockdStrict = maybe\n"), {
    message:
      `Cannot parse "KnockdStrict" at line 2: value "maybe" must be "yes" or "no" (or write "KnockdStrict" alone on its line for "yes")`,
    knockdText: "config: line 2: syntax error",
    line: 2,
  });
  // Only in [options]: in a door it is an unknown directive, as in knockd.
  assert.equal(
    err("[a]\nsequence=1\nKnockdStrict\n").message,
    `Cannot parse line 3: expected "key = value" but found "KnockdStrict"`,
  );
});
