/**
 * `-l`: reverse lookups that never block the capture loop (knockd's docs/COMPATIBILITY.md B21,
 * fixed).
 *
 * knockd calls `gethostbyaddr` inside the packet callback. Here `getnameinfo(NI_NAMEREQD)` runs
 * as a non-blocking FFI call on Deno's thread pool, so NSS (`/etc/hosts`, DNS) answers as it
 * does for knockd. Results are cached (bounded, oldest evicted first); at most a few lookups run
 * at once and requests beyond a bounded queue are dropped. Log lines use the name once it is
 * known. A resolver that fails counts as "no name" (cached). {@link NssLookup.close} waits for
 * running lookups at most {@link CLOSE_WAIT_MS} (2 s): a slow resolver cannot delay shutdown
 * longer (the FFI call keeps its worker thread until libc returns; the process exits anyway).
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
  /** Waits (bounded) for running lookups, then unloads libc. */
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

/** Longest wait of {@link NssLookup.close} for lookups still running (2 s). */
export const CLOSE_WAIT_MS = 2000;

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
  /** Longest wait of `close()` for running lookups (default {@link CLOSE_WAIT_MS}). */
  readonly closeWaitMs?: number;
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
  readonly #closeWaitMs: number;
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
    this.#closeWaitMs = opts.closeWaitMs ?? CLOSE_WAIT_MS;
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
    let name: string | null;
    try {
      name = this.#resolveFn !== undefined
        ? await this.#resolveFn(ip)
        : await this.#getnameinfo(ip);
    } catch {
      name = null; // a failing resolver means "no name", never an unhandled rejection
    }
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

  /**
   * Waits for running lookups, at most the close wait ({@link CLOSE_WAIT_MS} by default; queued
   * ones are dropped), and unloads libc once no lookup is running.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#queue.length = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = new Promise<"limit">((resolve) => {
      timer = setTimeout(() => resolve("limit"), this.#closeWaitMs);
    });
    try {
      while (this.#running.size > 0) {
        if (await Promise.race([Promise.all([...this.#running]), limit]) === "limit") break;
      }
    } finally {
      clearTimeout(timer);
    }
    // libc stays loaded while a getnameinfo call still runs on its worker thread.
    if (this.#running.size === 0) {
      this.#lib?.close();
      this.#lib = undefined;
    }
  }
}
