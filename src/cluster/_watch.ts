/**
 * The watch of the grants bucket (docs/CLUSTER.md): applying what it delivers (the replay on
 * (re)join, whose deletes are revocations this node missed, then live changes), creating it with
 * a few attempts, and replacing it when it stalls.
 *
 * @module
 */

import type { KV, KvWatchEntry } from "@nats-io/kv";
import { decodeToken, type FleetGrant, parseGrant } from "./keys.ts";
import type { Outbox } from "./outbox.ts";
import type { LiveGrants } from "./_live_grants.ts";

/** Attempts at replacing a stalled watch in one check (each may time out, docs/CLUSTER.md). */
const WATCH_ATTEMPTS = 4;
/** Longest wait for the replay of live grants on (re)join. */
const REPLAY_MS = 10_000;

/** A running watch of the grants bucket. */
export type Watch = Awaited<ReturnType<KV["watch"]>>;

/** What applying a watch entry reads and changes. */
export interface ApplyContext {
  /** This node's name. */
  readonly node: string;
  /** When this process started (ms since the epoch). */
  readonly started: number;
  /** Keys this process deleted, so the watch does not apply its own revocation twice. */
  readonly revoked: Set<string>;
  /** The outbox: a key with an unsent write of this node's is left alone. */
  readonly outbox: Outbox;
  /** The live-grant map. */
  readonly grants: LiveGrants;
  /** Where grants and revocations go (the fleet's handlers). */
  readonly handlers: {
    grant(grant: FleetGrant): void;
    revoke(door: string, address: string, before?: number): void;
  };
}

/**
 * Applies one watch entry; returns true when it handed a grant to the node. A grant this
 * process made is already in force here (its echo is skipped); one this node made before it
 * restarted is applied like any other.
 */
export function applyEntry(entry: KvWatchEntry, live: boolean, ctx: ApplyContext): boolean {
  const key = entry.key;
  // This node's own unsent write to the key (made while cut off, or a moment ago) will replace
  // whatever the watch delivers for it now: applying that here would leave this node out of
  // step with the fleet once the write lands (a re-granted door closed, a revoked one open).
  if (entry.operation !== "PUT" && ctx.revoked.delete(key)) return false; // its own revocation
  if (ctx.outbox.has("grants", key)) return false;
  if (entry.operation === "PUT") {
    const grant = parseGrant(key, entry.value);
    if (grant === undefined) return false;
    if (grant.until <= Date.now()) {
      ctx.grants.delete(key);
      return false;
    }
    ctx.grants.remember(key, grant);
    if (grant.origin === ctx.node && grant.since >= ctx.started) return false;
    ctx.handlers.grant(grant);
    return true;
  }
  ctx.grants.delete(key);
  const [door, address] = key.split(".").map(decodeToken);
  if (door === undefined || address === undefined) return false;
  // A delete in the replay is a revocation this node missed (a grant restored from its state
  // file after a restart may be the one revoked): closed, unless made here after it.
  if (live) ctx.handlers.revoke(door, address);
  else ctx.handlers.revoke(door, address, entry.created.getTime());
  return false;
}

/** What the watch keeper needs from the fleet. */
export interface WatchHost {
  /** Whether the fleet is closing. */
  closing(): boolean;
  /** Whether the node is connected and has its buckets. */
  connected(): boolean;
  /** Applies one entry (`live`: not part of the replay on (re)join). */
  apply(entry: KvWatchEntry, live: boolean): boolean;
  /** A status line for the log. */
  log(level: "info" | "warning", text: string): void;
  /** Keeps a background task, awaited when the fleet closes. */
  track(task: Promise<void>): void;
  /** Waits `ms` (the fleet's close ends the wait). */
  sleep(ms: number): Promise<void>;
}

/** The current watch of the grants bucket and what it has delivered. */
export class GrantWatch {
  readonly #host: WatchHost;
  #watch: Watch | undefined;
  /** The highest revision the watch delivered. */
  #lastRev = 0;
  /** The bucket's last revision when the watch was first seen behind it. */
  #behind: number | undefined;
  /** Set after a reconnect and while a stalled watch is being replaced, until a new one is made. */
  #restarting = false;

  /** @param host The fleet. */
  constructor(host: WatchHost) {
    this.#host = host;
  }

  /**
   * Starts the watch of the current values, then updates, and applies what it delivers in the
   * background: first the replay of live grants (its deletes are revocations this node missed),
   * then live changes. Calls `joined` with the number of grants the replay applied once the replay
   * has ended (at once for an empty bucket, else with the entry whose delta is 0, or after
   * {@link REPLAY_MS} should that never come), and resolves then.
   *
   * @throws When the bucket's status cannot be read or the watch cannot be made.
   */
  async join(grants: KV, joined: (applied: number) => void): Promise<void> {
    const host = this.#host;
    const initial = (await grants.status()).values;
    const watch = await this.#newWatch(grants, 0);
    this.#watch = watch;
    let replayed = initial === 0;
    let applied = 0;
    let done!: () => void;
    const replay = new Promise<void>((resolve) => (done = resolve));
    const end = () => {
      done();
      joined(applied);
    };
    if (replayed) end();
    host.track((async () => {
      for await (const entry of watch) {
        if (host.closing()) break;
        this.#lastRev = Math.max(this.#lastRev, entry.revision);
        // Not entry.isUpdate: the client flags the replay's last entry as an update.
        if (host.apply(entry, replayed)) applied++;
        if (!replayed && (entry.delta ?? 0) === 0) {
          replayed = true;
          end();
        }
      }
    })());
    // The replay ends with the entry whose delta is 0; should it never come, join anyway.
    const late = host.sleep(REPLAY_MS).then(() => {
      replayed = true;
      end();
    });
    await Promise.race([replay, late]);
  }

  /**
   * After a reconnect: the watch's consumer may be gone with the old server, so the next check
   * that finds the watch behind restarts it at once instead of waiting for a second look.
   */
  reconnected(): void {
    this.#restarting = true;
  }

  /** Stops the current watch. */
  stop(): void {
    this.#watch?.stop();
  }

  /**
   * The watch's keeper: a watch whose consumer was lost with a NATS server can stall without an
   * error (seen with a three-server cluster). When the bucket holds a revision the watch has not
   * delivered at two checks in a row, the watch is started again just after the last revision it
   * delivered; what it then delivers counts as live changes.
   */
  async check(grants: KV): Promise<void> {
    const host = this.#host;
    let last: number;
    try {
      last = (await grants.status()).streamInfo.state.last_seq;
    } catch {
      return;
    }
    if (last <= this.#lastRev) {
      this.#behind = undefined;
      return;
    }
    if (!this.#restarting && (this.#behind === undefined || this.#lastRev >= this.#behind)) {
      this.#behind = last;
      return;
    }
    this.#behind = undefined;
    if (host.closing()) return;
    this.#watch?.stop();
    // Creating the watch's consumer times out when NATS 2.9 places it on a server that is down
    // (docs/CLUSTER.md, "A stalled watch"): try again at once, a few times, then at the next check.
    this.#restarting = true;
    const watch = await this.#newWatch(grants, this.#lastRev + 1);
    this.#restarting = false;
    if (host.closing()) {
      watch.stop();
      return;
    }
    this.#watch = watch;
    host.log("warning", `Cluster watch stalled at revision ${this.#lastRev}: restarted`);
    host.track((async () => {
      for await (const entry of watch) {
        if (host.closing()) break;
        this.#lastRev = Math.max(this.#lastRev, entry.revision);
        host.apply(entry, true);
      }
    })());
  }

  /**
   * A watch of the grants bucket from `revision` (0: the current values, then updates). Creating
   * its consumer times out when NATS 2.9 places it on a server that is down (docs/CLUSTER.md, "A
   * stalled watch"): tried again at once, up to {@link WATCH_ATTEMPTS} times.
   */
  async #newWatch(grants: KV, revision: number): Promise<Watch> {
    for (let attempt = 1;; attempt++) {
      try {
        return await grants.watch(revision > 0 ? { resumeFromRevision: revision } : {});
      } catch (e) {
        if (this.#host.closing() || !this.#host.connected() || attempt >= WATCH_ATTEMPTS) throw e;
      }
    }
  }
}
