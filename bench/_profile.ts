/**
 * A V8 CPU profile of a Deno process started with `--inspect=HOST:PORT`, taken through the
 * DevTools protocol (`Profiler.start` / `Profiler.stop` over the inspector's WebSocket), and a
 * summary of self time per function. Used by `bench/harness.ts --profile FILE`.
 *
 * @module
 */

/** A node of a `.cpuprofile`. */
export interface ProfileNode {
  /** Node id. */
  readonly id: number;
  /** The function. */
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  /** Samples whose top frame was this node. */
  readonly hitCount?: number;
}

/** A `.cpuprofile` (the parts used here). */
export interface CpuProfile {
  /** Call-tree nodes. */
  readonly nodes: readonly ProfileNode[];
  /** Start, microseconds. */
  readonly startTime: number;
  /** End, microseconds. */
  readonly endTime: number;
  /** Sampled node ids. */
  readonly samples?: readonly number[];
}

/** Self time of one function. */
export interface SelfTime {
  /** `name file:line`. */
  readonly where: string;
  /** Share of the busy (non-idle) samples, 0–1. */
  readonly share: number;
  /** Samples. */
  readonly hits: number;
}

/**
 * Sums samples per function (name, file and line) and sorts them, most first. `(idle)` samples
 * are left out, so shares are of the time the thread was busy.
 *
 * @param profile The profile.
 * @param top How many to keep.
 * @returns The heaviest functions.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { selfTimes } from "./_profile.ts";
 * const cf = (functionName: string) => ({ functionName, url: "file:///x.ts", lineNumber: 0 });
 * const t = selfTimes({
 *   startTime: 0,
 *   endTime: 1,
 *   nodes: [
 *     { id: 1, callFrame: cf("a"), hitCount: 1 },
 *     { id: 2, callFrame: cf("b"), hitCount: 3 },
 *     { id: 3, callFrame: cf("(idle)"), hitCount: 100 },
 *   ],
 * }, 1);
 * assert.equal(t.length, 1);
 * assert.equal(t[0]!.hits, 3);
 * assert.equal(t[0]!.share, 0.75);
 * ```
 */
export function selfTimes(profile: CpuProfile, top: number): SelfTime[] {
  const byWhere = new Map<string, number>();
  let total = 0;
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0;
    const f = n.callFrame;
    if (hits === 0 || f.functionName === "(idle)") continue;
    const file = f.url === ""
      ? ""
      : ` ${f.url.replace(/^file:\/\/\/work\/main\//, "")}:${f.lineNumber + 1}`;
    const where = `${f.functionName === "" ? "(anonymous)" : f.functionName}${file}`;
    byWhere.set(where, (byWhere.get(where) ?? 0) + hits);
    total += hits;
  }
  return [...byWhere.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([where, hits]) => ({ where, hits, share: total === 0 ? 0 : hits / total }));
}

/** A connected inspector session. */
export class InspectorSession {
  #ws: WebSocket;
  #next = 1;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (ev) => {
      const msg = JSON.parse(String(ev.data)) as {
        id?: number;
        result?: unknown;
        error?: { message: string };
      };
      if (msg.id === undefined) return;
      const p = this.#pending.get(msg.id);
      if (!p) return;
      this.#pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`Cannot run inspector command: ${msg.error.message}`));
      else p.resolve(msg.result);
    };
  }

  /**
   * Connects to the first target of an inspector at `host:port`, retrying for a while (the
   * process may still be starting).
   *
   * @param hostPort E.g. `127.0.0.1:9229`.
   * @param timeoutMs How long to keep trying.
   * @returns The session.
   * @throws {Error} When no target answers in time.
   */
  static async connect(hostPort: string, timeoutMs = 10_000): Promise<InspectorSession> {
    const end = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < end) {
      try {
        const res = await fetch(`http://${hostPort}/json/list`);
        const list = await res.json() as { webSocketDebuggerUrl?: string }[];
        const url = list[0]?.webSocketDebuggerUrl;
        if (url !== undefined) {
          const ws = new WebSocket(url);
          await new Promise<void>((resolve, reject) => {
            ws.onopen = () => resolve();
            ws.onerror = () => reject(new Error(`Cannot connect to "${url}"`));
          });
          return new InspectorSession(ws);
        }
      } catch (e) {
        last = e instanceof Error ? e.message : String(e);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`Cannot reach the inspector at "${hostPort}": ${last}`);
  }

  /**
   * Sends one command and waits for its result.
   *
   * @param method E.g. `Profiler.start`.
   * @param params Its parameters.
   * @returns The result object.
   */
  send(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Starts sampling every `intervalUs` microseconds. */
  async startProfile(intervalUs = 100): Promise<void> {
    await this.send("Profiler.enable");
    await this.send("Profiler.setSamplingInterval", { interval: intervalUs });
    await this.send("Profiler.start");
  }

  /** Stops sampling and returns the profile. */
  async stopProfile(): Promise<CpuProfile> {
    const r = await this.send("Profiler.stop") as { profile: CpuProfile };
    return r.profile;
  }

  /** Closes the connection and waits until it is closed. */
  async close(): Promise<void> {
    if (this.#ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((r) => this.#ws.addEventListener("close", () => r()));
    this.#ws.close();
    await Promise.race([closed, new Promise((r) => setTimeout(r, 1000))]);
  }
}
