/**
 * `knocktool check [-c FILE] [-i IFACE] [-4] [--json]`: loads a knockd.conf as `serve` would and
 * prints an account of it — every door with its resolved settings, the BPF filters for the
 * interface's current addresses, and the warnings — or the error that would stop `serve`.
 *
 * Over 400 lines because most of it is the text and JSON report of one subcommand (each door's
 * resolved settings, the filters, the warnings); the checks themselves live in `src/config/`.
 *
 * @module
 */
import type { Io } from "../util/io.ts";
import { DLT, LIVE_LINK_TYPES } from "../../ffi/dlt.ts";
import { compileFilter, type CompileResult, PcapError, withPcap } from "../../ffi/libpcap.ts";
import { LibcError } from "../../ffi/libc.ts";
import { readAddresses } from "../server/addresses.ts";
import { loadConfig } from "../config/load.ts";
import type { ClusterOptions, Config, Door } from "../config/model.ts";
import { clusterUrlsText, DEFAULT_CLUSTER_NAME } from "../config/cluster_directives.ts";
import { TCP_FLAG_NAMES } from "../config/model.ts";
import {
  BPF_MAX_INSNS,
  captureFilters,
  type FilterCandidate,
  type FilterLevel,
  knockdFilter,
  type LocalAddresses,
} from "../config/filter.ts";
import { lintConfig, type Warning } from "../config/lint.ts";
import { formatKnock } from "../config/sequence.ts";
import {
  DEFAULT_CONFIG_PATH,
  DEFAULT_INTERFACE,
  DEFAULT_PIDFILE,
  DEFAULT_STATE_DIR,
} from "../config/defaults.ts";
import { readSecretFile } from "../config/secret_file.ts";
import {
  deriveSequence,
  importSecretKey,
  SECRET_SKEW_STEPS,
  SECRET_SLOTS,
  secretStep,
  sequenceWords,
} from "../match/secret_derive.ts";
import { extensionsUsed, ignoredByKnockdLine, notLoadableLine } from "../config/extensions.ts";
import { NftSets, setText } from "../server/nft_sets.ts";
import { needsSets, verifySets } from "./serve_grants.ts";
import type { CheckOptions } from "./check_args.ts";

/** Where `check` gets an interface's addresses (injectable for tests). */
export interface CheckDeps {
  /**
   * The interface's addresses in knockd's order, or null when the interface does not exist.
   * Throws when they cannot be read at all.
   */
  readonly addresses?: (iface: string, ipv4Only: boolean) => LocalAddresses | null;
  /**
   * Compiles a filter for a link type and counts its BPF instructions (default: libpcap through
   * `pcap_open_dead`, as the capture would). Throws when it cannot compile at all.
   */
  readonly compile?: (linkType: number, text: string) => CompileResult;
  /** Wall clock in ms, for secret doors' current step (default `Date.now`). */
  readonly now?: () => number;
  /**
   * Checks the config's nftables sets (default: libnftables, as `serve`); one message per
   * unusable set.
   */
  readonly verifySets?: (config: Config) => string[];
}

/** Checks the sets through libnftables; a library that does not load is one problem. */
function kernelSets(config: Config): string[] {
  let sets: NftSets;
  try {
    sets = NftSets.open();
  } catch (e) {
    return [e instanceof Error ? e.message : String(e)];
  }
  try {
    return verifySets(sets, config);
  } finally {
    sets.close();
  }
}

/** The capture filter `serve` would install, as `check` found it. */
interface CaptureReport {
  /** Link type name. */
  linkType: string;
  /** The expression ("" when there is none). */
  text: string;
  /** Which candidate: `ports`, `hosts`, `ip`, or `none`. */
  level: FilterLevel | "none";
  /** Its BPF instruction count, when it was compiled. */
  instructions?: number;
  /** Why more exact candidates were not used, or why nothing could be compiled. */
  problems: string[];
  /** No candidate compiles within the limit: `serve` would capture without a filter. */
  failed: boolean;
}

const LINK_TYPES: Readonly<Record<string, number>> = Object.fromEntries(
  LIVE_LINK_TYPES.map((name) => [name, DLT[name]]),
);

/** libpcap or libc failed (cannot load, cannot list, cannot compile): reported, not a bug. */
function isLibraryError(e: unknown): e is PcapError | LibcError {
  return e instanceof PcapError || e instanceof LibcError;
}

/** Picks the candidate `serve` installs: the first that compiles within BPF_MAX_INSNS. */
function chooseCapture(
  candidates: readonly FilterCandidate[],
  linkType: string,
  compile: (linkType: number, text: string) => CompileResult,
): CaptureReport {
  const dlt = LINK_TYPES[linkType] ?? DLT.EN10MB;
  if (candidates.length === 0) {
    return { linkType, text: "", level: "none", problems: [], failed: false };
  }
  const problems: string[] = [];
  for (const c of candidates) {
    let r: CompileResult;
    try {
      r = compile(dlt, c.text);
    } catch (e) {
      if (!isLibraryError(e)) throw e;
      problems.push(`cannot compile the filter: ${e.message}`);
      return { linkType, text: candidates[0]!.text, level: "none", problems, failed: false };
    }
    if (!r.ok) problems.push(`the ${JSON.stringify(c.level)} filter does not compile: ${r.error}`);
    else if (r.instructions > BPF_MAX_INSNS) {
      problems.push(
        `the ${
          JSON.stringify(c.level)
        } filter has ${r.instructions} BPF instructions, more than the kernel's ${BPF_MAX_INSNS}`,
      );
    } else {
      return {
        linkType,
        text: c.text,
        level: c.level,
        instructions: r.instructions,
        problems,
        failed: false,
      };
    }
  }
  return { linkType, text: "", level: "none", problems, failed: true };
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
export async function runCheck(opts: CheckOptions, io: Io, deps: CheckDeps = {}): Promise<number> {
  const path = opts.config ?? DEFAULT_CONFIG_PATH;
  const ipv4Only = opts.ipv4Only ?? false;
  const r = loadConfig(path);
  if (!r.ok) {
    if (opts.json) {
      io.stdout(JSON.stringify({ ok: false, config: path, error: r.error }, null, 2) + "\n");
    }
    io.stderr(r.error.message + "\n");
    return 1;
  }
  const config = r.config;
  const secrets = await secretReports(config, (deps.now ?? Date.now)());
  if ("error" in secrets) {
    if (opts.json) {
      const error = { message: secrets.error, section: secrets.door };
      io.stdout(JSON.stringify({ ok: false, config: path, error }, null, 2) + "\n");
    }
    io.stderr(secrets.error + "\n");
    return 1;
  }
  const ifaceName = opts.iface || config.options.interface || DEFAULT_INTERFACE;
  const linkType = (opts.linkType ?? (ifaceName === "any" ? "LINUX_SLL" : "EN10MB")).toUpperCase();
  if (!Object.hasOwn(LINK_TYPES, linkType)) {
    io.stderr(
      `Cannot check for link type ${JSON.stringify(opts.linkType)}: expected one of ${
        Object.keys(LINK_TYPES).join(", ")
      }\n`,
    );
    return 1;
  }
  const iface: IfaceReport = {
    name: ifaceName,
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
    if (!isLibraryError(e)) throw e;
    iface.problem = `cannot read the addresses of "${iface.name}": ${e.message}`;
  }
  const addrs = iface.addresses ?? { v4: [], v6: [] };
  // Secret doors' ports change every step and reveal the current sequences: the filter is built
  // with them (as serve builds it) but its text is printed only under --show-sequence.
  const windowDoors = secrets.flatMap((s) => s.window);
  const hideFilter = secrets.length > 0 && opts.showSequence !== true;
  const capture = chooseCapture(
    captureFilters([...config.doors, ...windowDoors], addrs, ipv4Only, LINK_TYPES[linkType]),
    linkType,
    deps.compile ?? ((dlt, text) => withPcap((p) => compileFilter(p, dlt, text))),
  );
  const filters = {
    knockd: knockdFilter(config.doors, addrs, ipv4Only),
    capture: hideFilter ? null : capture.text,
    captureLevel: capture.level,
    linkType,
    ...(capture.instructions !== undefined ? { instructions: capture.instructions } : {}),
    problems: capture.problems,
  };
  const warnings = lintConfig(config);
  const show = opts.showSequence === true;
  const setProblems = needsSets(config) ? (deps.verifySets ?? kernelSets)(config) : [];
  const notLoadable = notLoadableLine(config);
  if (opts.json) {
    io.stdout(
      JSON.stringify(
        {
          ok: true,
          config: path,
          format: config.format ?? "knockd",
          options: config.options,
          doors: config.doors.map((d, i) =>
            doorJson(d, show ? secrets.find((s) => s.index === i) : undefined)
          ),
          interface: iface,
          filter: filters,
          warnings,
          knockdLoadable: notLoadable === undefined,
          extensions: extensionsUsed(config),
          setProblems,
        },
        null,
        2,
      ) + "\n",
    );
  } else {
    io.stdout(describe(
      path,
      config,
      { iface, capture, knockd: filters.knockd, warnings, ipv4Only, secrets, show },
    ));
  }
  if (setProblems.length > 0) {
    io.stderr(setProblems.join("\n") + "\n");
    return 1;
  }
  if (capture.failed) {
    io.stderr(
      `Cannot build a capture filter for link type ${linkType}: ${capture.problems.join("; ")}\n`,
    );
    return 1;
  }
  if (opts.probe === true) return await probe(config, io);
  return 0;
}

/** `--probe`: connects to the cluster once (docs/CLUSTER.md) and prints what it found. */
async function probe(config: Config, io: Io): Promise<number> {
  const c = config.options.cluster;
  if (c === undefined) {
    io.stderr(`Cannot probe the cluster: the config sets no "Cluster"\n`);
    return 1;
  }
  // Loaded only here: without --probe and Cluster nothing NATS-related is loaded.
  const { probeCluster } = await import("../cluster/probe.ts");
  const settings = {
    servers: c.servers,
    fleet: c.name,
    node: c.node ?? Deno.hostname(),
    creds: c.creds,
    ca: c.ca,
    domain: c.domain,
  };
  let r;
  try {
    r = await probeCluster(settings);
  } catch (e) {
    const text = e instanceof Error ? e.message : String(e);
    io.stderr(`Cannot probe cluster at "${clusterUrlsText(c.servers)}": ${text}\n`);
    return 1;
  }
  const lines = [
    "",
    `Cluster probe: connected to "${r.server}" (nats-server ${r.version}), JetStream ${
      r.jetstream ? "on" : "off"
    }${c.domain === undefined ? "" : ` in domain "${c.domain}"`}`,
  ];
  for (const b of r.buckets) {
    const what = b.values === null
      ? "(not created yet)"
      : `${b.values} key${b.values === 1 ? "" : "s"}`;
    lines.push(`  Bucket ${b.name.padEnd(32)} ${what}`);
  }
  const now = Date.now();
  for (const n of r.nodes) {
    lines.push(
      `  Node ${n.node.padEnd(34)} last heard ${
        Math.max(0, Math.round((now - n.at) / 1000))
      } s ago`,
    );
  }
  io.stdout(lines.join("\n") + "\n");
  return r.jetstream ? 0 : 1;
}

/** A secret door as `check` reports it. */
interface SecretReport {
  /** The door's index in the config. */
  readonly index: number;
  /** The current step. */
  readonly step: number;
  /** The current step's sequences, slot by slot. */
  readonly current: readonly string[];
  /** Every sequence acceptable now (3 steps x slots), as doors for the filter. */
  readonly window: readonly Door[];
}

/**
 * Reads every secret door's file as `serve` would (the same refusals) and derives what is
 * acceptable at `nowMs`.
 */
async function secretReports(
  config: Config,
  nowMs: number,
): Promise<SecretReport[] | { error: string; door: string }> {
  const out: SecretReport[] = [];
  for (const [index, d] of config.doors.entries()) {
    if (d.secret === undefined) continue;
    const r = readSecretFile(d.secret.file, d.name);
    if (!r.ok) return { error: r.message, door: d.name };
    const key = await importSecretKey(r.key);
    const step = secretStep(Math.floor(nowMs / 1000), d.secret.step);
    const current: string[] = [];
    const window: Door[] = [];
    for (let s = step - SECRET_SKEW_STEPS; s <= step + SECRET_SKEW_STEPS; s++) {
      for (let slot = 0; slot < SECRET_SLOTS; slot++) {
        const knocks = await deriveSequence(key, d.secret, d.name, s, slot);
        window.push({ ...d, sequence: knocks });
        if (s === step) current.push(sequenceWords(knocks));
      }
    }
    out.push({ index, step, current, window });
  }
  return out;
}

function flagsText(d: Door): string {
  const parts = TCP_FLAG_NAMES.flatMap((f) => {
    const want = d.tcpFlags[f];
    return want === undefined ? [] : [want === "set" ? f : `!${f}`];
  });
  return parts.length === 0 ? "any" : parts.join(",");
}

/** `check`'s lines about a secret door: how it works, never the secret; the sequences if asked. */
function describeSecret(d: Door, r: SecretReport, show: boolean): string[] {
  const s = d.secret!;
  const protocols = s.protocols === "both" ? "tcp and udp mixed" : s.protocols;
  const lines = [
    `  Secret file    ${s.file} (line ${s.line}; mode 0600, key not shown)`,
    `  Sequence       derived every ${s.step} s: ${s.length} knocks from ports ${s.low}-${s.high}, ${protocols}`,
    `  Accepted       the previous, current and next step, ${SECRET_SLOTS} slots each; ` +
    `each sequence opens once (docs/SECRET-SEQUENCES.md)`,
  ];
  if (!show) {
    lines.push(`  Current        not shown (--show-sequence prints step ${r.step}'s sequences)`);
    return lines;
  }
  lines.push(`  Current step   ${r.step}`);
  r.current.forEach((words, slot) => lines.push(`  Slot ${slot}         ${words}`));
  return lines;
}

/** A command with its IPv6 variant resolved as knockd resolves it (docs/COMPATIBILITY.md §2.3). */
function resolved6(v6: string | undefined, v4: string | undefined, what: string, key: string) {
  if (v6 === undefined) {
    return {
      command: v4 ?? null,
      text: v4 === undefined ? "none" : `same as ${what} (${key} not set)`,
    };
  }
  return { command: v6, text: v6 === "" ? `nothing (${key} is empty)` : v6 };
}

function doorJson(d: Door, secret: SecretReport | undefined) {
  return {
    ...d,
    // The notation of docs/FLAG-KNOCKING.md: `7000:tcp`, `110:tcp:fin+psh+urg`.
    sequence: d.sequence.map(formatKnock),
    ...(secret !== undefined ? { currentStep: secret.step, currentSequences: secret.current } : {}),
    ...(d.from !== undefined ? { from: d.from.map((c) => c.text) } : {}),
    flags: flagsText(d),
    effectiveStartCommand6: resolved6(d.startCommand6, d.startCommand, "", "").command,
    effectiveStopCommand6: resolved6(d.stopCommand6, d.stopCommand, "", "").command,
  };
}

/** What {@link describe} prints besides the config. */
interface Account {
  readonly iface: IfaceReport;
  readonly capture: CaptureReport;
  readonly knockd: string;
  readonly warnings: readonly Warning[];
  readonly ipv4Only: boolean;
  readonly secrets: readonly SecretReport[];
  readonly show: boolean;
}

function describe(path: string, config: Config, a: Account): string {
  const { iface, capture, knockd, warnings, ipv4Only } = a;
  const lines: string[] = [];
  const n = config.doors.length;
  lines.push(`Config "${path}" is valid: ${n} door${n === 1 ? "" : "s"}`);
  const notLoadable = notLoadableLine(config);
  if (notLoadable !== undefined) lines.push(notLoadable);
  const ignored = ignoredByKnockdLine(config);
  if (ignored !== undefined) lines.push(ignored);
  const o = config.options;
  lines.push("", "Options");
  lines.push(`  UseSyslog      ${o.useSyslog ? "yes" : "no"}`);
  lines.push(`  LogFile        ${o.logFile ?? "(none)"}`);
  lines.push(`  PidFile        ${o.pidFile ?? `(none: ${DEFAULT_PIDFILE} with -d)`}`);
  lines.push(`  Interface      ${o.interface ?? "(not set)"}`);
  lines.push(
    `  KnockdStrict   ${
      o.knockdStrict === true
        ? "yes: a repeated knock breaks the sequence, as in knockd 0.8"
        : "no: a repeated or retransmitted knock is ignored"
    }`,
  );
  if (o.stateDir !== undefined || a.secrets.length > 0) {
    lines.push(`  State_Dir      ${o.stateDir ?? `${DEFAULT_STATE_DIR} (default)`}`);
  }
  if (o.maxStartsPerMinute !== undefined) {
    lines.push(`  Max_Starts_Per_Minute ${o.maxStartsPerMinute}`);
  }
  if (o.cluster !== undefined) lines.push(...describeCluster(o.cluster));
  for (const [index, d] of config.doors.entries()) {
    lines.push("", `Door "${d.name}" (line ${d.line})`);
    const seq = d.sequence.map(formatKnock).join(", ");
    const secret = a.secrets.find((s) => s.index === index);
    if (d.secret !== undefined && secret !== undefined) {
      lines.push(...describeSecret(d, secret, a.show));
    } else if (d.oneTimeSequencesFile !== undefined) {
      lines.push(`  One-time file  ${d.oneTimeSequencesFile}`);
      lines.push(`  Sequence       ${seq} (current)`);
    } else {
      lines.push(`  Sequence       ${seq}`);
    }
    const tcp = d.sequence.filter((k) => k.protocol === "tcp");
    const perStep = tcp.length > 0 && tcp.every((k) => k.flags !== undefined);
    lines.push(`  TCP flags      ${perStep ? "per step (see Sequence)" : flagsText(d)}`);
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
    if (d.nftSet !== undefined) lines.push(`  Nft_Set        ${setText(d.nftSet)}`);
    if (d.nftSet6 !== undefined) lines.push(`  Nft_Set_6      ${setText(d.nftSet6)}`);
    if (d.from !== undefined) {
      lines.push(`  From           ${d.from.map((c) => c.text).join(", ")}`);
    }
    if (d.cooldown !== undefined) lines.push(`  Cooldown       ${d.cooldown} s`);
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
  lines.push(`  ${knockd === "" ? "(none: every packet is captured)" : knockd}`);
  const size = capture.instructions === undefined
    ? ""
    : `, ${
      capture.level === "ports" ? "" : `coarser ${JSON.stringify(capture.level)} filter, `
    }${capture.instructions} BPF instructions`;
  lines.push("", `Filter knocktool serve installs (link type ${capture.linkType}${size})`);
  if (a.secrets.length > 0 && !a.show) {
    lines.push(
      "  not shown: it holds the ports of the secret doors' acceptable sequences and is " +
        "rebuilt every step (--show-sequence prints it)",
    );
  } else {
    lines.push(`  ${capture.text === "" ? "(none: every packet is captured)" : capture.text}`);
  }
  for (const p of capture.problems) lines.push(`  ${p}`);
  lines.push("", warnings.length === 0 ? "No warnings" : `Warnings (${warnings.length})`);
  for (const w of warnings) {
    lines.push(`  ${w.line !== undefined ? `line ${w.line}: ` : ""}${w.message}`);
  }
  return lines.join("\n") + "\n";
}

/** The `Options` lines of cluster mode (docs/CLUSTER.md). */
function describeCluster(c: ClusterOptions): string[] {
  return [
    `  Cluster        ${clusterUrlsText(c.servers)}`,
    `  Cluster_Name   ${c.name}${c.name === DEFAULT_CLUSTER_NAME ? " (default)" : ""}`,
    `  Cluster_Node   ${c.node ?? `${Deno.hostname()} (the host name)`}`,
    `  Cluster_Creds  ${c.creds ?? "(none)"}`,
    `  Cluster_CA     ${c.ca ?? "(none)"}`,
    `  Cluster_Domain ${c.domain ?? "(none)"}`,
  ];
}
