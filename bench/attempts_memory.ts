/**
 * Memory per live attempt: a `Matcher` gets first knocks from N distinct sources (each starts an
 * attempt at stage 1), and the memory after a full GC (V8 heap used plus external memory, where
 * typed arrays keep their contents) is compared with the empty matcher's.
 * Packets are made one at a time and dropped, so only what the matcher keeps is counted. Run with
 *
 * ```sh
 * deno run --v8-flags=--expose-gc bench/attempts_memory.ts [N ...]   # default 1000 10000 65536
 * ```
 *
 * @module
 */

import type { Door } from "../src/config/model.ts";
import { Matcher } from "../src/match/matcher.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("Cannot measure: run with --v8-flags=--expose-gc");

const door: Door = {
  name: "c",
  line: 1,
  sequence: [7500, 7600, 7700].map((port) => ({ port, protocol: "tcp" as const })),
  seqTimeout: 600,
  cmdTimeout: 10,
  tcpFlags: { syn: "set" },
};

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc!();
  const m = Deno.memoryUsage();
  return m.heapUsed + m.external;
}

const counts = Deno.args.length > 0 ? Deno.args.map(Number) : [1000, 10_000, 65_536];
for (const n of counts) {
  const matcher = new Matcher([door], { localAddresses: ["192.0.2.1"], maxAttempts: 65_536 });
  const before = heapAfterGc();
  for (let i = 0; i < n; i++) {
    matcher.handle({
      tsSec: 1_000_000,
      tsUsec: 0,
      family: 4,
      src: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      dst: "192.0.2.1",
      protocol: "tcp",
      srcPort: 40000,
      dstPort: 7500,
      tcpFlags: 0x02,
      wireLen: 60,
    });
  }
  const after = heapAfterGc();
  if (matcher.attemptCount !== n) throw new Error(`${matcher.attemptCount} attempts, not ${n}`);
  console.log(
    `${n} attempts: heap and external +${((after - before) / 1024).toFixed(0)} KiB, ${
      ((after - before) / n).toFixed(0)
    } bytes per attempt`,
  );
}
