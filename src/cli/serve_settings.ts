/**
 * What `knocktool serve` runs with: the options merged with the config as knockd merges them
 * (docs/COMPATIBILITY.md §1.1): `-i` wins over the config's `Interface`, the config's
 * `LogFile`/`PidFile` win over `-g`/`-p`; under `-d` every path is made absolute, because the
 * daemon is a re-spawned process.
 *
 * @module
 */
import { loadConfig } from "../config/load.ts";
import type { Config } from "../config/model.ts";
import { DEFAULT_INTERFACE, DEFAULT_PIDFILE } from "../config/defaults.ts";
import { parseFacility } from "../../ffi/syslog.ts";
import type { LocalAddresses } from "../server/addresses.ts";
import { parseIpv4, parseIpv6 } from "../wire/address.ts";
import { readEnv } from "../util/env.ts";
import type { ServeOptions } from "./serve_args.ts";
import { KNOCKD_USAGE } from "./serve_knockd_argv.ts";

/** The settings of one `serve` run. */
export interface ServeSettings {
  /** The loaded config. */
  readonly config: Config;
  /** Its path (absolute under `-d`), for reloads. */
  readonly configPath: string;
  /** `--address` values, for `--pcap-file`. */
  readonly addresses: LocalAddresses;
  /** The syslog facility number. */
  readonly facility: number;
  /** The interface to capture on. */
  readonly iface: string;
  /** The log file, if any. */
  readonly logFile: string | undefined;
  /** The capture file to replay, if any. */
  readonly pcapFile: string | undefined;
  /** The pidfile written under `-d`. */
  readonly pidFile: string;
  /** Makes a path absolute under `-d` (as the paths above are); keeps it otherwise. */
  readonly abs: (path: string | undefined) => string | undefined;
}

/** What {@link resolveServeSettings} gives: settings, or what to print before exiting 1. */
export type SettingsResult =
  | { readonly ok: true; readonly settings: ServeSettings }
  | { readonly ok: false; readonly stderr: string; readonly stdout: string };

/** Makes a path absolute against the current directory. */
function absolute(path: string): string {
  if (path.startsWith("/")) return path;
  return `${Deno.cwd()}/${path}`;
}

function parseAddresses(list: readonly string[]): LocalAddresses | string {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const a of list) {
    const b4 = parseIpv4(a);
    if (b4 !== null) {
      v4.push(a);
      continue;
    }
    if (parseIpv6(a) !== null) {
      v6.push(a);
      continue;
    }
    return `Cannot use address ${JSON.stringify(a)}: not an IPv4 or IPv6 address`;
  }
  return { v4, v6 };
}

/**
 * Loads the config and merges it with the options. Errors come worded for the mode: knockd's
 * text and usage when started as `knockd`, `knocktool serve: …` otherwise.
 *
 * @param opts The parsed options.
 * @returns The settings, or the error output.
 *
 * @example
 * ```ts
 * import { resolveServeSettings } from "./serve_settings.ts";
 * const r = resolveServeSettings({
 *   cmd: "serve",
 *   config: "/nonexistent/knockd.conf",
 *   daemon: false,
 *   debug: false,
 *   verbose: false,
 *   lookup: false,
 *   ipv4Only: false,
 *   dryRun: false,
 *   logFormat: "text",
 *   addresses: [],
 * });
 * if (r.ok || !r.stderr.startsWith("knocktool serve: ")) throw new Error("a missing config");
 * ```
 */
export function resolveServeSettings(opts: ServeOptions): SettingsResult {
  const knockd = opts.knockd === true;
  const fail = (text: string): SettingsResult => ({
    ok: false,
    stderr: `knocktool serve: ${text}\n`,
    stdout: "",
  });
  const configPath = opts.daemon ? absolute(opts.config) : opts.config;
  const loaded = loadConfig(configPath);
  if (!loaded.ok) {
    return knockd
      ? { ok: false, stderr: loaded.error.knockdText + "\n", stdout: KNOCKD_USAGE }
      : fail(loaded.error.message);
  }
  const config = loaded.config;
  const addresses = parseAddresses(opts.addresses);
  if (typeof addresses === "string") return fail(addresses);
  const facilityName = opts.syslogFacility ?? readEnv("KNOCKTOOL_SYSLOG_FACILITY") ?? "daemon";
  const facility = parseFacility(facilityName);
  if (facility === undefined) {
    return fail(`Cannot use syslog facility ${JSON.stringify(facilityName)}: unknown name`);
  }
  // knockd precedence: -i beats Interface=; LogFile=/PidFile= beat -g/-p.
  const abs = (p: string | undefined) => p === undefined || !opts.daemon ? p : absolute(p);
  return {
    ok: true,
    settings: {
      config,
      configPath,
      addresses,
      facility,
      // knockd fills in eth0 when the interface is still empty after the config, so an empty
      // `Interface =` (or `-i ""`) means the default.
      iface: opts.interface || config.options.interface || DEFAULT_INTERFACE,
      logFile: abs(config.options.logFile ?? opts.logFile),
      pcapFile: abs(opts.pcapFile),
      pidFile: abs(config.options.pidFile ?? opts.pidFile ?? DEFAULT_PIDFILE)!,
      abs,
    },
  };
}
