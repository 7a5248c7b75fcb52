/**
 * One node's membership of a fleet on NATS JetStream (docs/CLUSTER.md): the connection (retried
 * for ever, its loss and recovery logged once each), the three key-value buckets, the watch that
 * replays live grants on (re)join and applies the fleet's changes, the outbox every write goes
 * through, the heartbeat, and the atomic single-use claim.
 *
 * Nothing here is on the packet path: {@link Fleet.publishGrant} and {@link Fleet.publishRevoke}
 * only put an entry in the in-memory outbox and return; a background pump sends it when the
 * connection is up. This module imports the NATS client, so it must be loaded only when
 * `Cluster` is set, with a dynamic `import()` (docs/CLUSTER.md, "Loading").
 *
 * This file is over 400 lines because the connection, watch and pump share one state machine
 * (connected, ready, closing) that is easier to follow in one place.
 *
 * @module
 */

import {
  connect,
  type ConnectionOptions,
  credsAuthenticator,
  type NatsConnection,
} from "@nats-io/transport-node";
import { type KV, Kvm, type KvWatchEntry } from "@nats-io/kv";
import { jetstream } from "@nats-io/jetstream";
import {
  decodeToken,
  encodeToken,
  type FleetBuckets,
  fleetBuckets,
  type FleetGrant,
  grantKey,
  type NodeRecord,
  parseGrant,
  parseNode,
  usedKey,
} from "./keys.ts";
import { Outbox, type OutboxEntry } from "./outbox.ts";
import { clusterUrlsText } from "../config/cluster_directives.ts";

/** How a node joins its fleet: the `[options]` `Cluster*` settings and tuning. */
export interface FleetSettings {
  /** NATS server URLs (`Cluster`). */
  readonly servers: readonly string[];
  /** The fleet name (`Cluster_Name`): names the buckets. */
  readonly fleet: string;
  /** This node's name (`Cluster_Node`). */
  readonly node: string;
  /** A NATS credentials file (`Cluster_Creds`). */
  readonly creds?: string | undefined;
  /** A CA certificate file for TLS (`Cluster_CA`). */
  readonly ca?: string | undefined;
  /** The JetStream domain of the buckets (`Cluster_Domain`), for a node on a leaf node server. */
  readonly domain?: string | undefined;
  /** Milliseconds between heartbeats (default 5000). */
  readonly heartbeatMs?: number;
  /** Most pending writes kept while the cluster is unreachable (default 10000). */
  readonly outboxLimit?: number;
  /** Milliseconds between connection attempts before the first success (default 1000). */
  readonly retryMs?: number;
}

/** What the fleet tells the node. Called from the event loop, never on the packet path. */
export interface FleetHandlers {
  /** A live grant from another node (or from this node before it restarted): apply it. */
  grant(grant: FleetGrant): void;
  /** A grant was revoked somewhere in the fleet: close it here. */
  revoke(door: string, address: string): void;
  /** A status line for the log (loss, recovery, join). */
  log(level: "info" | "warning", text: string): void;
}

/** The result of an atomic single-use claim. */
export type ClaimResult = "claimed" | "used" | "unreachable";

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

/** Raised for a setting that cannot work at all (an unreadable credentials file). */
export class FleetSettingsError extends Error {
  /** @param message The message. */
  constructor(message: string) {
    super(message);
    this.name = "FleetSettingsError";
  }
}

const JSON_TIMEOUT_MS = 5000;
/** Attempts at replacing a stalled watch in one check (each may time out, docs/CLUSTER.md). */
const WATCH_ATTEMPTS = 4;
/** Longest wait for the replay of live grants on (re)join. */
const REPLAY_MS = 10_000;
/** Bucket limit: how long a grant, used mark or presence record is kept at most. */
const GRANTS_MAX_AGE_MS = 24 * 3600 * 1000;
const NODES_MAX_AGE_MS = 24 * 3600 * 1000;
/** Milliseconds between the client's pings to its server. */
const PING_INTERVAL_MS = 5000;
/** The live-grant map is swept of expired grants when it reaches this size (then twice its size). */
const GRANTS_SWEEP_MIN = 1024;

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Whether an atomic create failed because the key exists. */
function isKeyExists(e: unknown): boolean {
  return /wrong last sequence|key exists/i.test(errorText(e));
}

/** The connection options for `settings`. */
export function connectionOptions(settings: FleetSettings): ConnectionOptions {
  const opts: ConnectionOptions = {
    servers: [...settings.servers],
    name: `knocktool ${settings.node}`,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    timeout: 2000,
    // A connection that went silent (a cut cable, no reset) is taken for lost after two unanswered
    // pings, ~10-15 s, instead of the client's default two minutes apart (docs/CLUSTER.md).
    pingInterval: PING_INTERVAL_MS,
    maxPingOut: 2,
  };
  if (settings.creds !== undefined) {
    let bytes: Uint8Array;
    try {
      bytes = Deno.readFileSync(settings.creds);
    } catch (e) {
      throw new FleetSettingsError(
        `Cannot read "Cluster_Creds" file "${settings.creds}": ${errorText(e)}`,
      );
    }
    opts.authenticator = credsAuthenticator(bytes);
  }
  if (settings.ca !== undefined) {
    try {
      Deno.statSync(settings.ca);
    } catch (e) {
      throw new FleetSettingsError(
        `Cannot read "Cluster_CA" file "${settings.ca}": ${errorText(e)}`,
      );
    }
    opts.tls = { caFile: settings.ca };
  }
  return opts;
}

/**
 * The bucket manager for `settings`: through the JetStream domain `Cluster_Domain` when set (a
 * node on a leaf node server reaches the hub's buckets only that way), else the connected
 * server's own JetStream.
 *
 * @param nc The connection.
 * @param settings The node's settings.
 * @returns The manager.
 */
export function bucketManager(nc: NatsConnection, settings: FleetSettings): Kvm {
  return new Kvm(
    settings.domain === undefined ? nc : jetstream(nc, { domain: settings.domain }),
  );
}

/**
 * Whether creating a replicated bucket failed because the NATS system cannot hold three replicas
 * (a single server, or fewer than three JetStream servers up): then one replica is the most it
 * gets. Any other failure (a timeout while a cluster is still electing its leader) is retried as
 * a whole, so a three-server cluster never ends up with a one-replica bucket by accident.
 */
function cannotReplicate(e: unknown): boolean {
  return /replicas > 1 not supported|insufficient resources/i.test(errorText(e));
}

/**
 * Opens a bucket, creating it when missing: replicated on three servers when the NATS system has
 * them, else on one.
 */
async function openBucket(kvm: Kvm, name: string, maxAgeMs: number): Promise<KV> {
  try {
    // open() binds without asking the server; status() finds out whether the stream exists.
    const kv = await kvm.open(name, { timeout: JSON_TIMEOUT_MS });
    await kv.status();
    return kv;
  } catch (e) {
    // Missing: create it below. Anything else (a timeout while the bucket elects a leader) is
    // retried as a whole by the caller rather than taken for a missing bucket.
    if (!/stream not found/i.test(errorText(e))) throw e;
  }
  const opts = { history: 1, ttl: maxAgeMs, timeout: JSON_TIMEOUT_MS };
  try {
    return await kvm.create(name, { ...opts, replicas: 3 });
  } catch (e) {
    if (!cannotReplicate(e)) throw e;
    return await kvm.create(name, { ...opts, replicas: 1 });
  }
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
  readonly #grants = new Map<string, FleetGrant>();
  /** The size of {@link #grants} at which expired grants are next swept out. */
  #grantsSweepAt = GRANTS_SWEEP_MIN;
  #nc: NatsConnection | undefined;
  #kv: { grants: KV; used: KV; nodes: KV } | undefined;
  #watch: { stop(): void } | undefined;
  #connected = false;
  #nodes: readonly NodeRecord[] = [];
  #nodesRead: Promise<void> | undefined;
  #watchCheck: Promise<void> | undefined;
  /** The highest revision the watch delivered. */
  #lastRev = 0;
  /** The bucket's last revision when the watch was first seen behind it. */
  #behind: number | undefined;
  /** Set after a reconnect and while a stalled watch is being replaced, until a new one is made. */
  #restarting = false;
  #closing = false;
  #lossLogged = false;
  #fullLogged = false;
  #wake: (() => void) | undefined;
  readonly #sleepers = new Set<() => void>();
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
    this.#remember(key, grant);
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
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<ClaimResult>((resolve) => {
      timer = setTimeout(resolve, timeoutMs, "unreachable");
    });
    const attempt = kv.used.create(key, value).then(
      (): ClaimResult => "claimed",
      (e): ClaimResult => isKeyExists(e) ? "used" : "unreachable",
    );
    try {
      const r = await Promise.race([attempt, late]);
      if (r === "unreachable") later();
      return r;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The fleet as this node sees it: connection, outbox, nodes (read from the nodes bucket) and
   * live grants.
   *
   * @returns The status.
   */
  async status(): Promise<FleetStatus> {
    await this.#readNodes();
    return this.snapshot();
  }

  /**
   * The fleet as this node sees it, without waiting: the nodes as last read (at every heartbeat).
   *
   * @returns The status.
   */
  snapshot(): FleetStatus {
    const now = Date.now();
    const grants = [...this.#grants.values()].filter((g) => g.until > now)
      .sort((a, b) => a.door.localeCompare(b.door) || a.address.localeCompare(b.address));
    return {
      fleet: this.#settings.fleet,
      node: this.#settings.node,
      connected: this.connected,
      server: this.connected ? this.#nc?.getServer() ?? "" : "",
      pending: this.#outbox.size,
      dropped: this.#outbox.dropped,
      nodes: this.#nodes,
      grants,
    };
  }

  /** Reads the nodes bucket into the cached list; keeps the old list when it cannot. */
  async #readNodes(): Promise<void> {
    const nodes: NodeRecord[] = [];
    const kv = this.#kv;
    if (kv !== undefined && this.connected) {
      try {
        const keys: string[] = [];
        for await (const k of await kv.nodes.keys()) keys.push(k);
        for (const k of keys.sort()) {
          const e = await kv.nodes.get(k);
          const rec = e === null || e.operation !== "PUT" ? undefined : parseNode(k, e.value);
          if (rec !== undefined) nodes.push(rec);
        }
        this.#nodes = nodes;
      } catch {
        // a status request does not fail because the cluster went away meanwhile
      }
    }
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
    this.#watch?.stop();
    for (const end of [...this.#sleepers]) end();
    const nc = this.#nc;
    if (nc !== undefined && !nc.isClosed()) await nc.close();
    await Promise.allSettled([...this.#tasks, this.#nodesRead, this.#watchCheck]);
  }

  /**
   * Keeps `grant` in the live-grant map. Expired grants are removed by a sweep when the map has
   * doubled since the last one: a bucket entry's expiry is not seen by the watch (nothing is
   * deleted at `until`), so without it the map would keep every (door, address) ever granted.
   */
  #remember(key: string, grant: FleetGrant): void {
    this.#grants.set(key, grant);
    if (this.#grants.size < this.#grantsSweepAt) return;
    const now = Date.now();
    for (const [k, g] of this.#grants) if (g.until <= now) this.#grants.delete(k);
    this.#grantsSweepAt = Math.max(GRANTS_SWEEP_MIN, 2 * this.#grants.size);
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
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Waits `ms`; {@link close} ends every wait, and {@link #kick} ends the pump's (`kickable`). */
  #sleep(ms: number, kickable: boolean): Promise<void> {
    return new Promise((resolve) => {
      const end = () => {
        clearTimeout(timer);
        this.#sleepers.delete(end);
        if (this.#wake === end) this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(end, ms);
      this.#sleepers.add(end);
      if (kickable) this.#wake = end;
    });
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
        await this.#sleep(this.#settings.retryMs ?? 1000, false);
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
        await this.#sleep(2000, false);
      }
    }
  }

  async #setup(nc: NatsConnection): Promise<void> {
    const kvm = bucketManager(nc, this.#settings);
    const grants = await openBucket(kvm, this.#buckets.grants, GRANTS_MAX_AGE_MS);
    const used = await openBucket(kvm, this.#buckets.used, GRANTS_MAX_AGE_MS);
    const nodes = await openBucket(kvm, this.#buckets.nodes, NODES_MAX_AGE_MS);
    const initial = (await grants.status()).values;
    const watch = await this.#newWatch(grants, 0);
    this.#watch = watch;
    let replayed = initial === 0;
    let applied = 0;
    let done!: () => void;
    const replay = new Promise<void>((resolve) => (done = resolve));
    const joined = () => {
      done();
      if (this.#closing || this.#kv !== undefined) return;
      this.#kv = { grants, used, nodes };
      this.#beat();
      this.#heartbeat = setInterval(() => this.#beat(), this.#settings.heartbeatMs ?? 5000);
      this.#handlers.log(
        "info",
        `Joined cluster "${this.#settings.fleet}" as node "${this.#settings.node}" at ` +
          `"${nc.getServer()}": ${applied} live grant${applied === 1 ? "" : "s"} applied`,
      );
      this.#readyResolve();
      this.#kick();
    };
    if (replayed) joined();
    this.#tasks.push((async () => {
      for await (const entry of watch) {
        if (this.#closing) break;
        this.#lastRev = Math.max(this.#lastRev, entry.revision);
        if (this.#apply(entry, entry.isUpdate)) applied++;
        if (!replayed && (entry.delta ?? 0) === 0) {
          replayed = true;
          joined();
        }
      }
    })());
    // The replay ends with the entry whose delta is 0; should it never come, join anyway.
    const late = this.#sleep(REPLAY_MS, false).then(() => {
      replayed = true;
      joined();
    });
    await Promise.race([replay, late]);
  }

  /**
   * Applies one watch entry; returns true when it handed a grant to the node. A grant this
   * process made is already in force here (its echo is skipped); one this node made before it
   * restarted is applied like any other.
   */
  #apply(entry: KvWatchEntry, live: boolean): boolean {
    const key = entry.key;
    if (entry.operation === "PUT") {
      const grant = parseGrant(key, entry.value);
      if (grant === undefined) return false;
      if (grant.until <= Date.now()) {
        this.#grants.delete(key);
        return false;
      }
      this.#remember(key, grant);
      if (grant.origin === this.#settings.node && grant.since >= this.#started) return false;
      this.#handlers.grant(grant);
      return true;
    }
    this.#grants.delete(key);
    if (this.#revoked.delete(key) || !live) return false;
    const [door, address] = key.split(".").map(decodeToken);
    if (door !== undefined && address !== undefined) this.#handlers.revoke(door, address);
    return false;
  }

  /**
   * The watch's keeper: a watch whose consumer was lost with a NATS server can stall without an
   * error (seen with a three-server cluster). When the bucket holds a revision the watch has not
   * delivered at two checks in a row, the watch is started again just after the last revision it
   * delivered; what it then delivers counts as live changes.
   */
  async #checkWatch(): Promise<void> {
    const kv = this.#kv;
    if (kv === undefined || !this.connected) return;
    let last: number;
    try {
      last = (await kv.grants.status()).streamInfo.state.last_seq;
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
    if (this.#closing) return;
    this.#watch?.stop();
    // Creating the watch's consumer times out when NATS 2.9 places it on a server that is down
    // (docs/CLUSTER.md, "A stalled watch"): try again at once, a few times, then at the next check.
    this.#restarting = true;
    const watch = await this.#newWatch(kv.grants, this.#lastRev + 1);
    this.#restarting = false;
    if (this.#closing) {
      watch.stop();
      return;
    }
    this.#watch = watch;
    this.#handlers.log("warning", `Cluster watch stalled at revision ${this.#lastRev}: restarted`);
    this.#tasks.push((async () => {
      for await (const entry of watch) {
        if (this.#closing) break;
        this.#lastRev = Math.max(this.#lastRev, entry.revision);
        this.#apply(entry, true);
      }
    })());
  }

  /**
   * A watch of the grants bucket from `revision` (0: the current values, then updates). Creating
   * its consumer times out when NATS 2.9 places it on a server that is down (docs/CLUSTER.md, "A
   * stalled watch"): tried again at once, up to {@link WATCH_ATTEMPTS} times.
   */
  async #newWatch(grants: KV, revision: number): Promise<Awaited<ReturnType<KV["watch"]>>> {
    for (let attempt = 1;; attempt++) {
      try {
        return await grants.watch(revision > 0 ? { resumeFromRevision: revision } : {});
      } catch (e) {
        if (this.#closing || !this.connected || attempt >= WATCH_ATTEMPTS) throw e;
      }
    }
  }

  #beat(): void {
    if (!this.#closing && this.#watchCheck === undefined) {
      this.#watchCheck = this.#checkWatch().catch(() => {}).finally(() =>
        this.#watchCheck = undefined
      );
    }
    if (!this.#closing && this.#nodesRead === undefined) {
      this.#nodesRead = this.#readNodes().finally(() => (this.#nodesRead = undefined));
    }
    const rec: NodeRecord = { node: this.#settings.node, at: Date.now(), started: this.#started };
    this.#outbox.put({
      bucket: "nodes",
      key: encodeToken(this.#settings.node),
      value: JSON.stringify(rec),
      expires: undefined,
    });
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
        // The watch's consumer may be gone with the old server: the next check that finds the
        // watch behind restarts it at once instead of waiting for a second look.
        this.#restarting = true;
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

  async #pump(): Promise<void> {
    while (!this.#closing) {
      const kv = this.#kv;
      const entry = this.connected && kv !== undefined ? this.#outbox.peek(Date.now()) : undefined;
      if (entry === undefined || kv === undefined) {
        await this.#sleep(1000, true);
        continue;
      }
      const bucket = entry.bucket === "grants"
        ? kv.grants
        : entry.bucket === "used"
        ? kv.used
        : kv.nodes;
      try {
        if (entry.value === undefined) {
          // Marked as sent before the watch can see it (not at enqueue: a revocation dropped
          // from a full outbox would stay in the set and hide a later one from another node).
          if (entry.bucket === "grants") this.#revoked.add(entry.key);
          await bucket.delete(entry.key);
        } else if (entry.bucket === "used") await bucket.create(entry.key, entry.value);
        else await bucket.put(entry.key, entry.value);
        this.#outbox.done(entry);
      } catch (e) {
        // A mark someone else created meanwhile (or our own timed-out claim) is there: done.
        if (entry.bucket === "used" && isKeyExists(e)) this.#outbox.done(entry);
        else if (!this.#closing) await this.#sleep(500, true);
      }
    }
  }
}
