/**
 * How a node connects to its fleet's NATS servers (docs/CLUSTER.md): the `[options]` `Cluster*`
 * settings, the client's connection options built from them, and the error for a setting that
 * cannot work. Re-exported by `fleet.ts`; imports the NATS client, so it is loaded only through
 * `fleet.ts` or `probe.ts` (docs/CLUSTER.md, "Loading").
 *
 * @module
 */

import { type ConnectionOptions, credsAuthenticator } from "@nats-io/transport-node";

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

/** Raised for a setting that cannot work at all (an unreadable credentials file). */
export class FleetSettingsError extends Error {
  /** @param message The message. */
  constructor(message: string) {
    super(message);
    this.name = "FleetSettingsError";
  }
}

/** Milliseconds between the client's pings to its server. */
const PING_INTERVAL_MS = 5000;

/** The message of `e`, or `e` as text. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
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
