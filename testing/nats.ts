/**
 * Real NATS servers for the cluster tests and benchmarks: Debian's `nats-server` with JetStream,
 * on loopback ports chosen at random, each with its own store directory; or, inside a network
 * namespace a test made, on all its addresses and fixed ports. A single server or a three-server
 * cluster (JetStream replicated over routes; {@link NatsServers.start} returns once the cluster
 * has elected its JetStream metadata leader, so a replicated bucket can be created at once), or a
 * hub with JetStream in a named domain and a leaf node server without JetStream connected to it
 * ({@link NatsServers.startHubAndLeaf}, docs/CLUSTER.md "Leaf nodes"); every server can be stopped
 * and started again on the same ports and store.
 * {@link NatsServers.destroy} kills them all and removes the stores; call it in `finally`.
 *
 * @module
 */

import { type BgProcess, type Netns, spawnBg, waitUntil } from "./netns.ts";

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

/** Where {@link NatsServers.start} runs the servers. */
export interface NatsPlacement {
  /**
   * Run inside this namespace, listening on all its addresses (`0.0.0.0`), client ports 4222,
   * 4223, 4224, route ports 6222, 6223, 6224, monitoring ports 8222, 8223, 8224. Default: this
   * namespace, `127.0.0.1`, random ports, no monitoring.
   */
  readonly netns?: Netns;
}

/** Whether a server log says the JetStream cluster has a metadata leader. */
const META_LEADER =
  /JetStream cluster new metadata leader|Self is new JetStream cluster metadata leader/;

interface ServerSpec {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly routePort: number | undefined;
  readonly monitorPort: number | undefined;
  readonly store: string;
  /** A config file's text (leaf node settings have no command-line flags), else undefined. */
  readonly conf?: string;
}

/** One server or a cluster of them. Make with {@link NatsServers.start}. */
export class NatsServers {
  readonly #dir: string;
  readonly #specs: ServerSpec[];
  readonly #procs: (BgProcess | undefined)[];
  readonly #netns: Netns | undefined;
  #starts = 0;

  private constructor(dir: string, specs: ServerSpec[], netns: Netns | undefined) {
    this.#dir = dir;
    this.#specs = specs;
    this.#netns = netns;
    this.#procs = specs.map(() => undefined);
  }

  /**
   * Starts `count` JetStream servers (1, or 3 for a cluster) and waits until each is ready, and
   * a cluster until it has a JetStream metadata leader.
   *
   * @param count How many servers.
   * @param placement Where they run (default: loopback of this namespace, random ports).
   * @returns The servers.
   */
  static async start(count = 1, placement: NatsPlacement = {}): Promise<NatsServers> {
    const dir = await Deno.makeTempDir({ prefix: "kt-nats-" });
    const ns = placement.netns;
    const specs: ServerSpec[] = [];
    for (let i = 0; i < count; i++) {
      specs.push({
        name: `kt${Deno.pid}n${i}`,
        host: ns === undefined ? "127.0.0.1" : "0.0.0.0",
        port: ns === undefined ? freePort() : 4222 + i,
        routePort: count <= 1 ? undefined : ns === undefined ? freePort() : 6222 + i,
        monitorPort: ns === undefined ? undefined : 8222 + i,
        store: `${dir}/store${i}`,
      });
    }
    const servers = new NatsServers(dir, specs, ns);
    try {
      await Promise.all(specs.map((_, i) => servers.startServer(i)));
      if (count > 1) {
        await waitUntil(() => servers.#procs.some((p) => META_LEADER.test(p?.stderr() ?? "")), {
          what: "the NATS cluster to elect its JetStream metadata leader",
          timeoutMs: 30_000,
          context: () => specs.map((_, i) => servers.describe(i)).join("\n"),
        });
      }
    } catch (e) {
      await servers.destroy();
      throw e;
    }
    return servers;
  }

  /**
   * Starts a hub (JetStream in domain `domain`, accepting leaf node connections; server 0) and a
   * leaf node server without JetStream connected to it (server 1), on loopback, and waits until
   * the leaf has its connection to the hub.
   *
   * @param domain The hub's JetStream domain.
   * @returns The servers: `urls[0]` the hub, `urls[1]` the leaf.
   */
  static async startHubAndLeaf(domain: string): Promise<NatsServers> {
    const dir = await Deno.makeTempDir({ prefix: "kt-nats-" });
    const [hub, leaf, leafPort] = [freePort(), freePort(), freePort()];
    const spec = (i: number, port: number, conf: string): ServerSpec => ({
      name: `kt${Deno.pid}n${i}`,
      host: "127.0.0.1",
      port,
      routePort: undefined,
      monitorPort: undefined,
      store: `${dir}/store${i}`,
      conf: `server_name: kt${Deno.pid}n${i}\nlisten: "127.0.0.1:${port}"\n${conf}`,
    });
    const servers = new NatsServers(dir, [
      spec(
        0,
        hub,
        `jetstream { store_dir: "${dir}/store0", domain: ${domain} }\n` +
          `leafnodes { listen: "127.0.0.1:${leafPort}" }\n`,
      ),
      spec(1, leaf, `leafnodes { remotes = [ { url: "nats://127.0.0.1:${leafPort}" } ] }\n`),
    ], undefined);
    try {
      await servers.startServer(0);
      await servers.startServer(1);
      await waitUntil(() => /Leafnode connection created/.test(servers.#procs[1]?.stderr() ?? ""), {
        what: "the leaf node server to connect to the hub",
        timeoutMs: 15_000,
        context: () => `${servers.describe(0)}\n${servers.describe(1)}`,
      });
    } catch (e) {
      await servers.destroy();
      throw e;
    }
    return servers;
  }

  /** Client ports, one per server. */
  get ports(): number[] {
    return this.#specs.map((s) => s.port);
  }

  /** Monitoring ports, one per server (only inside a namespace). */
  get monitorPorts(): (number | undefined)[] {
    return this.#specs.map((s) => s.monitorPort);
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
    const file = `${this.#dir}/server${i}.conf`;
    if (spec.conf !== undefined) await Deno.writeTextFile(file, spec.conf);
    const args = spec.conf !== undefined ? [NATS_SERVER, "-c", file] : [
      NATS_SERVER,
      "-js",
      "-a",
      spec.host,
      "-p",
      String(spec.port),
      "-sd",
      spec.store,
      "--server_name",
      spec.name,
    ];
    if (spec.monitorPort !== undefined) args.push("-m", String(spec.monitorPort));
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
    const label = `nats${i}-${++this.#starts}`;
    const proc = this.#netns === undefined
      ? spawnBg(this.#dir, label, args)
      : this.#netns.spawn(label, args);
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
