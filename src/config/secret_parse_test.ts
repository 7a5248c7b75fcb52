import assert from "node:assert/strict";
import { parseConfig } from "./parse.ts";

Deno.test("secret directives: a secret door with defaults and with every directive", () => {
  const r = parseConfig(
    "[options]\n State_Dir = /tmp/kt-state\n[a]\n Secret_File = /etc/a.secret\n" +
      "[b]\n secret_ports = 7000-7999\n SECRET_FILE = b.secret\n Secret_Length = 6\n" +
      " Secret_Step = 60\n Secret_Protocols = Both\n",
  );
  assert.ok(r.ok);
  assert.equal(r.config.options.stateDir, "/tmp/kt-state");
  const [a, b] = r.config.doors;
  assert.deepEqual(a?.sequence, []);
  assert.deepEqual(a?.secret, {
    file: "/etc/a.secret",
    line: 4,
    length: 4,
    low: 1024,
    high: 65535,
    step: 30,
    protocols: "tcp",
    directives: ["Secret_File"],
  });
  assert.deepEqual(b?.secret, {
    file: "b.secret",
    line: 7,
    length: 6,
    low: 7000,
    high: 7999,
    step: 60,
    protocols: "both",
    directives: [
      "Secret_Ports",
      "Secret_File",
      "Secret_Length",
      "Secret_Step",
      "Secret_Protocols",
    ],
  });
});

Deno.test("secret directives: errors name the line and the door", () => {
  const cases: [string, string, string][] = [
    [
      "[a]\nSecret_File = s\nSecret_Length = 40\n",
      `Cannot parse "Secret_Length" at line 3: expected a whole number from 1 to 32 (got "40")`,
      "config: line 3: syntax error",
    ],
    [
      "[a]\nSecret_File = s\nSecret_Ports = 9000\n",
      `Cannot parse "Secret_Ports" at line 3: expected "LOW-HIGH" with 1 <= LOW <= HIGH <= 65535 (got "9000")`,
      "config: line 3: syntax error",
    ],
    [
      "[a]\nSecret_File = s\nSecret_Protocols = sctp\n",
      `Cannot parse "Secret_Protocols" at line 3: expected "tcp", "udp" or "both" (got "sctp")`,
      "config: line 3: syntax error",
    ],
    [
      "[a]\nSecret_File =\n",
      `Cannot parse "Secret_File" at line 2: the path is empty`,
      "config: line 2: syntax error",
    ],
    [
      "[a]\nSequence = 1,2\nSecret_Step = 10\n",
      `Cannot load door "a" at line 1: "Secret_Step" at line 3 needs "Secret_File" in the same door`,
      "config: line 3: syntax error",
    ],
    [
      "[a]\nSecret_File = s\nSequence = 1,2\n",
      `Cannot load door "a" at line 1: "Secret_File" at line 2 and the sequence at line 3 exclude each other (a secret door derives its sequence)`,
      "config: line 2: syntax error",
    ],
    [
      "[a]\nSecret_File = s\nSecret_Ports = 7000-7002\n",
      `Cannot load door "a" at line 1: "Secret_Ports" range "7000-7002" has fewer ports than "Secret_Length" (4)`,
      "config: line 2: syntax error",
    ],
    [
      "[options]\nState_Dir =\n",
      `Cannot parse line 2: "State_Dir" needs a directory`,
      "config: line 2: syntax error",
    ],
  ];
  for (const [text, message, knockdText] of cases) {
    const r = parseConfig(text);
    assert.ok(!r.ok, text);
    assert.equal(r.error.message, message);
    assert.equal(r.error.knockdText, knockdText);
  }
});

Deno.test("secret directives: a secret door alone does not switch on grants", async () => {
  const { usesFeature } = await import("./extensions.ts");
  const r = parseConfig("[a]\nSecret_File = /s\n");
  assert.ok(r.ok);
  assert.equal(usesFeature(r.config, "grants"), false);
  assert.equal(usesFeature(r.config, "secret sequences"), true);
});
