import { deepStrictEqual } from "node:assert/strict";
import { parseSync } from "@optique/core/parser";
import { formatMessage } from "@optique/core/message";
import { knockCommand } from "./knock_args.ts";

function parsed(...args: string[]): unknown {
  const r = parseSync(knockCommand, ["knock", ...args]);
  return r.success ? r.value : `error: ${formatMessage(r.error)}`;
}

Deno.test("knock: -v given more than once means -v, as knock 0.8 takes it", () => {
  const once = parsed("-v", "192.0.2.1", "7000");
  deepStrictEqual((once as { verbose: boolean }).verbose, true);
  for (const args of [["-vv"], ["-v", "-v"], ["-v", "--verbose"], ["-uvv"], ["-vvv", "-v"]]) {
    const udp = args.includes("-uvv");
    deepStrictEqual(
      parsed(...args, "192.0.2.1", "7000"),
      { ...(once as object), udp },
      args.join(" "),
    );
  }
  deepStrictEqual((parsed("192.0.2.1", "7000") as { verbose: boolean }).verbose, false);
});

Deno.test("knock: other flags given twice are still refused", () => {
  deepStrictEqual(
    parsed("-u", "-u", "192.0.2.1", "7000"),
    "error: `-u` cannot be used multiple times.",
  );
});
