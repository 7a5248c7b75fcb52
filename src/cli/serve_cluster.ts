/**
 * `serve`'s cluster mode (docs/CLUSTER.md): when the config sets `Cluster`, loads src/cluster/
 * with a dynamic `import()`, joins the fleet, and connects it to the grant keeper both ways: a
 * grant opened, refreshed or revoked here is published (through the outbox: the packet path never
 * waits), and a grant or revocation from the fleet goes through the keeper like a `grant` or a
 * `revoke` from the control socket, so this node runs its own start command or adds its own set
 * element, and closes it itself at `until`.
 *
 * @module
 */
import type { Config } from "../config/model.ts";
import type { GrantKeeper } from "../server/grant_keeper.ts";
import type { ServerLog } from "../server/log.ts";
import type { Daemon } from "../server/daemon.ts";
import type { Fleet, FleetStatus } from "../cluster/fleet.ts";

/** The joined fleet, as serve holds it. */
export interface ServeCluster {
  /** The fleet membership. */
  readonly fleet: Fleet;
  /** The fleet as this node sees it. */
  status(): Promise<FleetStatus>;
  /** Leaves the fleet (sends what it can of the outbox first). */
  close(): Promise<void>;
}

/**
 * Joins the fleet when the config sets `Cluster`; waits at most `readyMs` for the replay of live
 * grants, then goes on (alone, retrying, when the cluster cannot be reached).
 *
 * @param config The config (its doors and `[options]` `Cluster*`).
 * @param keeper The grant keeper.
 * @param log The server log.
 * @param daemon The daemon: one-time and secret sequences are then claimed fleet-wide.
 * @param readyMs Longest wait for the join (default 5000).
 * @returns The fleet, or undefined when the config sets no `Cluster`.
 * @throws {Error} When a credentials or CA file cannot be read (the message says which).
 */
export async function startCluster(
  config: () => Config,
  keeper: GrantKeeper,
  log: ServerLog,
  daemon?: Daemon,
  readyMs = 5000,
): Promise<ServeCluster | undefined> {
  const c = config().options.cluster;
  if (c === undefined) return undefined;
  const { Fleet } = await import("../cluster/fleet.ts");
  // Set while the fleet's own changes go through the keeper, so they are not published back.
  let applying = false;
  const fleet = await Fleet.join(
    {
      servers: c.servers,
      fleet: c.name,
      node: c.node ?? Deno.hostname(),
      creds: c.creds,
      ca: c.ca,
      domain: c.domain,
    },
    {
      grant(g) {
        const door = config().doors.find((d) => d.name === g.door);
        const forSec = Math.ceil((g.until - Date.now()) / 1000);
        const fields = { door: g.door, src: g.address };
        if (door === undefined) {
          log.emit(
            "cluster",
            `${g.address}: ${g.door}: grant from node "${g.origin}" ignored: no such door here`,
            "L",
            fields,
          );
          return;
        }
        if (forSec <= 0) return;
        log.emit(
          "open",
          `${g.address}: ${g.door}: OPEN SESAME (granted by node "${g.origin}" for ${forSec} s)`,
          "LV",
          fields,
        );
        applying = true;
        try {
          keeper.open(door, g.address, g.address.includes(":") ? 6 : 4, { forSec, via: "fleet" });
        } finally {
          applying = false;
        }
      },
      revoke(door, address, before) {
        // Replayed on (re)join: only a grant made before the revocation (one restored from the
        // state file after a restart), not one this node made since.
        if (
          before !== undefined &&
          !keeper.list().some((g) => g.door === door && g.address === address && g.since < before)
        ) return;
        applying = true;
        let closed;
        try {
          closed = keeper.revoke(address, door);
        } finally {
          applying = false;
        }
        if (closed.length > 0) {
          log.emit("cluster", `${address}: ${door}: revoked by the fleet`, "LV", {
            door,
            src: address,
          });
        }
      },
      log(_level, text) {
        log.emit("cluster", text, "LV");
      },
    },
    readyMs,
  );
  daemon?.setSingleUse((door, mark) => fleet.claim(door, mark));
  keeper.observe({
    opened(g) {
      if (!applying && g.until !== null) fleet.publishGrant(g.door, g.address, g.since, g.until);
    },
    revoked(g) {
      if (!applying) fleet.publishRevoke(g.door, g.address);
    },
  });
  return {
    fleet,
    status: () => fleet.status(),
    async close() {
      keeper.observe(undefined);
      daemon?.setSingleUse(undefined);
      await fleet.close();
    },
  };
}
