/**
 * The knock matcher: knockd 0.8's state machine (docs/COMPATIBILITY.md §4) as a pure function of
 * decoded packets and capture time. It never logs, runs commands or reads a clock; it returns
 * {@link MatchEvent}s that the server turns into knockd's log lines and actions.
 *
 * Per packet, in knockd's order (`sniff`, docs/COMPATIBILITY.md §4.2):
 *
 * 1. the BPF-equivalent {@link PreFilter}: a packet knockd's filter would drop changes nothing,
 *    not even expiry;
 * 2. **A** expiry sweep at the packet's whole capture second: every attempt with
 *    `now - seqStart >= seqTimeout` times out (a `timeout` event each, in creation order).
 *    Removing one attempt never drops another (knockd's docs/COMPATIBILITY.md B1 is fixed);
 * 3. **B** the attempts of this source whose door's target matches the destination;
 * 4. **C** if there are any, each (in creation order) ignores the packet if its TCP flags do not
 *    suit the door (debug `packet is not SYN, ignoring...`), advances on the expected port and
 *    protocol (`stage`, then `open` when complete), and is otherwise silently invalidated. No new
 *    attempt starts in this case, so a wrong knock is never itself a restart (docs/COMPATIBILITY.md
 *    B14) and a live attempt blocks other doors for this source (docs/COMPATIBILITY.md B15);
 * 5. **D** otherwise every enabled door in config order whose flags, first knock and target match
 *    starts an attempt at stage 1 (several doors sharing a first knock all start).
 *
 * Completed and invalidated attempts are gone before the next packet is matched; knockd's debug
 * lines `removing successful knock attempt (SRC)` / `removing failed knock attempt (SRC)` are
 * emitted at the next sweep, as knockd prints them. Debug events are produced only with
 * {@link MatcherOptions.debug} (knockd's `-D`).
 *
 * Timeouts are also swept by {@link Matcher.tick}, so they can be logged on an idle link
 * (docs/COMPATIBILITY.md B16's late log fixed; the semantics, `>=` on whole seconds from the first
 * knock, are kept). A tick runs on the wall clock while packets carry their capture time, and a
 * packet captured in the second before a deadline may be delivered after it (capture buffering,
 * batches under load), so `tick(now)` expires only what a packet captured at `now - 1` would: a
 * timeout on an idle link is logged at most one second after the packet-driven sweep would have,
 * and never kills a knock knockd would accept (knockd uses packet time only).
 *
 * Work per packet is independent of the number of live attempts (see {@link AttemptTable}) and,
 * without `debug`, of the number of doors: the pre-filter and step D look only at the doors that
 * use the packet's port and protocol (step D: as their first knock). With `debug`, step D visits
 * every door, as knockd does, to report each failing flag test. The number of tracked attempts is
 * capped by {@link MatcherOptions.maxAttempts}, with the eviction policy documented there and in
 * `attempt_table.ts`.
 *
 * Over 400 lines because it is one state machine whose step order (A to D above) is the
 * compatibility contract; the pre-filter, the attempt table and the events are separate files.
 *
 * @module
 */

import type { Door, Knock } from "../config/model.ts";
import { TCP_FLAG_BITS, TCP_FLAG_NAMES } from "../config/model.ts";
import { formatKnock } from "../config/sequence.ts";
import { stepFlagsMatch } from "../wire/tcp_flags.ts";
import type { Packet } from "../wire/packet.ts";
import { fieldsSourceKey, type FrameFields, type SourceKey, textKey } from "../wire/fields.ts";
import { AttemptTable, NO_SLOT } from "./attempt_table.ts";
import type { MatchEvent } from "./events.ts";
import { canonicalTarget, PreFilter } from "./prefilter.ts";

/** Default for {@link MatcherOptions.maxAttempts}. */
export const DEFAULT_MAX_ATTEMPTS = 65536;

/** How a {@link Matcher} is set up. */
export interface MatcherOptions {
  /**
   * The capture interface's addresses in canonical text (both families). Used by the pre-filter
   * and, for doors without `Target`, by knockd's `target_strcmp`.
   */
  readonly localAddresses: Iterable<string>;
  /** knockd's `-4`: IPv6 addresses are ignored and IPv6 packets are never admitted. */
  readonly ipv4Only?: boolean;
  /**
   * Cap on tracked attempts, default {@link DEFAULT_MAX_ATTEMPTS} (65536; about 100 bytes
   * each). When the table is full, a new attempt evicts the oldest attempt still at stage 1
   * (a `debug` event, counted in {@link Matcher.evictions}); if every tracked attempt has
   * progressed past stage 1 the new attempt is refused instead (a `debug` event, counted in
   * {@link Matcher.refusals}, and no `stage` event). A spoofed-source flood of first-port hits
   * therefore displaces only other stage-1 attempts, never a knocker who has made progress.
   */
  readonly maxAttempts?: number;
  /**
   * knockd's `-D`: produce `debug` events (failing flag tests, `removing ... knock attempt`,
   * evictions). Default false: no debug event is created, and step D looks only at the doors
   * whose first knock is the packet's port and protocol instead of at every door.
   */
  readonly debug?: boolean;
  /**
   * `serve --knockd-strict` (`KnockdStrict` in `[options]`): match exactly as knockd 0.8, where a
   * repeated knock invalidates the attempt (docs/COMPATIBILITY.md B14). Default false: a packet
   * that repeats the step an attempt has just made, and is not its expected next step, is ignored
   * (docs/COMPATIBILITY.md "Repeats and retransmissions").
   */
  readonly strict?: boolean;
  /**
   * `Max_Starts_Per_Minute` (docs/GRANTS.md): attempts one source may start per wall-clock
   * minute (of capture time); a start beyond it is dropped and counted in
   * {@link Matcher.rateLimitDrops}. Absent or 0: no cap (knockd).
   */
  readonly maxStartsPerMinute?: number;
  /**
   * Told when the attempt table is full and a first knock evicts an attempt or is refused, at
   * most once per minute of capture time: the warning to log (docs/COMPATIBILITY.md "Bounded
   * state": each cap logs a warning). Default: nothing is told.
   */
  readonly onTableFull?: (warning: string) => void;
}

/** Sources counted per minute for `maxStartsPerMinute` (more are not limited that minute). */
const RATE_SOURCES = 65_536;

/** A flag test of one door, precomputed with knockd's debug text. */
interface FlagTest {
  readonly bit: number;
  readonly set: boolean;
  readonly message: string;
}

/** A door as the matcher keeps it: the current sequence and precomputed tests. */
interface DoorState {
  readonly door: Door;
  readonly flagTests: readonly FlagTest[];
  /** The target in canonical text (see {@link canonicalTarget}), if the door has one. */
  readonly target: string | undefined;
}

function doorState(door: Door): DoorState {
  return {
    door,
    flagTests: compileFlags(door),
    target: door.target === undefined ? undefined : canonicalTarget(door.target),
  };
}

const NO_EVENTS: readonly MatchEvent[] = Object.freeze([]);

/**
 * Flag tests by the door's requirements (`syn=set,ack=clear`): doors with the same `TCPFlags`
 * share one frozen list, so thousands of doors do not each hold copies of the same texts.
 */
const flagTestCache = new Map<string, readonly FlagTest[]>();

function compileFlags(door: Door): readonly FlagTest[] {
  let cacheKey = "";
  for (const name of TCP_FLAG_NAMES) {
    const requirement = door.tcpFlags[name];
    if (requirement !== undefined) cacheKey += `${name}=${requirement},`;
  }
  const cached = flagTestCache.get(cacheKey);
  if (cached !== undefined) return cached;
  const tests: FlagTest[] = [];
  // knockd's flags_match tests fin, syn, rst, psh, ack, urg in this order and stops at the first
  // mismatch.
  for (const name of TCP_FLAG_NAMES) {
    const requirement = door.tcpFlags[name];
    if (requirement === undefined) continue;
    const set = requirement === "set";
    const label = name.toUpperCase();
    tests.push({
      bit: TCP_FLAG_BITS[name],
      set,
      message: `packet is not ${set ? "" : "!"}${label}, ignoring...`,
    });
  }
  // At most 3^6 distinct lists exist.
  const frozen = Object.freeze(tests.map((t) => Object.freeze(t)));
  flagTestCache.set(cacheKey, frozen);
  return frozen;
}

/** Key of the per-(protocol, port) door index. */
function portKey(protocol: "tcp" | "udp", port: number): number {
  return protocol === "tcp" ? port : port + 65536;
}

/**
 * Whether a packet is this step: port and protocol, and for a step with its own flags
 * (docs/FLAG-KNOCKING.md) exactly those flags.
 */
function stepMatches(knock: Knock | undefined, packet: Packet): boolean {
  if (knock === undefined || knock.port !== packet.dstPort || knock.protocol !== packet.protocol) {
    return false;
  }
  return knock.flags === undefined || packet.protocol !== "tcp" ||
    stepFlagsMatch(knock.flags, packet.tcpFlags);
}

/**
 * knockd 0.8's knock state machine (see the module documentation).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { Matcher } from "./matcher.ts";
 *
 * const door = {
 *   name: "ssh", line: 1, seqTimeout: 25, cmdTimeout: 10, tcpFlags: {},
 *   sequence: [{ port: 7000, protocol: "tcp" as const }, { port: 8000, protocol: "udp" as const }],
 * };
 * const matcher = new Matcher([door], { localAddresses: ["192.0.2.1"] });
 * const knock = (tsSec: number, protocol: "tcp" | "udp", dstPort: number) => ({
 *   tsSec, tsUsec: 0, family: 4 as const, src: "198.51.100.7", dst: "192.0.2.1",
 *   protocol, srcPort: 40000, dstPort, tcpFlags: protocol === "tcp" ? 0x02 : 0, wireLen: 60,
 * });
 * assert.deepEqual(matcher.handle(knock(100, "tcp", 7000)).map((e) => e.kind), ["stage"]);
 * assert.deepEqual(matcher.handle(knock(101, "udp", 8000)).map((e) => e.kind), ["stage", "open"]);
 * ```
 */
export class Matcher {
  readonly #doors: (DoorState | null)[];
  /** The doors as configured (a disabled door can be given a sequence again). */
  readonly #configured: readonly Door[];
  readonly #filter: PreFilter;
  readonly #table: AttemptTable;
  #nextId = 1;
  /** knockd's `removing ... knock attempt` lines, due at the next sweep: [attempt id, text]. */
  #pendingRemovals: [number, string][] = [];
  #evictions = 0;
  #refusals = 0;
  readonly #onTableFull: ((warning: string) => void) | undefined;
  /** Capture second from which the next table-full warning may be told. */
  #nextFullWarning = -Infinity;
  #invalidations = 0;
  #rateLimitDrops = 0;
  readonly #maxStarts: number;
  #rateMinute = -1;
  readonly #startsThisMinute = new Map<string, number>();
  #repeatsIgnored = 0;
  readonly #debug: boolean;
  readonly #strict: boolean;
  /** Enabled doors by their first knock (see {@link portKey}), in config order. */
  readonly #starts = new Map<number, number[]>();

  /**
   * Creates a matcher.
   *
   * @param doors Doors in config order (event `doorIndex` values index this array).
   * @param options Local addresses, `-4`, the attempt cap and `debug`.
   * @throws {RangeError} If `maxAttempts` is not a positive integer.
   */
  constructor(doors: readonly Door[], options: MatcherOptions) {
    this.#configured = doors.slice();
    this.#doors = doors.map(doorState);
    this.#debug = options.debug ?? false;
    this.#maxStarts = options.maxStartsPerMinute ?? 0;
    this.#strict = options.strict ?? false;
    this.#onTableFull = options.onTableFull;
    this.#doors.forEach((state, index) => this.#indexStart(index, state, true));
    this.#filter = new PreFilter(doors, options.localAddresses, options.ipv4Only ?? false);
    const cap = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!Number.isSafeInteger(cap) || cap < 1) {
      throw new RangeError(
        `Cannot create matcher: "maxAttempts" must be a positive integer, got "${cap}"`,
      );
    }
    this.#table = new AttemptTable(cap);
  }

  /** Number of attempts currently tracked (completed and invalidated ones are not counted). */
  get attemptCount(): number {
    return this.#table.size;
  }

  /** How many attempts were evicted to make room since the matcher was created. */
  get evictions(): number {
    return this.#evictions;
  }

  /** How many attempts a wrong knock ended (knockd's silent `stage = -1`) since creation. */
  get invalidations(): number {
    return this.#invalidations;
  }

  /** How many attempt starts `maxStartsPerMinute` dropped since creation. */
  get rateLimitDrops(): number {
    return this.#rateLimitDrops;
  }

  /** How many repeated knocks were ignored (never in strict mode); see {@link MatcherOptions.strict}. */
  get repeatsIgnored(): number {
    return this.#repeatsIgnored;
  }

  /** How many new attempts were refused because every tracked attempt was past stage 1. */
  get refusals(): number {
    return this.#refusals;
  }

  /**
   * Whether {@link handle} could do anything with the packet whose fields (`peekFrame`) these
   * are. False means it would return no event and change nothing: the pre-filter rejects the
   * packet, or nothing is due to expire at its second, its source has no attempt and no door
   * starts on its port and protocol. Allocates nothing (except an IPv6 key while some attempt has
   * an IPv6 source). Always true with `debug` (knockd's `-D` lines are per door).
   *
   * @param f Fields of a frame that decodes.
   * @returns False when the packet can be dropped without decoding it.
   */
  wants(f: FrameFields): boolean {
    if (!this.#filter.admitsFields(f)) return false;
    if (this.#debug || this.#pendingRemovals.length > 0) return true;
    const due = this.#table.nextDeadline();
    if (due !== undefined && due <= f.tsSec) return true;
    if (f.family === 4 || this.#table.hasIpv6Sources) {
      if (this.#table.has(fieldsSourceKey(f))) return true;
    }
    return this.#starts.has(f.tcp ? f.dstPort : f.dstPort + 65536);
  }

  /**
   * One decoded packet at its capture time: the BPF-equivalent pre-filter, then the expiry sweep
   * at `packet.tsSec`, then steps B–D of docs/COMPATIBILITY.md §4.2.
   *
   * @param packet A decoded packet.
   * @param key The source's key, if known (`fieldsSourceKey`); else computed from `packet.src`.
   * @returns The events, in knockd's log order (timeouts first).
   */
  handle(packet: Packet, key?: SourceKey): readonly MatchEvent[] {
    if (!this.#filter.admits(packet)) return NO_EVENTS;
    let events: MatchEvent[] | null = this.#sweep(packet.tsSec);
    const src = packet.src;
    const dst = packet.dst;
    const srcKey = key ?? textKey(src);
    const table = this.#table;
    let found = false;
    // Step C: only the attempt at hand can be removed, and none is added, so reading the next
    // slot first walks the attempts that were there when the packet came.
    for (let slot = table.first(srcKey), next = NO_SLOT; slot !== NO_SLOT; slot = next) {
      next = table.next(slot);
      {
        const doorIndex = table.doorIndex(slot);
        const state = this.#doors[doorIndex];
        if (state == null || !this.#targetMatches(state, dst)) continue;
        found = true;
        const stage = table.stage(slot);
        const sequence = state.door.sequence;
        const expected = sequence[stage];
        // A step with its own flags replaces the door's TCPFlags (docs/FLAG-KNOCKING.md).
        const mismatch = expected?.flags === undefined ? this.#flagMismatch(state, packet) : null;
        if (mismatch !== null) {
          if (this.#debug) (events ??= []).push({ kind: "debug", message: mismatch });
          continue;
        }
        if (stepMatches(expected, packet)) {
          const id = table.id(slot);
          events = this.#advance(
            doorIndex,
            state.door,
            src,
            packet.family,
            stage + 1,
            events ?? [],
          );
          if (stage + 1 >= sequence.length) {
            table.remove(slot);
            this.#removed(id, "successful", src);
          } else {
            table.setStage(slot, stage + 1);
          }
        } else if (!this.#strict && stepMatches(sequence[stage - 1], packet)) {
          // The step just made, again (a retransmission, a client that sends every hit twice):
          // neither a step nor a wrong knock (docs/COMPATIBILITY.md "Repeats and
          // retransmissions").
          this.#repeatsIgnored++;
          if (this.#debug) {
            (events ??= []).push({
              kind: "debug",
              message: `ignoring repeated knock ${formatKnock(sequence[stage - 1]!)} (${src}) ` +
                `for door ${state.door.name} at stage ${stage}`,
            });
          }
        } else {
          // knockd sets stage = -1; nothing is logged.
          this.#invalidations++;
          const id = table.id(slot);
          table.remove(slot);
          this.#removed(id, "failed", src);
        }
      }
    }
    if (!found) events = this.#start(packet, srcKey, events);
    return events ?? NO_EVENTS;
  }

  /**
   * Timer-driven expiry at `nowSec` (whole seconds), so timeouts are reported on an idle link.
   * It expires what a packet captured at `nowSec - 1` would (one second of grace for packets
   * captured before the deadline but delivered after the timer; see the module documentation).
   *
   * @param nowSec The current wall-clock second.
   * @returns Timeout events in creation order (plus pending debug lines).
   */
  tick(nowSec: number): readonly MatchEvent[] {
    return this.#sweep(nowSec - 1) ?? NO_EVENTS;
  }

  /**
   * Earliest whole second at which {@link tick} could expire something (one second after the
   * second at which a packet would).
   *
   * @returns That second, or undefined when no attempt is live.
   */
  nextDeadline(): number | undefined {
    const due = this.#table.nextDeadline();
    return due === undefined ? undefined : due + 1;
  }

  /**
   * One-time rotation: replace a door's sequence. Other sources' attempts in progress continue
   * against the new sequence at their current stage index (knockd); an attempt whose stage is
   * already at or past the new length is dropped without opening (knockd removes it as
   * "successful" at the next sweep). `null` disables the door: it admits and matches nothing, and
   * its attempts are dropped; a later non-null sequence enables it again. Events of the door then
   * carry a copy of the configured {@link Door} with the new sequence: identify doors by
   * `doorIndex`, not by object identity.
   *
   * @param doorIndex The door's index in config order.
   * @param sequence The new sequence, or `null`.
   * @throws {RangeError} If `doorIndex` names no door.
   */
  setSequence(doorIndex: number, sequence: readonly Knock[] | null): void {
    const base = this.#configured[doorIndex];
    if (!Number.isInteger(doorIndex) || base === undefined) {
      throw new RangeError(
        `Cannot set sequence of door "${doorIndex}": there are ${this.#doors.length} doors`,
      );
    }
    const door = sequence === null ? null : { ...base, sequence };
    this.#indexStart(doorIndex, this.#doors[doorIndex] ?? null, false);
    const state = door === null ? null : doorState(door);
    this.#doors[doorIndex] = state;
    this.#indexStart(doorIndex, state, true);
    this.#filter.setDoor(doorIndex, door);
    const table = this.#table;
    for (const slot of table.slots()) {
      if (table.doorIndex(slot) !== doorIndex) continue;
      if (door !== null && table.stage(slot) < door.sequence.length) continue;
      const [id, src] = [table.id(slot), table.src(slot)];
      table.remove(slot);
      if (door !== null) this.#removed(id, "successful", src);
    }
  }

  /**
   * Replaces the interface's addresses (the pre-filter and `target_strcmp` follow at once;
   * attempts are kept).
   *
   * @param addrs Canonical address texts of both families.
   */
  setLocalAddresses(addrs: Iterable<string>): void {
    this.#filter.setLocalAddresses(addrs);
  }

  /**
   * knockd's `target_strcmp(dst, door->target) == 0`, on the canonical target
   * (docs/COMPATIBILITY.md B24).
   */
  #targetMatches(state: DoorState, dst: string): boolean {
    return state.target !== undefined ? dst === state.target : this.#filter.isLocal(dst);
  }

  /** knockd's `flags_match`: null when the packet suits the door, else the debug text. */
  #flagMismatch(state: DoorState, packet: Packet): string | null {
    if (packet.protocol !== "tcp") return null;
    const flags = packet.tcpFlags;
    for (const test of state.flagTests) {
      if (((flags & test.bit) !== 0) !== test.set) return test.message;
    }
    return null;
  }

  /** knockd's `process_attempt`: one more knock matched, the attempt is now at `stage`. */
  #advance(
    doorIndex: number,
    door: Door,
    src: string,
    family: 4 | 6,
    stage: number,
    events: MatchEvent[],
  ): MatchEvent[] {
    events.push({ kind: "stage", door, doorIndex, src, family, stage });
    if (stage >= door.sequence.length) events.push({ kind: "open", door, doorIndex, src, family });
    return events;
  }

  /** Queues knockd's `removing ... knock attempt` debug line for the next sweep. */
  #removed(id: number, how: "successful" | "failed", src: string): void {
    if (this.#debug) this.#pendingRemovals.push([id, `removing ${how} knock attempt (${src})`]);
  }

  /** Adds door `index` to (or removes it from) the step-D list of its first knock. */
  #indexStart(index: number, state: DoorState | null, add: boolean): void {
    const first = state?.door.sequence[0];
    if (first === undefined) return;
    const key = portKey(first.protocol, first.port);
    const list = this.#starts.get(key);
    if (add) {
      if (list === undefined) {
        this.#starts.set(key, [index]);
        return;
      }
      // Keep config order: a door re-enabled by setSequence goes back to its place.
      let at = list.length;
      while (at > 0 && (list[at - 1] as number) > index) at--;
      list.splice(at, 0, index);
    } else if (list !== undefined) {
      const at = list.indexOf(index);
      if (at >= 0) list.splice(at, 1);
      if (list.length === 0) this.#starts.delete(key);
    }
  }

  /** Step D: start an attempt on every door whose first knock this packet is. */
  #start(packet: Packet, key: SourceKey, events: MatchEvent[] | null): MatchEvent[] | null {
    if (this.#debug) {
      // knockd evaluates flags_match first, so its debug line appears for every door whose flag
      // constraints the packet fails, whatever the port, interleaved with the starts.
      for (let index = 0; index < this.#doors.length; index++) {
        const state = this.#doors[index];
        if (state == null) continue;
        const first = state.door.sequence[0];
        const mismatch = first?.flags === undefined ? this.#flagMismatch(state, packet) : null;
        if (mismatch !== null) {
          (events ??= []).push({ kind: "debug", message: mismatch });
          continue;
        }
        if (stepMatches(first, packet)) {
          events = this.#startOne(packet, key, index, state, events);
        }
      }
      return events;
    }
    const candidates = this.#starts.get(portKey(packet.protocol, packet.dstPort));
    if (candidates === undefined) return events;
    for (const index of candidates) {
      const state = this.#doors[index] as DoorState;
      const first = state.door.sequence[0];
      if (first?.flags === undefined) {
        if (this.#flagMismatch(state, packet) !== null) continue;
      } else if (!stepMatches(first, packet)) continue;
      events = this.#startOne(packet, key, index, state, events);
    }
    return events;
  }

  /** `maxStartsPerMinute`: counts this start; false (and counted as a drop) beyond the cap. */
  #mayStart(packet: Packet): boolean {
    const minute = Math.floor(packet.tsSec / 60);
    if (minute !== this.#rateMinute) {
      this.#rateMinute = minute;
      this.#startsThisMinute.clear();
    }
    const n = this.#startsThisMinute.get(packet.src) ?? 0;
    if (n >= this.#maxStarts) {
      this.#rateLimitDrops++;
      return false;
    }
    if (n > 0 || this.#startsThisMinute.size < RATE_SOURCES) {
      this.#startsThisMinute.set(packet.src, n + 1);
    }
    return true;
  }

  /** Step D for one door whose flags and first knock match: target check, then a new attempt. */
  #startOne(
    packet: Packet,
    key: SourceKey,
    index: number,
    state: DoorState,
    events: MatchEvent[] | null,
  ): MatchEvent[] | null {
    if (!this.#targetMatches(state, packet.dst)) return events;
    if (this.#maxStarts > 0 && !this.#mayStart(packet)) return events;
    const door = state.door;
    const id = this.#nextId++;
    if (door.sequence.length > 1 && this.#table.full) {
      const message = this.#makeRoom(packet.src, door, packet.tsSec);
      if (message !== undefined) (events ??= []).push({ kind: "debug", message });
      if (this.#table.full) return events;
    }
    events = this.#advance(index, door, packet.src, packet.family, 1, events ?? []);
    if (door.sequence.length <= 1) {
      // A single-knock door opens on every matching packet and is never tracked.
      this.#removed(id, "successful", packet.src);
    } else {
      this.#table.add(id, key, packet.family, index, packet.tsSec, door.seqTimeout, 1);
    }
    return events;
  }

  /**
   * Evicts the oldest stage-1 attempt, or counts a refusal if there is none.
   *
   * @returns The debug text describing what happened (undefined without `debug`).
   */
  #makeRoom(src: string, door: Door, now: number): string | undefined {
    const table = this.#table;
    const victim = table.evictionCandidate();
    if (this.#onTableFull !== undefined && now >= this.#nextFullWarning) {
      this.#nextFullWarning = now + 60;
      this.#onTableFull(
        victim === NO_SLOT
          ? `Refuse new knock attempts: all ${table.size} tracked attempts are past stage 1 (the limit)`
          : `Evict the oldest knock attempts still at stage 1: ${table.size} attempts are tracked (the limit)`,
      );
    }
    if (victim === NO_SLOT) {
      this.#refusals++;
      if (!this.#debug) return undefined;
      return `cannot track knock attempt (${src}) for door ${door.name}: ` +
        `all ${table.size} tracked attempts are past stage 1`;
    }
    const message = this.#debug
      ? `evicting knock attempt (${table.src(victim)}) for door ${
        this.#doors[table.doorIndex(victim)]?.door.name ?? String(table.doorIndex(victim))
      } at stage ${table.stage(victim)}: attempt table is full`
      : undefined;
    table.remove(victim);
    this.#evictions++;
    return message;
  }

  /** Step A: due removals and timeouts, in knockd's creation order. */
  #sweep(now: number): MatchEvent[] | null {
    const expired = this.#table.expire(now);
    const pending = this.#pendingRemovals;
    if (expired.length === 0 && pending.length === 0) return null;
    this.#pendingRemovals = [];
    const events: MatchEvent[] = [];
    let p = 0;
    if (pending.length > 1) pending.sort((x, y) => x[0] - y[0]);
    for (const attempt of expired) {
      while (p < pending.length && (pending[p] as [number, string])[0] < attempt.id) {
        events.push({ kind: "debug", message: (pending[p++] as [number, string])[1] });
      }
      const state = this.#doors[attempt.doorIndex];
      if (state == null) continue;
      events.push({
        kind: "timeout",
        door: state.door,
        doorIndex: attempt.doorIndex,
        src: attempt.src,
        family: attempt.family,
        stage: attempt.stage,
      });
    }
    while (p < pending.length) {
      events.push({ kind: "debug", message: (pending[p++] as [number, string])[1] });
    }
    return events;
  }
}
