/**
 * libc `openlog`/`syslog`/`closelog` through FFI: the only way to log exactly as knockd's
 * `UseSyslog` does (to `/dev/log` with the ident `knockd`, at LOG_NOTICE, no PID).
 *
 * Declaring the variadic `syslog` with a fixed arity (`int, char*, char*`) is correct on the x86_64
 * and aarch64 Linux ABIs (docs/ARCHITECTURE.md, "Capture loop facts" §2), not on Apple arm64. libc
 * is loaded through `libc.ts`'s {@link openLibc} (glibc, then musl names).
 *
 * @module
 */

import { cString, openLibc } from "./libc.ts";
import { encodeRawText } from "../src/util/bytes.ts";

/** syslog facilities (`<syslog.h>` values, already shifted left by 3). */
export const FACILITIES: Readonly<Record<string, number>> = {
  kern: 0 << 3,
  user: 1 << 3,
  mail: 2 << 3,
  daemon: 3 << 3,
  auth: 4 << 3,
  syslog: 5 << 3,
  lpr: 6 << 3,
  news: 7 << 3,
  uucp: 8 << 3,
  cron: 9 << 3,
  authpriv: 10 << 3,
  ftp: 11 << 3,
  local0: 16 << 3,
  local1: 17 << 3,
  local2: 18 << 3,
  local3: 19 << 3,
  local4: 20 << 3,
  local5: 21 << 3,
  local6: 22 << 3,
  local7: 23 << 3,
};

/** LOG_NOTICE, the priority knockd logs every message at. */
export const LOG_NOTICE = 5;

/**
 * Parses a facility name (`daemon`, `user`, `local0`…, case-insensitive, optional `LOG_` prefix).
 *
 * @param name The facility name.
 * @returns The facility value, or undefined when the name is unknown.
 *
 * @example
 * ```ts
 * import { parseFacility } from "./syslog.ts";
 * if (parseFacility("LOG_DAEMON") !== 24) throw new Error("wrong facility");
 * ```
 */
export function parseFacility(name: string): number | undefined {
  const key = name.toLowerCase().replace(/^log_/, "");
  return Object.hasOwn(FACILITIES, key) ? FACILITIES[key] : undefined;
}

const SYMBOLS = {
  // void openlog(const char *ident, int option, int facility);
  openlog: { parameters: ["buffer", "i32", "i32"], result: "void" },
  // void syslog(int priority, const char *format, ...);  called as syslog(prio, "%s", msg)
  syslog: { parameters: ["i32", "buffer", "buffer"], result: "void" },
  // void closelog(void);
  closelog: { parameters: [], result: "void" },
} as const satisfies Deno.ForeignLibraryInterface;

/** An open connection to the system logger, as knockd makes with `openlog`. */
export class Syslog {
  #lib: Deno.DynamicLibrary<typeof SYMBOLS>;
  // glibc keeps the ident pointer: this buffer must live as long as the connection.
  #ident: Uint8Array<ArrayBuffer>;
  #format = cString("%s");
  #closed = false;

  private constructor(lib: Deno.DynamicLibrary<typeof SYMBOLS>, ident: Uint8Array<ArrayBuffer>) {
    this.#lib = lib;
    this.#ident = ident;
  }

  /**
   * Loads libc and calls `openlog(ident, 0, facility)`.
   *
   * @param ident The ident (knockd uses `knockd`).
   * @param facility A value of {@link FACILITIES} (Debian's knockd uses `daemon`).
   * @returns The connection; close it with {@link Syslog.close}.
   * @throws {Error} When no libc can be loaded.
   */
  static open(ident: string, facility: number): Syslog {
    const lib = openLibc(SYMBOLS);
    const log = new Syslog(lib, cString(ident));
    lib.symbols.openlog(log.#ident, 0, facility);
    return log;
  }

  /**
   * Sends one message at LOG_NOTICE, exactly as knockd's `syslog(LOG_NOTICE, "%s", msg)`.
   *
   * @param message The message, sent verbatim (a trailing newline is kept, as knockd does); config
   *   bytes that are not UTF-8 (kept as U+DC80–U+DCFF by the parser) are sent as the raw bytes.
   */
  notice(message: string): void {
    if (this.#closed) return;
    const bytes = encodeRawText(message);
    const c = new Uint8Array(bytes.length + 1);
    c.set(bytes);
    this.#lib.symbols.syslog(LOG_NOTICE, this.#format, c);
  }

  /** Calls `closelog` and unloads libc. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#lib.symbols.closelog();
    this.#lib.close();
  }
}
