/**
 * main.ts defers the `Intl.Segmenter` optique makes while its modules load, and puts the real
 * constructor back once they are loaded (src/util/deferred_segmenter.ts): nothing else in the
 * process sees the stand-in, and help text is still measured by a working segmenter.
 *
 * @module
 */
import { deepStrictEqual } from "node:assert/strict";
import { main } from "../main.ts";
import { DeferredSegmenter } from "../src/util/deferred_segmenter.ts";
import { captureIo } from "../src/util/io.ts";

Deno.test("main.ts: Intl.Segmenter is the real constructor once main.ts is loaded", () => {
  deepStrictEqual(String(Intl.Segmenter).includes("[native code]"), true);
  deepStrictEqual(new Intl.Segmenter() instanceof DeferredSegmenter, false);
  const parts = [...new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment("e\u0301x")];
  deepStrictEqual(parts.map((p) => p.segment), ["e\u0301", "x"]);
});

Deno.test("main.ts: --help still prints the command list (optique measures it with the deferred segmenter)", async () => {
  const io = captureIo();
  deepStrictEqual(await main(["--help"], io), 0);
  deepStrictEqual(/^\s+serve\s/m.test(io.out), true, io.out);
});
