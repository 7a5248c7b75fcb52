import assert from "node:assert/strict";
import { lintConfig } from "./lint.ts";
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
    `4: Door "a": sequence 7000/tcp,8000/tcp,9000/tcp is in ascending order, so a sequential port scan completes it`,
  ]);
  // Mixed protocols, a repeat, or a single knock are not what a port scan produces.
  assert.deepEqual(lint("[a]\nsequence=7000,8000:udp\n[b]\nsequence=1,1,2\n[c]\nsequence=5\n"), []);
});

Deno.test("lintConfig: timeouts", () => {
  assert.deepEqual(lint("[a]\nsequence=2,1\nseq_timeout=0\ncmd_timeout=-1\n"), [
    `1: Door "a": "Seq_Timeout" is 0, so every attempt expires at the next packet and no sequence of more than one knock can complete`,
    `1: Door "a": "Cmd_Timeout" is -1: knockd sleeps practically forever, so the stop command never runs`,
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
    `3: Door "b": its first knock 8000/tcp is knock 2 of door "a", so it cannot start while that door has an attempt in progress from the same source`,
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
