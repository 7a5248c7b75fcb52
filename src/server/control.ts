/**
 * The control socket of `serve` (docs/GRANTS.md): a Unix stream socket (default
 * {@link DEFAULT_CONTROL_PATH}, mode 0600, never a network port) that answers one request per
 * connection. The request is one line of JSON (`{"cmd":"status"}`,
 * `{"cmd":"revoke","address":"192.0.2.2","door":"ssh"}`,
 * `{"cmd":"grant","address":"192.0.2.2","door":"ssh","for":60}`), the answer one line of JSON:
 * `{"ok":true,…}` or `{"ok":false,"error":"…"}`. A bad request changes nothing.
 *
 * @module
 */

/** Where `serve` listens and the subcommands connect without `--control`. */
export const DEFAULT_CONTROL_PATH = "/run/knocktool.sock";

/** Longest request line accepted (bytes). */
const MAX_REQUEST = 4096;

/** How long a client may take to send its request (ms). */
const REQUEST_TIMEOUT_MS = 5000;

/** A request. */
export type ControlRequest =
  | { readonly cmd: "status" }
  | { readonly cmd: "revoke"; readonly address: string; readonly door?: string }
  | {
    readonly cmd: "grant";
    readonly address: string;
    readonly door: string;
    readonly for?: number;
  };

/** An answer: `ok` with data, or the error text. */
export type ControlAnswer =
  | ({ readonly ok: true } & Record<string, unknown>)
  | { readonly ok: false; readonly error: string };

/** Serves the requests. Each method returns the answer's data, or throws an Error to refuse. */
export type ControlHandler = (request: ControlRequest) => Record<string, unknown>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Checks a decoded request.
 *
 * @param v The parsed JSON.
 * @returns The request, or the error text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRequest } from "./control.ts";
 * assert.deepEqual(parseRequest({ cmd: "status" }), { cmd: "status" });
 * assert.equal(parseRequest({ cmd: "open" }), 'Cannot serve request: unknown "cmd" "open"');
 * ```
 */
export function parseRequest(v: unknown): ControlRequest | string {
  if (typeof v !== "object" || v === null) return "Cannot serve request: not a JSON object";
  const r = v as Record<string, unknown>;
  const str = (k: string) => typeof r[k] === "string" && r[k] !== "";
  switch (r.cmd) {
    case "status":
      return { cmd: "status" };
    case "revoke":
      if (!str("address")) return 'Cannot serve request: "revoke" needs an "address"';
      if (r.door !== undefined && !str("door")) {
        return 'Cannot serve request: "door" must be a non-empty string';
      }
      return {
        cmd: "revoke",
        address: r.address as string,
        ...(r.door !== undefined ? { door: r.door as string } : {}),
      };
    case "grant":
      if (!str("address")) return 'Cannot serve request: "grant" needs an "address"';
      if (!str("door")) return 'Cannot serve request: "grant" needs a "door"';
      if (
        r.for !== undefined &&
        (typeof r.for !== "number" || !Number.isSafeInteger(r.for) || r.for <= 0)
      ) {
        return `Cannot serve request: "for" must be a positive whole number of seconds, got ${
          JSON.stringify(r.for)
        }`;
      }
      return {
        cmd: "grant",
        address: r.address as string,
        door: r.door as string,
        ...(r.for !== undefined ? { for: r.for as number } : {}),
      };
    default:
      return `Cannot serve request: unknown "cmd" ${JSON.stringify(r.cmd)}`;
  }
}

/** A listening control socket. */
export class ControlServer {
  readonly #listener: Deno.UnixListener;
  readonly #handler: ControlHandler;
  readonly #conns = new Set<Deno.UnixConn>();
  readonly #done: Promise<void>;
  /** The socket's path. */
  readonly path: string;

  private constructor(listener: Deno.UnixListener, path: string, handler: ControlHandler) {
    this.#listener = listener;
    this.path = path;
    this.#handler = handler;
    this.#done = this.#accept();
  }

  /**
   * Listens on `path` (mode 0600). A stale socket file left by a crash is replaced; a socket a
   * live server answers on is not.
   *
   * @param path The socket's path.
   * @param handler Serves the requests.
   * @returns The server.
   * @throws {Error} `Cannot listen on control socket "PATH": …`.
   */
  static async listen(path: string, handler: ControlHandler): Promise<ControlServer> {
    const fail = (why: string) =>
      new Error(`Cannot listen on control socket ${JSON.stringify(path)}: ${why}`);
    try {
      const st = Deno.lstatSync(path);
      if (!st.isSocket) throw fail("the path exists and is not a socket");
      try {
        const c = await Deno.connect({ transport: "unix", path });
        c.close();
        throw fail("another server answers on it");
      } catch (e) {
        if (e instanceof Error && e.message.startsWith("Cannot listen")) throw e;
        Deno.removeSync(path); // stale: nobody listens
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) {
        if (e instanceof Error && e.message.startsWith("Cannot listen")) throw e;
        throw fail(e instanceof Error ? e.message : String(e));
      }
    }
    let listener: Deno.UnixListener;
    try {
      listener = Deno.listen({ transport: "unix", path });
    } catch (e) {
      throw fail(e instanceof Error ? e.message : String(e));
    }
    try {
      Deno.chmodSync(path, 0o600);
    } catch (e) {
      listener.close();
      throw fail(e instanceof Error ? e.message : String(e));
    }
    return new ControlServer(listener, path, handler);
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        this.#conns.add(conn);
        void this.#serve(conn).finally(() => {
          this.#conns.delete(conn);
          try {
            conn.close();
          } catch {
            // already closed
          }
        });
      }
    } catch {
      // closed
    }
  }

  async #serve(conn: Deno.UnixConn): Promise<void> {
    const line = await readLine(conn);
    let answer: ControlAnswer;
    if (line === undefined) {
      answer = {
        ok: false,
        error: "Cannot serve request: no request line within 5 s or 4096 bytes",
      };
    } else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        parsed = undefined;
      }
      const req = parsed === undefined ? "Cannot serve request: not JSON" : parseRequest(parsed);
      if (typeof req === "string") answer = { ok: false, error: req };
      else {
        try {
          answer = { ok: true, ...this.#handler(req) };
        } catch (e) {
          answer = { ok: false, error: e instanceof Error ? e.message : String(e) };
        }
      }
    }
    try {
      const bytes = encoder.encode(JSON.stringify(answer) + "\n");
      let off = 0;
      while (off < bytes.length) off += await conn.write(bytes.subarray(off));
    } catch {
      // the client went away
    }
  }

  /** Stops listening, closes the open connections and removes the socket file. */
  async close(): Promise<void> {
    try {
      this.#listener.close();
    } catch {
      // already closed
    }
    for (const c of this.#conns) {
      try {
        c.close();
      } catch {
        // already closed
      }
    }
    await this.#done;
    try {
      Deno.removeSync(this.path);
    } catch {
      // gone
    }
  }
}

/** Reads one line (without the newline), bounded in size and time; undefined when it fails. */
async function readLine(conn: Deno.Conn): Promise<string | undefined> {
  const buf = new Uint8Array(MAX_REQUEST + 1);
  let len = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), REQUEST_TIMEOUT_MS);
  });
  try {
    while (len < buf.length) {
      const n = await Promise.race([conn.read(buf.subarray(len)), timeout]);
      if (n === null) break;
      const nl = buf.subarray(len, len + n).indexOf(10);
      len += n;
      if (nl >= 0) return decoder.decode(buf.subarray(0, len - n + nl));
    }
    return len > 0 && len <= MAX_REQUEST ? decoder.decode(buf.subarray(0, len)) : undefined;
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Sends one request to a control socket and returns the answer.
 *
 * @param path The socket's path.
 * @param request The request.
 * @returns The answer.
 * @throws {Error} `Cannot connect to control socket "PATH": …` (is `serve` running? right
 *   `--control`?), or when the answer is not JSON.
 */
export async function requestControl(
  path: string,
  request: ControlRequest,
): Promise<ControlAnswer> {
  let conn: Deno.UnixConn;
  try {
    conn = await Deno.connect({ transport: "unix", path });
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "no such socket (is knocktool serve running, with this --control path?)"
      : e instanceof Deno.errors.ConnectionRefused
      ? "nobody listens on it (is knocktool serve running?)"
      : (e instanceof Error ? e.message : String(e));
    throw new Error(`Cannot connect to control socket ${JSON.stringify(path)}: ${why}`);
  }
  try {
    const bytes = encoder.encode(JSON.stringify(request) + "\n");
    let off = 0;
    while (off < bytes.length) off += await conn.write(bytes.subarray(off));
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(65536);
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
    const text = decoder.decode(concat(chunks));
    try {
      return JSON.parse(text) as ControlAnswer;
    } catch {
      throw new Error(
        `Cannot read the answer of control socket ${JSON.stringify(path)}: not JSON: ${
          JSON.stringify(text.slice(0, 80))
        }`,
      );
    }
  } finally {
    try {
      conn.close();
    } catch {
      // closed
    }
  }
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}
