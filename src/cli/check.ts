/**
 * `knocktool check [-c FILE] [-i IFACE] [-4] [--json]`: loads a knockd.conf as `serve` would and
 * prints an account of it — every door with its resolved settings, the BPF filters for the
 * interface's current addresses, and the warnings — or the error that would stop `serve`.
 *
 * @module
 */
import { object } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import { optional, withDefault } from "@optique/core/modifiers";
import { command, constant, option } from "@optique/core/primitives";
import { string } from "@optique/core/valueparser";
import type { Io } from "../io.ts";
import { withPcap } from "../../ffi/libpcap.ts";
import { readAddresses } from "../server/addresses.ts";
import { loadConfig } from "../config/load.ts";
import type { Config, Door } from "../config/model.ts";
import { TCP_FLAG_NAMES } from "../config/model.ts";
import { captureFilter, knockdFilter, type LocalAddresses } from "../config/filter.ts";
import { lintConfig, type Warning } from "../config/lint.ts";

/** knockd's default config path. */
export const DEFAULT_CONFIG = "/etc/knockd.conf";

/** The `check` subcommand's parser. */
export const checkCommand = command(
  "check",
  object({
    cmd: constant("check"),
    config: withDefault(
      option("-c", "--config", string({ metavar: "FILE" }), {
        description: message`Config file to check.`,
      }),
      DEFAULT_CONFIG,
    ),
    iface: optional(
      option("-i", "--interface", string({ metavar: "IFACE" }), {
        description:
          message`Interface whose addresses go into the filter (default: the config's ${"Interface"}, else ${"eth0"}).`,
      }),
    ),
    ipv4Only: option("-4", "--only-ip-v4", {
      description: message`Leave IPv6 out of the filter, as ${"serve -4"} does.`,
    }),
    json: option("--json", { description: message`Print one JSON object for scripts.` }),
  }),
  {
    description:
      message`Check a knockd.conf: show every door, the capture filter and the warnings; exit 1 on an error.`,
  },
);

/** Options of `check`. */
export interface CheckOptions {
  /** The subcommand tag. */
  readonly cmd: "check";
  /** Config file (default /etc/knockd.conf). */
  readonly config?: string;
  /** Interface for the filter's local addresses. */
  readonly iface?: string | undefined;
  /** knockd's `-4`. */
  readonly ipv4Only?: boolean;
  /** Print JSON. */
  readonly json?: boolean;
}

/** Where `check` gets an interface's addresses (injectable for tests). */
export interface CheckDeps {
  /**
   * The interface's addresses in knockd's order, or null when the interface does not exist.
   * Throws when they cannot be read at all.
   */
  readonly addresses?: (iface: string, ipv4Only: boolean) => LocalAddresses | null;
}

/** What `check` found out about the interface. */
interface IfaceReport {
  name: string;
  source: "command line" | "config" | "default";
  addresses: LocalAddresses | null;
  problem?: string;
}

/** Reads addresses the way `serve` does: libpcap's device list (getifaddrs order, reversed). */
function pcapAddresses(iface: string, ipv4Only: boolean): LocalAddresses | null {
  const state = withPcap((p) => readAddresses(p, iface, ipv4Only));
  return state.device === undefined && iface !== "any" ? null : state.addresses;
}

/**
 * Runs `check`: exit 0 with the account of the config, 1 with the error.
 *
 * @param opts Parsed options.
 * @param io Where to print.
 * @param deps Address source (default: libpcap, as `serve`).
 * @returns The exit status.
 */
export function runCheck(opts: CheckOptions, io: Io, deps: CheckDeps = {}): Promise<number> {
  const path = opts.config ?? DEFAULT_CONFIG;
  const ipv4Only = opts.ipv4Only ?? false;
  const r = loadConfig(path);
  if (!r.ok) {
    if (opts.json) {
      io.stdout(JSON.stringify({ ok: false, config: path, error: r.error }, null, 2) + "\n");
    }
    io.stderr(r.error.message + "\n");
    return Promise.resolve(1);
  }
  const config = r.config;
  const iface: IfaceReport = {
    name: opts.iface ?? config.options.interface ?? "eth0",
    source: opts.iface !== undefined
      ? "command line"
      : config.options.interface !== undefined
      ? "config"
      : "default",
    addresses: null,
  };
  try {
    iface.addresses = deps.addresses !== undefined
      ? deps.addresses(iface.name, ipv4Only)
      : pcapAddresses(iface.name, ipv4Only);
    if (iface.addresses === null) iface.problem = `interface "${iface.name}" does not exist`;
  } catch (e) {
    iface.problem = `cannot read the addresses of "${iface.name}": ${
      e instanceof Error ? e.message : String(e)
    }`;
  }
  const addrs = iface.addresses ?? { v4: [], v6: [] };
  const filters = {
    knockd: knockdFilter(config.doors, addrs, ipv4Only),
    capture: captureFilter(config.doors, addrs, ipv4Only),
  };
  const warnings = lintConfig(config);
  if (opts.json) {
    io.stdout(
      JSON.stringify(
        {
          ok: true,
          config: path,
          options: config.options,
          doors: config.doors.map(doorJson),
          interface: iface,
          filter: filters,
          warnings,
        },
        null,
        2,
      ) + "\n",
    );
  } else {
    io.stdout(describe(path, config, iface, filters, warnings, ipv4Only));
  }
  return Promise.resolve(0);
}

function flagsText(d: Door): string {
  const parts = TCP_FLAG_NAMES.flatMap((f) => {
    const want = d.tcpFlags[f];
    return want === undefined ? [] : [want === "set" ? f : `!${f}`];
  });
  return parts.length === 0 ? "any" : parts.join(",");
}

/** A command with its IPv6 variant resolved as knockd resolves it (reference §2.3). */
function resolved6(v6: string | undefined, v4: string | undefined, what: string, key: string) {
  if (v6 === undefined) {
    return {
      command: v4 ?? null,
      text: v4 === undefined ? "none" : `same as ${what} (${key} not set)`,
    };
  }
  return { command: v6, text: v6 === "" ? `nothing (${key} is empty)` : v6 };
}

function doorJson(d: Door) {
  return {
    ...d,
    flags: flagsText(d),
    effectiveStartCommand6: resolved6(d.startCommand6, d.startCommand, "", "").command,
    effectiveStopCommand6: resolved6(d.stopCommand6, d.stopCommand, "", "").command,
  };
}

function describe(
  path: string,
  config: Config,
  iface: IfaceReport,
  filters: { knockd: string; capture: string },
  warnings: readonly Warning[],
  ipv4Only: boolean,
): string {
  const lines: string[] = [];
  const n = config.doors.length;
  lines.push(`Config "${path}" is valid: ${n} door${n === 1 ? "" : "s"}`);
  const o = config.options;
  lines.push("", "Options");
  lines.push(`  UseSyslog      ${o.useSyslog ? "yes" : "no"}`);
  lines.push(`  LogFile        ${o.logFile ?? "(none)"}`);
  lines.push(`  PidFile        ${o.pidFile ?? "(none: /var/run/knockd.pid with -d)"}`);
  lines.push(`  Interface      ${o.interface ?? "(not set)"}`);
  for (const d of config.doors) {
    lines.push("", `Door "${d.name}" (line ${d.line})`);
    const seq = d.sequence.map((k) => `${k.port}/${k.protocol}`).join(", ");
    if (d.oneTimeSequencesFile !== undefined) {
      lines.push(`  One-time file  ${d.oneTimeSequencesFile}`);
      lines.push(`  Sequence       ${seq} (current)`);
    } else {
      lines.push(`  Sequence       ${seq}`);
    }
    lines.push(`  TCP flags      ${flagsText(d)}`);
    lines.push(`  Seq_Timeout    ${d.seqTimeout} s`);
    lines.push(`  Target         ${d.target ?? "(the interface's own addresses)"}`);
    lines.push(`  Start command  ${d.startCommand ?? "none"}`);
    lines.push(
      `  IPv6 start     ${
        resolved6(d.startCommand6, d.startCommand, "start command", "Start_Command_6").text
      }`,
    );
    lines.push(`  Cmd_Timeout    ${d.cmdTimeout} s`);
    lines.push(`  Stop command   ${d.stopCommand ?? "none"}`);
    lines.push(
      `  IPv6 stop      ${
        resolved6(d.stopCommand6, d.stopCommand, "stop command", "Stop_Command_6").text
      }`,
    );
  }
  lines.push("", `Interface "${iface.name}" (${iface.source})`);
  if (iface.problem !== undefined) {
    lines.push(`  ${iface.problem}: the filter below has no addresses`);
  } else if (iface.addresses !== null) {
    const all = [...iface.addresses.v4, ...iface.addresses.v6];
    lines.push(
      all.length === 0
        ? `  has no ${
          ipv4Only ? "IPv4 " : ""
        }addresses: knockd would install no filter and doors without a Target could never open`
        : `  addresses      ${all.join(", ")}`,
    );
  }
  lines.push("", "Filter knockd 0.8 would install");
  lines.push(`  ${filters.knockd === "" ? "(none: every packet is captured)" : filters.knockd}`);
  lines.push("", "Filter knocktool serve installs");
  lines.push(`  ${filters.capture === "" ? "(none: every packet is captured)" : filters.capture}`);
  lines.push("", warnings.length === 0 ? "No warnings" : `Warnings (${warnings.length})`);
  for (const w of warnings) {
    lines.push(`  ${w.line !== undefined ? `line ${w.line}: ` : ""}${w.message}`);
  }
  return lines.join("\n") + "\n";
}
