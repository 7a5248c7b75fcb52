import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { formatFlags, parseFlags, parseKnockStep, parseStep } from "./steps.ts";

Deno.test("steps: knock 0.8's PORT[:PROTO]", () => {
  deepStrictEqual(parseKnockStep("7000"), { port: "7000", protocol: "tcp" });
  deepStrictEqual(parseKnockStep("7000:udp"), { port: "7000", protocol: "udp" });
  for (const p of ["UDP", "tcp", "foo", "udp:x", ""]) {
    strictEqual(parseKnockStep(`7000:${p}`).protocol, "tcp", p);
  }
  deepStrictEqual(parseKnockStep("ssh:udp"), { port: "ssh", protocol: "udp" });
});

Deno.test("steps: the notation PORT:tcp:FLAGS", () => {
  const ok = (port: string, flags?: number) => ({
    ok: true,
    step: flags === undefined ? { port, protocol: "tcp" } : { port, protocol: "tcp", flags },
  });
  deepStrictEqual(parseStep("7000:tcp:syn"), ok("7000", 0x02));
  deepStrictEqual(parseStep("8000:tcp:fin+urg+psh"), ok("8000", 0x29));
  deepStrictEqual(parseStep("9000:tcp:none"), ok("9000", 0));
  deepStrictEqual(parseStep("9000:TCP:None"), ok("9000", 0));
  deepStrictEqual(parseStep("9001:tcp:any"), ok("9001"), "any is a plain connect hit");
  deepStrictEqual(parseStep("7000:tcp:fin,ack"), ok("7000", 0x11), "commas still read");
  deepStrictEqual(parseStep("1000:udp"), { ok: true, step: { port: "1000", protocol: "udp" } });
  deepStrictEqual(parseStep("7000:udp:fin"), {
    ok: false,
    error: 'Cannot parse port "7000:udp:fin": flags need protocol "tcp", not "udp"',
  });
  deepStrictEqual(parseStep("7000:tcp:fin+bogus"), {
    ok: false,
    error: 'Cannot parse port "7000:tcp:fin+bogus": cannot parse TCP flags "fin+bogus": ' +
      'unknown flag "bogus" (use fin, syn, rst, psh, ack, urg, ece, cwr joined by "+", ' +
      "or none, or any)",
  });
});

Deno.test("steps: tportknockd's frames", () => {
  const tcp = (port: string, flags?: number) => ({
    ok: true,
    step: flags === undefined ? { port, protocol: "tcp" } : { port, protocol: "tcp", flags },
  });
  deepStrictEqual(parseStep("tcp:7000:s"), tcp("7000", 0x02));
  deepStrictEqual(parseStep("tcp:543"), tcp("543", 0), "a frame without flags means n");
  deepStrictEqual(parseStep("tcp:543:n"), tcp("543", 0));
  deepStrictEqual(parseStep("tcp:543:i"), tcp("543"), "i is a plain connect hit");
  deepStrictEqual(parseStep("tcp:123:frap"), tcp("123", 0x1d));
  deepStrictEqual(parseStep("tcp:434:x"), tcp("434", 0x3f));
  deepStrictEqual(parseStep("tcp:110:up"), tcp("110", 0x28));
  deepStrictEqual(parseStep("udp:8000"), { ok: true, step: { port: "8000", protocol: "udp" } });
  const bad: [string, string][] = [
    ["udp:8000:s", 'Cannot parse frame "udp:8000:s": UDP frames have no flags'],
    ["tcp::s", 'Cannot parse frame "tcp::s": the port is empty'],
    ["udp:", 'Cannot parse frame "udp:": the port is empty'],
    ["tcp:7000:", 'Cannot parse frame "tcp:7000:": flags are empty (use letters from fsrpauxni)'],
    ["tcp:7000:sn", 'Cannot parse frame "tcp:7000:sn": flag "n" in "sn" must stand alone'],
    [
      "tcp:7000:S",
      'Cannot parse frame "tcp:7000:S": unknown flag "S" in "S" (use letters from fsrpauxni)',
    ],
  ];
  for (const [arg, error] of bad) deepStrictEqual(parseStep(arg), { ok: false, error }, arg);
});

Deno.test("steps: flag lists", () => {
  deepStrictEqual(parseFlags("SYN+ ece +cwr"), { ok: true, flags: 0xc2 });
  deepStrictEqual(parseFlags(""), { ok: true, flags: 0 });
  deepStrictEqual(parseFlags("ANY"), { ok: true, flags: "any" });
  strictEqual(formatFlags(0xff), "fin+syn+rst+psh+ack+urg+ece+cwr");
  strictEqual(formatFlags(0x29), "fin+psh+urg");
  strictEqual(formatFlags(0), "none");
});
