/**
 * The server log in unit tests: a `KnockdSink` (src/server/log.ts) routed as LogTape's sink for
 * the server's category, as `serve` does, for one test (`resetSync()` ends it).
 *
 * @module
 */
import { configureSync, resetSync } from "@logtape/logtape";
import { captureIo } from "../src/util/io.ts";
import { KnockdSink, SERVER_CATEGORY } from "../src/server/log.ts";

/**
 * Routes the server log to `sink` until `resetSync()`.
 *
 * @param sink The sink.
 */
export function useSink(sink: KnockdSink): void {
  configureSync({
    sinks: { k: sink.sink },
    loggers: [
      { category: [...SERVER_CATEGORY], sinks: ["k"], lowestLevel: "debug" },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
    ],
    reset: true,
  });
}

/**
 * Captures the server log's text lines (stdout and stderr) for one test.
 *
 * @param opts `verbose` (default true: the "V" lines show).
 * @returns The captured output and `done`, which ends the routing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ServerLog } from "../src/server/log.ts";
 * import { captureServerLog } from "./server_log.ts";
 * const { io, done } = captureServerLog();
 * try {
 *   new ServerLog().emit("stage", "192.0.2.2: a: Stage 1", "LV");
 *   assert.equal(io.out, "192.0.2.2: a: Stage 1\n");
 * } finally {
 *   done();
 * }
 * ```
 */
export function captureServerLog(
  opts: { verbose?: boolean } = {},
): { io: ReturnType<typeof captureIo>; done: () => void } {
  const io = captureIo();
  useSink(new KnockdSink({ io, verbose: opts.verbose ?? true, debug: false, format: "text" }));
  return { io, done: () => resetSync() };
}
