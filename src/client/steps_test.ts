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

Deno.test("steps: PORT:PROTO:FLAGS", () => {
  deepStrictEqual(parseStep("7000:tcp:fin,ack"), {
    ok: true,
    step: { port: "7000", protocol: "tcp", flags: 0x11 },
  });
  deepStrictEqual(parseStep("7000:TCP:none"), {
    ok: true,
    step: { port: "7000", protocol: "tcp", flags: 0 },
  });
  deepStrictEqual(parseStep("7000:udp:fin"), {
    ok: false,
    error: 'Cannot parse port "7000:udp:fin": flags need protocol "tcp", not "udp"',
  });
  deepStrictEqual(parseStep("7000:tcp:fin,bogus"), {
    ok: false,
    error: 'Cannot parse port "7000:tcp:fin,bogus": cannot parse TCP flags "fin,bogus": ' +
      'unknown flag "bogus" (use fin, syn, rst, psh, ack, urg, ece, cwr or none)',
  });
});

Deno.test("steps: flag lists", () => {
  deepStrictEqual(parseFlags("SYN, ece ,cwr"), { ok: true, flags: 0xc2 });
  strictEqual(formatFlags(0xff), "fin,syn,rst,psh,ack,urg,ece,cwr");
  strictEqual(formatFlags(0), "none");
});
