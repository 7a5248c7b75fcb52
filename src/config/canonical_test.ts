import assert from "node:assert/strict";
// Targets are canonicalised with the wire parser (inet_pton rules), the same one the matcher
// and the capture filter use, so a Target the filter admits is one the matcher can match.
import { canonicalAddress as canonicalIp } from "../wire/address.ts";

Deno.test("Target canonical form: glibc inet_ntop forms (checked against glibc through Python's socket.inet_ntop)", () => {
  const cases: [string, string][] = [
    ["::2", "::2"],
    ["::1.2.3.4", "::1.2.3.4"],
    ["::FFFF:1.2.3.4", "::ffff:1.2.3.4"],
    ["1:0:0:1:0:0:0:1", "1:0:0:1::1"],
    ["1:0:0:1:0:0:1:1", "1::1:0:0:1:1"],
    ["2001:DB8:0:0::", "2001:db8::"],
    ["1:0:1:1:1:1:1:1", "1:0:1:1:1:1:1:1"],
    ["::ffff:0:1.2.3.4", "::ffff:0:102:304"],
    ["0:0:0:0:0:1:1.2.3.4", "::1:102:304"],
    ["0000:0000:0000:0000:0000:0000:0000:0000", "::"],
    ["fe80::0001", "fe80::1"],
  ];
  for (const [input, want] of cases) {
    assert.deepEqual(canonicalIp(input), { family: 6, text: want }, input);
  }
});

Deno.test("Target canonical form: IPv4; leading zeros are not an address (inet_pton)", () => {
  assert.equal(canonicalIp("192.168.001.010"), null);
  assert.equal(canonicalIp("192.168.1.00"), null);
  assert.deepEqual(canonicalIp("192.168.1.0"), { family: 4, text: "192.168.1.0" });
  assert.deepEqual(canonicalIp("127.0.0.1"), { family: 4, text: "127.0.0.1" });
});

Deno.test("Target canonical form: not IP literals", () => {
  for (
    const s of [
      "",
      "not..valid",
      "localhost",
      "1.2.3",
      "1.2.3.256",
      "1.2.3.4.5",
      ":::",
      "1::2::3",
      "12345::",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7::8",
      "::1.2.3",
      "fe80::1%eth0",
      " 1.2.3.4",
    ]
  ) {
    assert.equal(canonicalIp(s), null, s);
  }
});
