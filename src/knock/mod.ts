/**
 * The knock matcher: knockd 0.8's per-packet state machine (reference §4) behind its exact BPF
 * pre-filter (reference §3.2), as a pure function of decoded packets and capture time.
 *
 * - {@link Matcher}: `handle(packet)`, `tick(now)`, `nextDeadline()`, `setSequence()`,
 *   `setLocalAddresses()`; events as defined in `events.ts`.
 * - {@link PreFilter}: which packets knockd's filter would deliver.
 * - {@link AttemptTable}: the bounded attempt store and its eviction policy.
 * - {@link OneTimeSequences}: a door's `One_Time_Sequences` file (load, mark used, rotate).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { Matcher } from "./mod.ts";
 *
 * const door = {
 *   name: "mc", line: 1, seqTimeout: 25, cmdTimeout: 10, tcpFlags: {},
 *   sequence: [{ port: 19132, protocol: "udp" as const }],
 * };
 * const matcher = new Matcher([door], { localAddresses: ["192.0.2.1"] });
 * const events = matcher.handle({
 *   tsSec: 1, tsUsec: 0, family: 4, src: "198.51.100.7", dst: "192.0.2.1", protocol: "udp",
 *   srcPort: 5000, dstPort: 19132, tcpFlags: 0, wireLen: 42,
 * });
 * assert.deepEqual(events.map((e) => e.kind), ["stage", "open"]);
 * ```
 *
 * @module
 */
export * from "./matcher.ts";
export * from "./prefilter.ts";
export * from "./attempt_table.ts";
export * from "./onetime.ts";
export type * from "./events.ts";
