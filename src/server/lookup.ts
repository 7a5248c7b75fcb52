/**
 * `-l`: reverse lookups that never block the capture loop (knockd B21 fixed).
 *
 * knockd calls `gethostbyaddr` inside the packet callback. Here `getnameinfo(NI_NAMEREQD)` runs
 * as a non-blocking FFI call on Deno's thread pool, so NSS (`/etc/hosts`, DNS) answers as it
 * does for knockd. Results are cached (bounded, oldest evicted first); at most a few lookups run
 * at once and requests beyond a bounded queue are dropped. Log lines use the name once it is
 * known.
 *
 * @module
 */
import { parseIpv4, parseIpv6 } from "../wire/address.ts";

/** Reverse lookups as the daemon uses them. */
export interface HostLookup {
  /** The cached name of `ip`, if a lookup finished with one. */
  cached(ip: string): string | undefined;
  /** Starts a lookup of `ip` in the background unless it is cached or running. */
  request(ip: string): void;
  /** Waits for running lookups, then unloads libc. */
  close(): Promise<void>;
}

const SYMBOLS = {
  // int getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host, socklen_t hostlen,
  //                 char *serv, socklen_t servlen, int flags);
  getnameinfo: {
    parameters: ["buffer", "u32", "buffer", "u32", "pointer", "u32", "i32"],
    result: "i32",
    nonblocking: true,
  },
} as const;

const NI_NAMEREQD = 8;
const AF_INET = 2;
const AF_INET6 = 10;
const NI_MAXHOST = 1025;

/** Options of {@link NssLookup}. */
export interface NssLookupOptions {
  /** Cache size (default 1024 names). */
  readonly cacheSize?: number;
  /** Lookups running at once (default 4). */
  readonly concurrency?: number;
  /** Queued requests beyond the running ones (default 256); more are dropped. */
  readonly queueSize?: number;
  /** The resolver (default: libc `getnameinfo`); null means "no name". For tests. */
  readonly resolve?: (ip: string) => Promise<string | null>;
}

/** Encodes a `struct sockaddr_in`/`sockaddr_in6` for Linux. */
function sockaddr(ip: string): Uint8Array<ArrayBuffer> | null {
  const v4 = parseIpv4(ip);
  if (v4 !== null) {
    const sa = new Uint8Array(16);
    new DataView(sa.buffer).setUint16(0, AF_INET, true);
    sa.set(v4, 4);
    return sa;
  }
  const v6 = parseIpv6(ip);
  if (v6 !== null) {
    const sa = new Uint8Array(28);
    new DataView(sa.buffer).setUint16(0, AF_INET6, true);
    sa.set(v6, 8);
    return sa;
  }
  return null;
}

/**
 * Reverse lookups through libc's `getnameinfo` on a worker thread.
 *
 * @example
 * ```ts
 * import { NssLookup } from "./lookup.ts";
 * const l = new NssLookup();
 * l.request("127.0.0.1");
 * await l.close(); // waits for the lookup
 * console.log(l.cached("127.0.0.1")); // "localhost" with a usual /etc/hosts
 * ```
 */
export class NssLookup implements HostLookup {
  readonly #cache = new Map<string, string | null>();
  readonly #running = new Set<Promise<void>>();
  readonly #queue: string[] = [];
  readonly #queued = new Set<string>();
  readonly #cacheSize: number;
  readonly #concurrency: number;
  readonly #queueSize: number;
  readonly #resolveFn: ((ip: string) => Promise<string | null>) | undefined;
  #lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;
  #closed = false;

  /**
   * Makes the resolver; libc is loaded on the first request.
   *
   * @param opts Bounds.
   */
  constructor(opts: NssLookupOptions = {}) {
    this.#cacheSize = opts.cacheSize ?? 1024;
    this.#concurrency = opts.concurrency ?? 4;
    this.#queueSize = opts.queueSize ?? 256;
    this.#resolveFn = opts.resolve;
  }

  /** The cached name of `ip`. */
  cached(ip: string): string | undefined {
    return this.#cache.get(ip) ?? undefined;
  }

  /** Starts a background lookup of `ip`. */
  request(ip: string): void {
    if (this.#closed || this.#cache.has(ip) || this.#queued.has(ip)) return;
    if (this.#queue.length >= this.#queueSize) return;
    this.#queue.push(ip);
    this.#queued.add(ip);
    this.#pump();
  }

  #pump(): void {
    while (this.#running.size < this.#concurrency && this.#queue.length > 0) {
      const ip = this.#queue.shift()!;
      const p = this.#resolve(ip).finally(() => {
        this.#running.delete(p);
        this.#queued.delete(ip);
        this.#pump();
      });
      this.#running.add(p);
    }
  }

  async #resolve(ip: string): Promise<void> {
    const name = this.#resolveFn !== undefined
      ? await this.#resolveFn(ip)
      : await this.#getnameinfo(ip);
    if (this.#cache.size >= this.#cacheSize) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    this.#cache.set(ip, name);
  }

  async #getnameinfo(ip: string): Promise<string | null> {
    const sa = sockaddr(ip);
    let name: string | null = null;
    if (sa !== null) {
      this.#lib ??= Deno.dlopen("libc.so.6", SYMBOLS);
      const host = new Uint8Array(NI_MAXHOST);
      // The buffers stay referenced by this frame until the call settles (Deno keeps no reference).
      const rc = await this.#lib.symbols.getnameinfo(
        sa,
        sa.length,
        host,
        host.length,
        null,
        0,
        NI_NAMEREQD,
      );
      if (rc === 0) {
        const end = host.indexOf(0);
        name = new TextDecoder().decode(host.subarray(0, end < 0 ? host.length : end));
      }
    }
    return name;
  }

  /** Waits for running lookups (queued ones are dropped) and unloads libc. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#queue.length = 0;
    while (this.#running.size > 0) await Promise.all([...this.#running]);
    this.#lib?.close();
    this.#lib = undefined;
  }
}
