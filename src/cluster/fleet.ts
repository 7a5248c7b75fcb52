/**
 * One node's membership of a fleet on NATS JetStream (docs/CLUSTER.md): the connection (retried
 * for ever, its loss and recovery logged once each), the join (buckets opened, live grants
 * replayed), the heartbeat, the outbox every write goes through, and the atomic single-use claim.
 * The connection, join, watch and pump share one state machine (connected, ready, closing) kept
 * here; the parts with a seam live beside it: `_connection.ts` (settings, connection options),
 * `_buckets.ts` (bucket set-up and placement), `_watch.ts` (applying the watch, revocations found
 * on (re)join, the stalled-watch keeper), `_pump.ts` (sending the outbox), `_presence.ts`,
 * `_live_grants.ts` and `_sleeper.ts`. It stays a little over 400 lines because that state machine
 * is easier to follow in one place.
 *
 * Nothing here is on the packet path: {@link Fleet.publishGrant} and {@link Fleet.publishRevoke}
 * only put an entry in the in-memory outbox and return; a background pump sends it when the
 * connection is up. This module imports the NATS client, so it must be loaded only when
 * `Cluster` is set, with a dynamic `import()` (docs/CLUSTER.md, "Loading").
 *
 * @module
 */

import { connect, type ConnectionOptions, type NatsConnection } from "@nats-io/transport-node";
import type { KV } from "@nats-io/kv";
import {
  type FleetBuckets,
  fleetBuckets,
  type FleetGrant,
  grantKey,
  type NodeRecord,
  usedKey,
} from "./keys.ts";
import { Outbox, type OutboxEntry } from "./outbox.ts";
import { clusterUrlsText } from "../config/cluster_directives.ts";
import { connectionOptions, errorText, type FleetSettings } from "./_connection.ts";
import { type ClaimResult, createMark, type FleetKv, openBuckets } from "./_buckets.ts";
import { type ApplyContext, applyEntry, GrantWatch } from "./_watch.ts";
import { LiveGrants } from "./_live_grants.ts";
import { NodeList, presenceEntry } from "./_presence.ts";
import { pump } from "./_pump.ts";
import { Sleeper } from "./_sleeper.ts";

export { connectionOptions, type FleetSettings, FleetSettingsError } from "./_connection.ts";
export { bucketManager, type ClaimResult } from "./_buckets.ts";

/** What the fleet tells the node. Called from the event loop, never on the packet path. */
export interface FleetHandlers {
  /** A live grant from another node (or from this node before it restarted): apply it. */
  grant(grant: FleetGrant): void;
  /**
   * A grant was revoked somewhere in the fleet: close it here. `before` is set for a revocation
   * the replay on (re)join found (made while this node was away or down): then close only a
   * grant made before that time (ms since the epoch, the NATS server's clock), not one made here
   * since.
   */
  revoke(door: string, address: string, before?: number): void;
  /** A status line for the log (loss, recovery, join). */
  log(level: "info" | "warning", text: string): void;
}

/** What `status` shows about the fleet. */
export interface FleetStatus {
  /** The fleet name. */
  readonly fleet: string;
  /** This node's name. */
  readonly node: string;
  /** Whether the node is connected and has its buckets. */
  readonly connected: boolean;
  /** The server it is connected to (`host:port`), or "" when not connected. */
  readonly server: string;
  /** Writes waiting in the outbox. */
  readonly pending: number;
  /** Writes dropped because the outbox was full. */
  readonly dropped: number;
  /** The fleet's nodes as last read from the nodes bucket (empty when not connected). */
  readonly nodes: readonly NodeRecord[];
  /** The live grants the watch has seen, each with its origin. */
  readonly grants: readonly FleetGrant[];
}

/** One node's membership of a fleet. Make one with {@link Fleet.join}. */
export class Fleet {
  readonly #settings: FleetSettings;
  readonly #handlers: FleetHandlers;
  readonly #buckets: FleetBuckets;
  readonly #outbox: Outbox;
  readonly #started = Date.now();
  /** Keys this process deleted, so the watch does not apply its own revocation twice. */
  readonly #revoked = new Set<string>();
  /** Live grants seen by the watch, by key. */
  readonly #grants = new LiveGrants();
  readonly #sleeper = new Sleeper();
  readonly #watch: GrantWatch;
  #nc: NatsConnection | undefined;
  #kv: FleetKv | undefined;
  #connected = false;
  readonly #nodes = new NodeList();
  #watchCheck: Promise<void> | undefined;
  #closing = false;
  #lossLogged = false;
  #fullLogged = false;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #tasks: Promise<void>[] = [];
  #ready: Promise<void>;
  #readyResolve!: () => void;

  private constructor(settings: FleetSettings, handlers: FleetHandlers) {
    this.#settings = settings;
    this.#handlers = handlers;
    this.#buckets = fleetBuckets(settings.fleet);
    this.#outbox = new Outbox(settings.outboxLimit ?? 10_000);
    this.#ready = new Promise((resolve) => (this.#readyResolve = resolve));
    const applying: ApplyContext = {
      node: settings.node,
      started: this.#started,
      revoked: this.#revoked,
      outbox: this.#outbox,
      grants: this.#grants,
      handlers,
    };
    this.#watch = new GrantWatch({
      closing: () => this.#closing,
      connected: () => this.connected,
      apply: (entry, live) => applyEntry(entry, live, applying),
      log: (level, text) => this.#handlers.log(level, text),
      track: (task) => this.#tasks.push(task),
      sleep: (ms) => this.#sleeper.sleep(ms, false),
    });
  }

  /**
   * Joins the fleet: starts connecting in the background, and waits at most `readyMs` for the
   * connection, the buckets and the replay of live grants. A node that cannot reach the cluster
   * in time goes on alone and keeps trying.
   *
   * @param settings The settings.
   * @param handlers Where grants, revocations and status lines go.
   * @param readyMs How long to wait for the first join (default 5000).
   * @returns The membership, joined or still trying.
   * @throws {FleetSettingsError} When the credentials or CA file cannot be read.
   */
  static async join(
    settings: FleetSettings,
    handlers: FleetHandlers,
    readyMs = 5000,
  ): Promise<Fleet> {
    const opts = connectionOptions(settings);
    const fleet = new Fleet(settings, handlers);
    fleet.#tasks.push(fleet.#connectLoop(opts), fleet.#pump());
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(resolve, readyMs, false)));
    const joined = await Promise.race([fleet.#ready.then(() => true), late]);
    clearTimeout(timer);
    if (!joined) {
      handlers.log(
        "warning",
        `Cannot join cluster "${settings.fleet}" within ${readyMs} ms: serving local knocks and retrying`,
      );
    }
    return fleet;
  }

  /** Whether the node is connected and has its buckets. */
  get connected(): boolean {
    return this.#connected && this.#kv !== undefined;
  }

  /** Writes waiting for the connection. */
  get pending(): number {
    return this.#outbox.size;
  }

  /** Resolves once the node has joined (connected, buckets open, live grants replayed). */
  get ready(): Promise<void> {
    return this.#ready;
  }

  /**
   * Tells the fleet about a grant made here. Never waits: the write goes through the outbox.
   *
   * @param door The door.
   * @param address The knocker's address.
   * @param since When it was granted (ms since the epoch).
   * @param until When it closes (ms since the epoch).
   */
  publishGrant(door: string, address: string, since: number, until: number): void {
    const grant: FleetGrant = { door, address, since, until, origin: this.#settings.node };
    const key = grantKey(door, address);
    const value = JSON.stringify(grant);
    this.#grants.remember(key, grant);
    this.#enqueue({ bucket: "grants", key, value, expires: until });
  }

  /**
   * Tells the fleet a grant was revoked here. Never waits: the write goes through the outbox.
   *
   * @param door The door.
   * @param address The knocker's address.
   */
  publishRevoke(door: string, address: string): void {
    const key = grantKey(door, address);
    this.#grants.delete(key);
    this.#enqueue({ bucket: "grants", key, value: undefined, expires: undefined });
  }

  /**
   * Claims a single-use mark fleet-wide with an atomic create: only the first claim of a mark
   * anywhere in the fleet gets `claimed`. Awaits the network (at most `timeoutMs`): call it off
   * the packet path.
   *
   * @param door The door.
   * @param mark What is used (a one-time sequence, a secret sequence's slot).
   * @param timeoutMs Longest wait (default 2000).
   * @returns `claimed`, `used` (someone claimed it first), or `unreachable`.
   */
  async claim(door: string, mark: string, timeoutMs = 2000): Promise<ClaimResult> {
    const kv = this.#kv;
    const value = JSON.stringify({ node: this.#settings.node, at: Date.now() });
    const key = usedKey(door, mark);
    // Accepted locally: the mark is published (created) when the connection is back.
    const later = () => this.#enqueue({ bucket: "used", key, value, expires: undefined });
    if (kv === undefined || !this.#connected) {
      later();
      return "unreachable";
    }
    const r = await createMark(kv.used, key, value, timeoutMs);
    if (r === "unreachable") later();
    return r;
  }

  /**
   * The fleet as this node sees it: connection, outbox, nodes (read from the nodes bucket) and
   * live grants.
   *
   * @returns The status.
   */
  async status(): Promise<FleetStatus> {
    await this.#nodes.read(this.#nodesKv());
    return this.snapshot();
  }

  /**
   * The fleet as this node sees it, without waiting: the nodes as last read (at every heartbeat).
   *
   * @returns The status.
   */
  snapshot(): FleetStatus {
    const now = Date.now();
    const grants = this.#grants.live(now);
    return {
      fleet: this.#settings.fleet,
      node: this.#settings.node,
      connected: this.connected,
      server: this.connected ? this.#nc?.getServer() ?? "" : "",
      pending: this.#outbox.size,
      dropped: this.#outbox.dropped,
      nodes: this.#nodes.nodes,
      grants,
    };
  }

  /** The nodes bucket while connected and joined. */
  #nodesKv(): KV | undefined {
    return this.connected ? this.#kv?.nodes : undefined;
  }

  /**
   * Leaves the fleet: sends what it can of the outbox within `flushMs`, then closes the
   * connection and ends every timer and task.
   *
   * @param flushMs Longest wait for pending writes (default 1000).
   */
  async close(flushMs = 1000): Promise<void> {
    const deadline = Date.now() + flushMs;
    while (this.connected && this.#outbox.peek(Date.now()) !== undefined && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    this.#closing = true;
    clearInterval(this.#heartbeat);
    this.#watch.stop();
    this.#sleeper.endAll();
    const nc = this.#nc;
    if (nc !== undefined && !nc.isClosed()) await nc.close();
    await Promise.allSettled([...this.#tasks, this.#nodes.reading, this.#watchCheck]);
  }

  /** Grants in the live-grant map, expired ones not yet swept included (for status and tests). */
  get grantsKept(): number {
    return this.#grants.size;
  }

  #enqueue(entry: OutboxEntry): void {
    if (this.#outbox.put(entry) && !this.#fullLogged) {
      this.#fullLogged = true;
      this.#handlers.log(
        "warning",
        `Cluster outbox is full (${
          this.#settings.outboxLimit ?? 10_000
        } updates): dropping the oldest grants first, revocations and single-use marks last`,
      );
    }
    this.#kick();
  }

  #kick(): void {
    this.#sleeper.kick();
  }

  async #connectLoop(opts: ConnectionOptions): Promise<void> {
    let failures = 0;
    while (!this.#closing) {
      try {
        this.#nc = await connect(opts);
        break;
      } catch (e) {
        if (failures++ === 0) {
          this.#handlers.log(
            "warning",
            `Cannot reach cluster at "${clusterUrlsText(this.#settings.servers)}": ${
              errorText(e)
            }` +
              ": serving local knocks and retrying",
          );
        }
        await this.#sleeper.sleep(this.#settings.retryMs ?? 1000, false);
      }
    }
    const nc = this.#nc;
    if (nc === undefined) return;
    if (this.#closing) {
      await nc.close();
      return;
    }
    this.#connected = true;
    this.#tasks.push(this.#watchStatus(nc));
    while (!this.#closing && this.#kv === undefined) {
      try {
        await this.#setup(nc);
      } catch (e) {
        if (this.#closing) break;
        this.#handlers.log("warning", `Cannot open cluster buckets: ${errorText(e)}: retrying`);
        await this.#sleeper.sleep(2000, false);
      }
    }
  }

  async #setup(nc: NatsConnection): Promise<void> {
    const buckets = await openBuckets(nc, this.#settings, this.#buckets);
    await this.#watch.join(buckets.grants, (applied) => {
      if (this.#closing || this.#kv !== undefined) return;
      this.#kv = buckets;
      this.#beat();
      this.#heartbeat = setInterval(() => this.#beat(), this.#settings.heartbeatMs ?? 5000);
      this.#handlers.log(
        "info",
        `Joined cluster "${this.#settings.fleet}" as node "${this.#settings.node}" at ` +
          `"${nc.getServer()}": ${applied} live grant${applied === 1 ? "" : "s"} applied`,
      );
      this.#readyResolve();
      this.#kick();
    });
  }

  /** The watch's keeper (`_watch.ts`), while connected and joined. */
  async #checkWatch(): Promise<void> {
    const kv = this.#kv;
    if (kv === undefined || !this.connected) return;
    await this.#watch.check(kv.grants);
  }

  #beat(): void {
    if (!this.#closing && this.#watchCheck === undefined) {
      this.#watchCheck = this.#checkWatch().catch(() => {}).finally(() =>
        this.#watchCheck = undefined
      );
    }
    if (!this.#closing) this.#nodes.refresh(this.#nodesKv());
    this.#outbox.put(presenceEntry(this.#settings.node, this.#started, Date.now()));
    this.#kick();
  }

  async #watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (this.#closing) break;
      if (s.type === "disconnect" && this.#connected) {
        this.#connected = false;
        if (!this.#lossLogged) {
          this.#lossLogged = true;
          this.#handlers.log(
            "warning",
            `Lost cluster connection to "${s.server}": reconnecting; local knocks go on`,
          );
        }
      } else if (s.type === "reconnect") {
        this.#connected = true;
        this.#watch.reconnected();
        this.#lossLogged = false;
        this.#fullLogged = false;
        this.#handlers.log(
          "info",
          `Reconnected to cluster at "${s.server}": sending ${this.#outbox.size} pending update${
            this.#outbox.size === 1 ? "" : "s"
          }`,
        );
        this.#kick();
      }
    }
  }

  #pump(): Promise<void> {
    return pump({
      closing: () => this.#closing,
      writable: () => this.connected ? this.#kv : undefined,
      outbox: this.#outbox,
      revoked: this.#revoked,
      sleeper: this.#sleeper,
    });
  }
}
