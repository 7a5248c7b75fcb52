/**
 * Every configuration directive knocktool reads, with a one-line description: the source of
 * knocktool.conf(5) (tools/manpages.ts). tests/manpages_test.ts fails when the parser accepts a
 * directive this table lacks, or the table names one the parser rejects.
 *
 * @module
 */

import {
  DEFAULT_INTERFACE,
  DEFAULT_PIDFILE,
  DEFAULT_SECRET_HIGH,
  DEFAULT_SECRET_LENGTH,
  DEFAULT_SECRET_LOW,
  DEFAULT_SECRET_STEP,
  DEFAULT_STATE_DIR,
} from "./defaults.ts";

/** Where a directive may stand. */
export type DirectiveSection = "options" | "door" | "tportknockd";

/** One directive as knocktool.conf(5) documents it. */
export interface DirectiveDoc {
  /** Its name as conventionally written (the parser ignores case). */
  readonly name: string;
  /** Other names the parser accepts for the same directive. */
  readonly aliases?: readonly string[];
  /** The section it belongs to: `[options]`, a door, or a tportknockd `<EVENT>` block. */
  readonly section: DirectiveSection;
  /** The value's form, e.g. `PATH`; absent for a bare word. */
  readonly value?: string;
  /** One line: what it does. */
  readonly description: string;
  /** The default, when it has one worth saying. */
  readonly default?: string;
  /** True for a knocktool extension: knockd 0.8 rejects a file that uses it. */
  readonly extension?: boolean;
  /** For an extension: the feature it belongs to (`src/config/extensions.ts`), e.g. `grants`. */
  readonly feature?: string;
}

/** The directives of knockd.conf (and of tportknockd files) that knocktool reads. */
export const DIRECTIVES: readonly DirectiveDoc[] = [
  {
    name: "UseSyslog",
    section: "options",
    description:
      "Log to syslog (facility daemon, see serve --syslog-facility); a bare word, also accepted inside a door as knockd does.",
  },
  {
    name: "LogFile",
    section: "options",
    value: "PATH",
    description: "Append the log to this file; wins over serve -g.",
  },
  {
    name: "PidFile",
    section: "options",
    value: "PATH",
    description: "Write the process id here when running as a daemon (serve -d); wins over -p.",
    default: DEFAULT_PIDFILE,
  },
  {
    name: "Interface",
    section: "options",
    value: "NAME",
    description: "Network interface to listen on, when serve -i does not name one.",
    default: DEFAULT_INTERFACE,
  },
  {
    name: "KnockdStrict",
    section: "options",
    value: "yes|no",
    description:
      "Match exactly as knockd 0.8: a repeated or retransmitted knock breaks the sequence (as serve --knockd-strict); alone on its line it means yes.",
    default: "no",
    extension: true,
    feature: "repeats",
  },
  {
    name: "Sequence",
    section: "door",
    value: "PORT[:PROTO[:FLAGS]][,PORT[:PROTO[:FLAGS]]]...",
    description:
      "The knock sequence: up to 32 ports, each tcp (the default) or udp, separated by commas; a tcp step may demand its own TCP flags (7000:tcp:syn, 110:tcp:fin+psh+urg, none, any), which knockd 0.8 ignores.",
  },
  {
    name: "One_Time_Sequences",
    section: "door",
    value: "PATH",
    description:
      "Read the sequence from this file, one per line; each sequence opens the door once, then is marked used in the file.",
  },
  {
    name: "Seq_Timeout",
    aliases: ["Timeout"],
    section: "door",
    value: "SECONDS",
    description: "Time allowed for the whole sequence, from its first knock.",
    default: "25",
  },
  {
    name: "TCPFlags",
    section: "door",
    value: "FLAG[,FLAG]...",
    description:
      "TCP knocks must have these flags set (FIN, SYN, RST, PSH, ACK, URG) or, with a leading !, clear; other packets are ignored.",
  },
  {
    name: "Target",
    section: "door",
    value: "ADDRESS",
    description:
      "Knocks must be sent to this address instead of one of the interface's own addresses.",
  },
  {
    name: "Start_Command",
    aliases: ["Command"],
    section: "door",
    value: "COMMAND",
    description:
      "Run by /bin/sh when the sequence completes; %IP% is replaced by the knocker's address.",
  },
  {
    name: "Start_Command_6",
    aliases: ["Command_6"],
    section: "door",
    value: "COMMAND",
    description:
      "Run instead of Start_Command for an IPv6 knocker; present but empty runs nothing.",
  },
  {
    name: "Cmd_Timeout",
    section: "door",
    value: "SECONDS",
    description: "Delay between the start command and the stop command.",
    default: "10",
  },
  {
    name: "Stop_Command",
    section: "door",
    value: "COMMAND",
    description: "Run Cmd_Timeout seconds after the start command; %IP% is replaced as there.",
  },
  {
    name: "Stop_Command_6",
    section: "door",
    value: "COMMAND",
    description: "Run instead of Stop_Command for an IPv6 knocker.",
  },
  {
    name: "State_Dir",
    section: "options",
    value: "DIR",
    description:
      "Where knocktool keeps its state: live grants (docs/GRANTS.md) and the used marks of secret sequences (docs/SECRET-SEQUENCES.md).",
    default: DEFAULT_STATE_DIR,
    extension: true,
    feature: "state",
  },
  {
    name: "Max_Starts_Per_Minute",
    section: "options",
    value: "N",
    description: "Attempts one source may start per minute; more are ignored and counted.",
    default: "0 (no cap)",
    extension: true,
    feature: "grants",
  },
  {
    name: "Cluster",
    section: "options",
    value: "URL[, URL ...]",
    description:
      "Join a fleet through these NATS servers (nats://HOST:PORT or tls://HOST:PORT): grants, revocations and single-use marks are shared by every node (see docs/CLUSTER.md).",
    extension: true,
    feature: "cluster",
  },
  {
    name: "Cluster_Name",
    section: "options",
    value: "NAME",
    description:
      "The fleet's name; it names the fleet's buckets, so several fleets can share NATS.",
    default: "knocktool",
    extension: true,
    feature: "cluster",
  },
  {
    name: "Cluster_Node",
    section: "options",
    value: "NAME",
    description: "This node's name in the fleet.",
    default: "the host name",
    extension: true,
    feature: "cluster",
  },
  {
    name: "Cluster_Creds",
    section: "options",
    value: "FILE",
    description: "A NATS credentials file (JWT and NKey seed) for the connection.",
    extension: true,
    feature: "cluster",
  },
  {
    name: "Cluster_CA",
    section: "options",
    value: "FILE",
    description: "A CA certificate file to verify the NATS servers' TLS certificates.",
    extension: true,
    feature: "cluster",
  },
  {
    name: "Cluster_Domain",
    section: "options",
    value: "DOMAIN",
    description:
      "The JetStream domain holding the fleet's buckets; needed when the node connects to a leaf node server (see docs/CLUSTER.md).",
    extension: true,
    feature: "cluster",
  },
  {
    name: "Nft_Set",
    section: "door",
    value: "FAMILY TABLE SET",
    description:
      "Add an IPv4 knocker to this nftables set (flags timeout) for Cmd_Timeout seconds, through libnftables.",
    extension: true,
    feature: "grants",
  },
  {
    name: "Nft_Set_6",
    section: "door",
    value: "FAMILY TABLE SET",
    description: "The same as Nft_Set for an IPv6 knocker (a set of type ipv6_addr).",
    extension: true,
    feature: "grants",
  },
  {
    name: "From",
    section: "door",
    value: "CIDR[, CIDR...]",
    description:
      "Only these sources may open the door; knocks from others are ignored and counted.",
    extension: true,
    feature: "grants",
  },
  {
    name: "Cooldown",
    section: "door",
    value: "SECONDS",
    description: "A source whose start command ran does not run it again before this many seconds.",
    extension: true,
    feature: "grants",
  },
  {
    name: "Secret_File",
    section: "door",
    value: "PATH",
    description:
      "Derive the sequence from the secret in this file (mode 0600, at least 16 bytes; knocktool keygen makes one): it changes every Secret_Step seconds and each one opens once (see docs/SECRET-SEQUENCES.md).",
    extension: true,
    feature: "secret sequences",
  },
  {
    name: "Secret_Length",
    section: "door",
    value: "N",
    description: "Knocks per secret-derived sequence, 1 to 32.",
    default: String(DEFAULT_SECRET_LENGTH),
    extension: true,
    feature: "secret sequences",
  },
  {
    name: "Secret_Ports",
    section: "door",
    value: "LOW-HIGH",
    description: "Range the secret-derived ports are drawn from.",
    default: `${DEFAULT_SECRET_LOW}-${DEFAULT_SECRET_HIGH}`,
    extension: true,
    feature: "secret sequences",
  },
  {
    name: "Secret_Step",
    section: "door",
    value: "SECONDS",
    description:
      "Seconds per time step; the server accepts the previous, current and next step's sequences.",
    default: String(DEFAULT_SECRET_STEP),
    extension: true,
    feature: "secret sequences",
  },
  {
    name: "Secret_Protocols",
    section: "door",
    value: "tcp|udp|both",
    description: "Protocol of the secret-derived knocks; both mixes them knock by knock.",
    default: "tcp",
    extension: true,
    feature: "secret sequences",
  },
  {
    name: "sequence",
    section: "tportknockd",
    value: "FRAME...",
    description:
      "tportknockd: the knock sequence, frames tcp|udp:PORT[:FLAGS] separated by spaces or commas; FLAGS are letters from fsrpauxni (x all, n none, i any); a tcp frame without flags means n.",
  },
  {
    name: "timeout",
    section: "tportknockd",
    value: "SECONDS",
    description: "tportknockd: time allowed for the whole sequence (as Seq_Timeout).",
    default: "25",
  },
  {
    name: "start_command",
    section: "tportknockd",
    value: "COMMAND",
    description: "tportknockd: run after a successful knock; %IP% is the knocker's address.",
  },
  {
    name: "stop_command",
    section: "tportknockd",
    value: "COMMAND",
    description: "tportknockd: run command_delay seconds after start_command.",
  },
  {
    name: "command_delay",
    section: "tportknockd",
    value: "SECONDS",
    description: "tportknockd: delay before stop_command (as Cmd_Timeout).",
    default: "10",
  },
];

/**
 * The names (and aliases) of the directives of one section, upper-cased as the parser compares
 * them.
 *
 * @param section The section.
 * @returns The upper-cased names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { directiveKeys } from "./directives.ts";
 * assert(directiveKeys("door").includes("TIMEOUT"));
 * ```
 */
export function directiveKeys(section: DirectiveSection): string[] {
  return DIRECTIVES.filter((d) => d.section === section).flatMap((d) =>
    [d.name, ...(d.aliases ?? [])].map((n) => n.toUpperCase())
  );
}
