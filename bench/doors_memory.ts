/**
 * Memory per door, split by what holds it: the parsed config (`parseConfig`), the `Matcher`
 * (pre-filter and door states) and the capture filter candidates. For N doors shaped as the
 * harness's scale section makes them (`10000+i,30000+i`, `TCPFlags = syn`, a start command), the
 * V8 heap used plus external memory after a full GC, minus the figure before. Run with
 *
 * ```sh
 * deno run --v8-flags=--expose-gc bench/doors_memory.ts [N ...]   # default 10 1000 10000
 * ```
 *
 * @module
 */

import { parseConfig } from "../src/config/parse.ts";
import { captureFilters } from "../src/config/filter.ts";
import { Matcher } from "../src/match/matcher.ts";
import { scaleDoorLines } from "./_scale.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("Cannot measure: run with --v8-flags=--expose-gc");

function used(): number {
  for (let i = 0; i < 3; i++) gc!();
  const m = Deno.memoryUsage();
  return m.heapUsed + m.external;
}

function doorsConfig(n: number): string {
  return scaleDoorLines(n).join("\n") + "\n";
}

const counts = Deno.args.length > 0 ? Deno.args.map(Number) : [10, 1000, 10_000];
const keep: unknown[] = [];
for (const n of counts) {
  let text: string | undefined = doorsConfig(n);
  const t0 = used();
  const parsed = parseConfig(text);
  text = undefined;
  if (!parsed.ok) throw new Error(`Cannot parse: ${parsed.error.message}`);
  const doors = parsed.config.doors;
  const t1 = used();
  const matcher = new Matcher(doors, { localAddresses: ["127.0.0.1", "::1"] });
  const t2 = used();
  const filters = captureFilters(doors, { v4: ["127.0.0.1"], v6: ["::1"] }, false);
  const t3 = used();
  keep.push(parsed, matcher, filters);
  const per = (bytes: number) => `${(bytes / n).toFixed(0)} B/door`;
  console.log(
    `${n} doors: config ${per(t1 - t0)}, matcher ${per(t2 - t1)}, capture filters ${
      per(t3 - t2)
    } (${filters.map((f) => `${f.level} ${f.text.length} chars`).join(", ")})`,
  );
  keep.length = 0;
}
