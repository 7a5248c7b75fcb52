import { deepStrictEqual } from "node:assert/strict";
import { captureIo } from "../util/io.ts";
import { runKnock } from "./knock.ts";

Deno.test("knock: a negative delay is a std-voice usage error before any hit", async () => {
  const io = captureIo();
  const status = await runKnock(
    { cmd: "knock", host: "127.0.0.1", ports: ["7000"], delay: "-5" },
    io,
    () => Promise.reject(new Error("Cannot sleep: no hit may be sent")),
  );
  deepStrictEqual([status, io.out, io.err], [
    1,
    "",
    'Cannot use delay "-5": it must not be negative\n',
  ]);
});
