import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { captureIo } from "../util/io.ts";
import { KNOCK_USAGE, parseCompat, runCompat } from "./knock_compat.ts";

Deno.test("compat: usage on stdout, statuses as knock 0.8", async () => {
  for (
    const [args, status, err] of [
      [["-h"], 1, ""],
      [["--help", "-V"], 1, ""],
      [["-x", "h", "1"], 1, "knock: invalid option -- 'x'\n"],
      [["127.0.0.1"], 1, ""],
      [["-d", "-1", "h"], 1, ""],
    ] as const
  ) {
    const io = captureIo();
    strictEqual(await runCompat(args, io), status, args.join(" "));
    strictEqual(io.out, KNOCK_USAGE);
    strictEqual(io.err, err);
  }
  const io = captureIo();
  strictEqual(await runCompat(["-V", "-x"], io), 0);
  strictEqual(io.out, "knock 0.8\nCopyright (C) 2004-2012 Judd Vinet <jvinet@zeroflux.org>\n");
});

Deno.test("compat: the delay is checked after the operands, with atoi", async () => {
  const io = captureIo();
  strictEqual(await runCompat(["-d", "-1", "h", "1"], io), 1);
  deepStrictEqual([io.out, io.err], ["", "error: delay cannot be negative\n"]);
  const c = parseCompat(["--delay=12ms", "-4", "-6", "h", "1:udp", "2"], "knock");
  strictEqual(c.kind, "knock");
  if (c.kind === "knock") {
    strictEqual(c.plan.delayUs, 12000);
    strictEqual(c.plan.family, 6, "the last of -4/-6 wins");
    deepStrictEqual(c.plan.steps.map((s) => s.protocol), ["udp", "tcp"]);
  }
});

Deno.test("compat: the delay follows every hit, the last one included", async () => {
  const io = captureIo();
  const waits: number[] = [];
  const wait = (ms: number) => {
    waits.push(ms);
    return Promise.resolve();
  };
  strictEqual(
    await runCompat(["-v", "-d", "150", "127.0.0.1", "9:udp", "9:udp"], io, "knock", false, wait),
    0,
  );
  deepStrictEqual(waits, [150, 150]);
  strictEqual(io.out, "hitting udp 127.0.0.1:9\nhitting udp 127.0.0.1:9\n");
});
