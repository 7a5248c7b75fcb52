/**
 * What `knocktool status` shows (docs/GRANTS.md): the doors, the live grants with time left, the
 * attempts in progress and the counters since start, as one JSON-able report; its text form.
 * The Prometheus form is `metrics.ts`.
 *
 * @module
 */
import type { Daemon } from "./daemon.ts";
import type { DoorActions } from "./actions.ts";
import type { GrantKeeper } from "./grant_keeper.ts";
import { setText } from "./nft_sets.ts";
import type { Grant } from "./grants.ts";

/** One door in the report. */
export interface DoorStatus {
  /** Its name. */
  readonly name: string;
  /** False once its one-time sequences are used up. */
  readonly enabled: boolean;
  /** Unused lines left in its one-time sequences file (null: the door has none). */
  readonly oneTimeLeft: number | null;
  /** Knocks that matched a step, opens, and opens refused by `From`. */
  readonly knocks: number;
  /** Opens. */
  readonly opens: number;
  /** Opens refused by `From`. */
  readonly aclDrops: number;
}

/** One live grant in the report. */
export interface GrantStatus {
  /** Door name. */
  readonly door: string;
  /** Address. */
  readonly address: string;
  /** Opened (ISO time). */
  readonly since: string;
  /** Closes (ISO time), or null: never. */
  readonly until: string | null;
  /** Seconds left (rounded up), or null. */
  readonly secondsLeft: number | null;
  /** How it closes: `command`, `set inet kt allow4`, both joined by " + ", or `nothing`. */
  readonly closes: string;
  /** `knock`, `grant` or `restored`. */
  readonly via: string;
}

/** The counters since start. */
export interface StatusCounters {
  /** Frames the capture delivered. */
  packetsSeen: number;
  /** Knocks that matched a step of a sequence. */
  knocks: number;
  /** Doors opened (knocks and hand grants). */
  opens: number;
  /** Attempts a wrong knock ended. */
  invalidations: number;
  /** Repeated knocks ignored (docs/COMPATIBILITY.md "Repeats and retransmissions"). */
  repeatsIgnored: number;
  /** Attempts evicted from the full attempt table. */
  evictions: number;
  /** New attempts refused because the full attempt table held only attempts past stage 1. */
  attemptsRefused: number;
  /** Commands started. */
  commandsRun: number;
  /** Commands that failed. */
  commandsFailed: number;
  /** Commands that waited in the queue. */
  commandsQueued: number;
  /** Start commands skipped (with their stop commands) because the queue was full. */
  commandsSkipped: number;
  /** Opens refused by `From`. */
  aclDrops: number;
  /** Attempts not started because of `Max_Starts_Per_Minute`. */
  rateLimitDrops: number;
}

/** The whole report (`knocktool status --json`). */
export interface StatusReport {
  /** The server's process id. */
  readonly pid: number;
  /** Seconds since start. */
  readonly uptimeSeconds: number;
  /** True when doors open as grants (the config uses the grant extensions). */
  readonly grantMode: boolean;
  /** The doors. */
  readonly doors: readonly DoorStatus[];
  /** The live grants, oldest first. */
  readonly grants: readonly GrantStatus[];
  /** Attempts in progress. */
  readonly attempts: number;
  /** Commands waiting in the queue now. */
  readonly queuedCommands: number;
  /** Counters since start. */
  readonly counters: StatusCounters;
}

/** Where the report's figures come from. */
export interface StatusSources {
  /** The daemon. */
  readonly daemon: Daemon;
  /** The command runner. */
  readonly actions: DoorActions;
  /** The grant keeper, if any. */
  readonly keeper?: GrantKeeper | undefined;
  /** When serve started (ms since the epoch). */
  readonly startedAt: number;
  /** Counts unused one-time lines of a door's file (default: reads the file). */
  readonly oneTimeLeft?: (path: string) => number | null;
}

/**
 * One grant as the report shows it.
 *
 * @param g The grant.
 * @param now The time (ms since the epoch).
 * @returns Its report entry.
 */
export function grantStatus(g: Grant, now: number): GrantStatus {
  const closes = [
    ...(g.stop !== undefined ? ["command"] : []),
    ...(g.set !== undefined ? [`set ${setText(g.set)}`] : []),
  ];
  return {
    door: g.door,
    address: g.address,
    since: new Date(g.since).toISOString(),
    until: g.until === null ? null : new Date(g.until).toISOString(),
    secondsLeft: g.until === null ? null : Math.max(0, Math.ceil((g.until - now) / 1000)),
    closes: closes.length === 0 ? "nothing" : closes.join(" + "),
    via: g.via,
  };
}

/** Unused sequences in a one-time file: lines that are neither empty nor marked with '#'. */
function countOneTime(path: string): number | null {
  try {
    return Deno.readTextFileSync(path).split("\n").filter((l) => {
      const t = l.trim();
      return t !== "" && !t.startsWith("#");
    }).length;
  } catch {
    return null;
  }
}

/**
 * Builds the report.
 *
 * @param src Where the figures come from.
 * @param now The time (ms since the epoch).
 * @returns The report.
 */
export function buildStatus(src: StatusSources, now: number = Date.now()): StatusReport {
  const d = src.daemon;
  const count = src.oneTimeLeft ?? countOneTime;
  const doors = d.config.doors.map((door, i): DoorStatus => {
    const c = d.doorCounters.get(door.name);
    return {
      name: door.name,
      enabled: d.doors[i] !== null,
      oneTimeLeft: door.oneTimeSequencesFile === undefined
        ? null
        : d.doors[i] === null
        ? 0
        : count(door.oneTimeSequencesFile),
      knocks: c?.knocks ?? 0,
      opens: c?.opens ?? 0,
      aclDrops: c?.aclDrops ?? 0,
    };
  });
  const grants = d.grantMode
    ? (src.keeper?.list() ?? []).map((g) => grantStatus(g, now))
    // A knockd config: each stop command waiting for its timer is a grant closed by a command.
    : src.actions.pendingStopList().map((p) =>
      grantStatus({
        door: p.door,
        address: p.src,
        family: p.src.includes(":") ? 6 : 4,
        since: p.since,
        until: p.due,
        stop: "",
        via: "knock",
      }, now)
    );
  const m = d.matcherStats;
  return {
    pid: Deno.pid,
    uptimeSeconds: Math.max(0, Math.floor((now - src.startedAt) / 1000)),
    grantMode: d.grantMode,
    doors,
    grants,
    attempts: d.attemptCount,
    queuedCommands: src.actions.queuedCommands,
    counters: {
      packetsSeen: d.counters.frames,
      knocks: d.counters.knocks,
      opens: d.counters.opens,
      invalidations: m.invalidations,
      repeatsIgnored: d.repeatsIgnored,
      evictions: m.evictions,
      attemptsRefused: m.refusals,
      commandsRun: src.actions.outcomes.run,
      commandsFailed: src.actions.outcomes.failed,
      commandsQueued: src.actions.counters.queued,
      commandsSkipped: src.actions.counters.skippedStarts,
      aclDrops: d.counters.aclDrops,
      rateLimitDrops: m.rateLimitDrops,
    },
  };
}

const COUNTER_LABELS: Readonly<Record<keyof StatusCounters, string>> = {
  packetsSeen: "packets seen",
  knocks: "knocks",
  opens: "opens",
  invalidations: "invalidations",
  repeatsIgnored: "repeats ignored",
  evictions: "evictions",
  attemptsRefused: "attempts refused",
  commandsRun: "commands run",
  commandsFailed: "commands failed",
  commandsQueued: "commands queued",
  commandsSkipped: "commands skipped",
  aclDrops: "ACL drops",
  rateLimitDrops: "rate-limit drops",
};

/**
 * The report as text (`knocktool status`).
 *
 * @param r The report.
 * @returns Lines ending in a newline.
 */
export function formatStatus(r: StatusReport): string {
  const lines: string[] = [];
  lines.push(
    `knocktool serve, pid ${r.pid}, up ${r.uptimeSeconds} s${
      r.grantMode ? "" : " (no grant extension: doors open as under knockd)"
    }`,
  );
  lines.push("", "Doors");
  for (const d of r.doors) {
    const ot = d.oneTimeLeft === null ? "" : `, ${d.oneTimeLeft} one-time sequences left`;
    lines.push(
      `  ${d.name}: ${
        d.enabled ? "enabled" : "disabled"
      }${ot}; ${d.knocks} knocks, ${d.opens} opens, ${d.aclDrops} ACL drops`,
    );
  }
  lines.push("", r.grants.length === 0 ? "Grants: none" : `Grants (${r.grants.length})`);
  for (const g of r.grants) {
    const left = g.secondsLeft === null ? "no end" : `${g.secondsLeft} s left`;
    lines.push(`  ${g.door}  ${g.address}  ${left}, closes by ${g.closes}, since ${g.since}`);
  }
  lines.push("", `Attempts in progress: ${r.attempts}`);
  lines.push(`Commands waiting: ${r.queuedCommands}`);
  lines.push("", "Counters since start");
  const width = Math.max(...Object.values(COUNTER_LABELS).map((l) => l.length));
  for (const [k, label] of Object.entries(COUNTER_LABELS)) {
    const v: number | undefined = r.counters[k as keyof StatusCounters];
    // A server started before a counter existed does not report it.
    if (v !== undefined) lines.push(`  ${label.padEnd(width)}  ${v}`);
  }
  return lines.join("\n") + "\n";
}
