/**
 * Real NATS servers for the cluster tests and benchmarks: Debian's `nats-server` with JetStream,
 * on loopback ports chosen at random, each with its own store directory. A single server or a
 * three-server cluster (JetStream replicated over routes); every server can be stopped and started
 * again on the same ports and store. {@link NatsServers.destroy} kills them all and removes the
 * stores; call it in `finally`.
 *
 * @module
 */

import { type BgProcess, spawnBg, waitUntil } from "./netns.ts";

/** Where Debian installs the server. */
export const NATS_SERVER = "/usr/sbin/nats-server";

/**
 * Whether Debian's `nats-server` is installed (the prerequisite of the cluster tests).
 *
 * @returns True when it is.
 */
export function hasNatsServer(): boolean {
  try {
    return Deno.statSync(NATS_SERVER).isFile;
  } catch {
    return false;
  }
}

/** A free TCP port on 127.0.0.1 (free when asked; the caller binds it soon after). */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

interface ServerSpec {
  readonly name: string;
  readonly port: number;
  readonly routePort: number | undefined;
  readonly store: string;
}

/** One server or a cluster of them. Make with {@link NatsServers.start}. */
export class NatsServers {
  readonly #dir: string;
  readonly #specs: ServerSpec[];
  readonly #procs: (BgProcess | undefined)[];
  #starts = 0;

  private constructor(dir: string, specs: ServerSpec[]) {
    this.#dir = dir;
    this.#specs = specs;
    this.#procs = specs.map(() => undefined);
  }

  /**
   * Starts `count` JetStream servers (1, or 3 for a cluster) and waits until each is ready.
   *
   * @param count How many servers.
   * @returns The servers.
   */
  static async start(count = 1): Promise<NatsServers> {
    const dir = await Deno.makeTempDir({ prefix: "kt-nats-" });
    const specs: ServerSpec[] = [];
    for (let i = 0; i < count; i++) {
      specs.push({
        name: `kt${Deno.pid}n${i}`,
        port: freePort(),
        routePort: count > 1 ? freePort() : undefined,
        store: `${dir}/store${i}`,
      });
    }
    const servers = new NatsServers(dir, specs);
    try {
      await Promise.all(specs.map((_, i) => servers.startServer(i)));
    } catch (e) {
      await servers.destroy();
      throw e;
    }
    return servers;
  }

  /** Client URLs, one per server (`nats://127.0.0.1:PORT`). */
  get urls(): string[] {
    return this.#specs.map((s) => `nats://127.0.0.1:${s.port}`);
  }

  /**
   * Starts server `i` (again), on its ports and store, and waits until it is ready.
   *
   * @param i Which server.
   */
  async startServer(i: number): Promise<void> {
    const spec = this.#specs[i]!;
    const args = [
      NATS_SERVER,
      "-js",
      "-a",
      "127.0.0.1",
      "-p",
      String(spec.port),
      "-sd",
      spec.store,
      "--server_name",
      spec.name,
    ];
    if (spec.routePort !== undefined) {
      const routes = this.#specs.filter((s) => s !== spec)
        .map((s) => `nats://127.0.0.1:${s.routePort}`).join(",");
      args.push(
        "--cluster_name",
        `kt${Deno.pid}`,
        "--cluster",
        `nats://127.0.0.1:${spec.routePort}`,
        "--routes",
        routes,
      );
    }
    const proc = spawnBg(this.#dir, `nats${i}-${++this.#starts}`, args);
    this.#procs[i] = proc;
    await waitUntil(() => proc.exited !== undefined || /Server is ready/.test(proc.stderr()), {
      what: `nats-server ${i} to be ready`,
      timeoutMs: 15_000,
    });
    if (proc.exited !== undefined) throw new Error(`Cannot start nats-server:\n${proc.describe()}`);
  }

  /**
   * Stops server `i` with `signal` and waits for it to exit.
   *
   * @param i Which server.
   * @param signal SIGTERM (default) or SIGKILL.
   */
  async stopServer(i: number, signal: Deno.Signal = "SIGTERM"): Promise<void> {
    const proc = this.#procs[i];
    this.#procs[i] = undefined;
    if (proc !== undefined) await proc.stop(signal);
  }

  /** What server `i` logged, for failure messages. */
  describe(i = 0): string {
    return this.#procs[i]?.describe() ?? `nats-server ${i} is not running`;
  }

  /** Kills every server and removes the stores. */
  async destroy(): Promise<void> {
    for (let i = 0; i < this.#procs.length; i++) await this.stopServer(i, "SIGKILL");
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}
