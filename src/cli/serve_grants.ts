/**
 * `serve`'s grants (docs/GRANTS.md): for a config that uses the grant extensions, loads
 * libnftables when a door names a set, verifies every set, and makes the grant keeper with the
 * state file under `State_Dir`, restoring the grants a previous run left.
 *
 * @module
 */
import type { Config } from "../config/model.ts";
import type { ParseResult } from "../config/parse.ts";
import { DEFAULT_STATE_DIR } from "../config/defaults.ts";
import { EXTENSIONS, extensionsUsed, usesFeature } from "../config/extensions.ts";
import type { DoorActions } from "../server/actions.ts";
import type { ServerLog } from "../server/log.ts";
import { GrantKeeper } from "../server/grant_keeper.ts";
import { GrantState } from "../server/grant_state.ts";
import { NftSets } from "../server/nft_sets.ts";
import { ControlServer, DEFAULT_CONTROL_PATH } from "../server/control.ts";
import type { Daemon } from "../server/daemon.ts";
import { buildStatus, grantStatus } from "../server/status.ts";
import { formatPrometheus } from "../server/metrics.ts";
import type { Io } from "../util/io.ts";

/** The grant machinery of one `serve` run. */
export interface ServeGrants {
  /** The keeper (undefined: the config uses no grant extension). */
  readonly keeper: GrantKeeper | undefined;
  /** The sets, when a door names one. */
  readonly sets: NftSets | undefined;
  /** Frees libnftables. */
  close(): void;
}

/**
 * SIGHUP: refuses a new config whose sets are not usable (docs/GRANTS.md), or that would need
 * grants or libnftables when the running server started without them (that needs a restart).
 *
 * @param grants The grants of the run.
 * @param r The new config as loaded.
 * @returns `r`, or the reason to keep the running config.
 */
export function checkReload(grants: ServeGrants, r: ParseResult): ParseResult {
  if (!r.ok) return r;
  const refuse = (text: string): ParseResult => ({
    ok: false,
    error: { message: text, knockdText: text },
  });
  // One line per directive that needs a restart; the whole reload is refused, since the doors
  // would open differently without them.
  const needRestart = (feature: string, why: string) =>
    extensionsUsed(r.config).filter((u) =>
      EXTENSIONS[u.directive.toUpperCase()]?.feature === feature
    )
      .map((u) => `Cannot apply "${u.directive}" (line ${u.line}) on reload: ${why}`);
  if (grants.keeper === undefined && usesFeature(r.config, "grants")) {
    return refuse(
      needRestart(
        "grants",
        "the server started without the grant extensions; restart it",
      ).join("\n"),
    );
  }
  if (!needsSets(r.config)) return r;
  if (grants.sets === undefined) {
    return refuse(
      needRestart("grants", "")
        .filter((l) => /"Nft_Set(_6)?"/.test(l))
        .map((l) =>
          l + "libnftables is loaded only when the starting config names a set; restart the server"
        )
        .join("\n"),
    );
  }
  const problems = verifySets(grants.sets, r.config);
  return problems.length === 0 ? r : refuse(problems.join("\n"));
}

/** No grants: a config without the grant extensions. */
export const NO_GRANTS: ServeGrants = { keeper: undefined, sets: undefined, close() {} };

/**
 * Checks every `Nft_Set` / `Nft_Set_6` of a config against the kernel.
 *
 * @param sets libnftables.
 * @param config The config.
 * @returns One message per unusable set (empty: all fine).
 */
export function verifySets(sets: NftSets, config: Config): string[] {
  const problems: string[] = [];
  for (const d of config.doors) {
    if (d.nftSet !== undefined) {
      const p = sets.verify(d.nftSet, "Nft_Set", 4);
      if (p !== undefined) problems.push(p);
    }
    if (d.nftSet6 !== undefined) {
      const p = sets.verify(d.nftSet6, "Nft_Set_6", 6);
      if (p !== undefined) problems.push(p);
    }
  }
  return problems;
}

/** Whether a config names an nftables set. */
export function needsSets(config: Config): boolean {
  return config.doors.some((d) => d.nftSet !== undefined || d.nftSet6 !== undefined);
}

/**
 * Sets up the grants of a `serve` run.
 *
 * @param config The config.
 * @param abs Makes a path absolute under `-d`.
 * @param actions The command runner.
 * @param log The server log.
 * @returns The grants, or the message of why serve cannot start.
 */
export function setupGrants(
  config: Config,
  abs: (p: string | undefined) => string | undefined,
  actions: DoorActions,
  log: ServerLog,
): ServeGrants | string {
  // Cluster mode shares grants, so it needs the keeper too (docs/CLUSTER.md).
  if (!usesFeature(config, "grants") && config.options.cluster === undefined) {
    return NO_GRANTS;
  }
  let sets: NftSets | undefined;
  if (needsSets(config)) {
    try {
      sets = NftSets.open();
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
    const problems = verifySets(sets, config);
    if (problems.length > 0) {
      sets.close();
      return problems.join("\n");
    }
  }
  const state = new GrantState(abs(config.options.stateDir ?? DEFAULT_STATE_DIR)!);
  const keeper = new GrantKeeper({ actions, log, state, ...(sets !== undefined ? { sets } : {}) });
  const r = keeper.restore();
  if (r.ranStops > 0 || r.rescheduled > 0) {
    log.emit(
      "grant-restore",
      `Restored grants from ${
        JSON.stringify(state.path)
      }: ${r.ranStops} overdue stop commands run, ${r.rescheduled} grants rescheduled`,
      "LV",
    );
  }
  return { keeper, sets, close: () => sets?.close() };
}

/** What the control socket answers from. */
export interface ControlParts {
  /** The daemon. */
  readonly daemon: Daemon;
  /** The command runner. */
  readonly actions: DoorActions;
  /** The grants. */
  readonly grants: ServeGrants;
  /** Cluster mode's part of `status`: `{ cluster: … }`, or undefined without `Cluster`. */
  readonly cluster?: () => Record<string, unknown> | undefined;
}

/**
 * Opens the control socket. A failure is not fatal (the doors still work): with `--control` it
 * is a warning on stderr and in the log; on the default path, where a second server or a user
 * without write access to `/run` is normal, nothing is said (knockd's output stays exact).
 *
 * @param path `--control`, or undefined for the default.
 * @param parts What the requests are answered from.
 * @param log The server log.
 * @param io Where the warning goes.
 * @returns The server, or undefined.
 */
export async function openControl(
  path: string | undefined,
  parts: ControlParts,
  log: ServerLog,
  io: Io,
): Promise<ControlServer | undefined> {
  const { daemon, actions, grants } = parts;
  const startedAt = Date.now();
  try {
    return await ControlServer.listen(path ?? DEFAULT_CONTROL_PATH, (req) => {
      switch (req.cmd) {
        case "status":
          return {
            status: {
              ...buildStatus({ daemon, actions, keeper: grants.keeper, startedAt }),
              ...(parts.cluster?.() ?? {}),
            },
          };
        case "revoke": {
          const now = Date.now();
          return {
            revoked: daemon.revoke(req.address, req.door).map((g) => grantStatus(g, now)),
          };
        }
        case "grant":
          return daemon.grant(req.door, req.address, req.for);
      }
    });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    // Silent on the default path: no line may differ from knockd's output, even under -D.
    if (path !== undefined) {
      log.emit("control", msg, "L");
      io.stderr(`warning: ${msg}\n`);
    }
    return undefined;
  }
}

/**
 * Parses `ADDR:PORT` (`127.0.0.1:9100`, `[::1]:9100`).
 *
 * @param spec The text.
 * @returns Host and port, or the error text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseListen } from "./serve_grants.ts";
 * assert.deepEqual(parseListen("[::1]:9100"), { hostname: "::1", port: 9100 });
 * assert.equal(typeof parseListen("9100"), "string");
 * ```
 */
export function parseListen(spec: string): { hostname: string; port: number } | string {
  const colon = spec.lastIndexOf(":");
  const host = colon < 0 ? "" : spec.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  const port = spec.slice(colon + 1);
  if (host === "" || !/^\d{1,5}$/.test(port) || Number(port) > 65535) {
    return `Cannot use --metrics-listen ${
      JSON.stringify(spec)
    }: expected ADDR:PORT (e.g. "127.0.0.1:9100" or "[::1]:9100")`;
  }
  return { hostname: host, port: Number(port) };
}

/**
 * Serves the Prometheus text at `/metrics` (`serve --metrics-listen ADDR:PORT`, opt-in).
 *
 * @param spec `ADDR:PORT`.
 * @param parts What the figures come from.
 * @returns A function that stops serving, or the error text.
 */
export function openMetrics(
  spec: string,
  parts: ControlParts,
): { close(): Promise<void> } | string {
  const at = parseListen(spec);
  if (typeof at === "string") return at;
  const { daemon, actions, grants } = parts;
  const startedAt = Date.now();
  try {
    const server = Deno.serve({ ...at, onListen: () => {} }, (req) => {
      if (new URL(req.url).pathname !== "/metrics") {
        return new Response("Not found: try /metrics\n", { status: 404 });
      }
      const report = buildStatus({ daemon, actions, keeper: grants.keeper, startedAt });
      return new Response(formatPrometheus(report), {
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      });
    });
    return { close: () => server.shutdown() };
  } catch (e) {
    return `Cannot listen for metrics on ${JSON.stringify(spec)}: ${
      e instanceof Error ? e.message : String(e)
    }`;
  }
}
