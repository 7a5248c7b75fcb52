/**
 * The knockd.conf model: what a parsed configuration holds. Produced by the config parser,
 * consumed by the matcher, the filter generator, the server and `knocktool check`.
 *
 * Field semantics follow knockd 0.8 (docs/COMPATIBILITY.md §2): defaults, aliases and fallbacks are
 * resolved by the parser, so consumers never re-implement them.
 *
 * @module
 */

/** A transport protocol a knock can use. */
export type Protocol = "tcp" | "udp";

/** One step of a knock sequence: a destination port and its protocol. */
export interface Knock {
  /** Destination port, 0–65535 (knockd reads junk text as 0 and wraps negatives). */
  readonly port: number;
  /** Transport protocol of this step. */
  readonly protocol: Protocol;
  /**
   * TCP only: the flags this step demands (`PORT:tcp:FLAGS`, docs/FLAG-KNOCKING.md), which then
   * replace the door's `TCPFlags` for this step. Absent: the door's `TCPFlags` rule applies.
   */
  readonly flags?: StepFlags;
}

export { TCP_FLAG_BITS, TCP_FLAG_NAMES, type TcpFlagName } from "../wire/tcp_flags.ts";
import type { StepFlags, TcpFlagName } from "../wire/tcp_flags.ts";

/**
 * What a door demands of a TCP flag: `"set"` (plain `syn`) or `"clear"` (`!syn`). A flag absent
 * from {@link Door.tcpFlags} is "don't care".
 */
export type FlagRequirement = "set" | "clear";

/**
 * How a sequence port was written when it was not a plain decimal number (knockd reads it with
 * `atoi` and keeps going). Kept so that `lintConfig` can warn about it.
 */
export interface PortNote {
  /** 0-based index of the knock in the sequence. */
  readonly index: number;
  /** The port text as written (trimmed). */
  readonly text: string;
  /** `empty`: no text (read as 0); `junk`: not a number, or trailing junk; `wrapped`: negative or beyond `int`. */
  readonly kind: "empty" | "junk" | "wrapped";
  /** The port knockd made of it. */
  readonly port: number;
}

/** A third field of a `Sequence` step that is not TCP flags: ignored, as knockd ignores it. */
export interface SuffixNote {
  /** 0-based index of the knock in the sequence. */
  readonly index: number;
  /** The text after the protocol (trimmed). */
  readonly text: string;
}

/** Which protocols a secret-derived sequence uses: one for every knock, or both mixed. */
export type SecretProtocols = "tcp" | "udp" | "both";

/**
 * The parameters of a secret-derived sequence (docs/SECRET-SEQUENCES.md): everything a client
 * needs besides the secret, the door name and the time.
 */
export interface SecretParams {
  /** `Secret_Length`: knocks per sequence, 1–32; default 4. */
  readonly length: number;
  /** `Secret_Ports = LOW-HIGH`: lowest port drawn; default 1024. */
  readonly low: number;
  /** `Secret_Ports = LOW-HIGH`: highest port drawn; default 65535. */
  readonly high: number;
  /** `Secret_Step`: seconds per time step; default 30. */
  readonly step: number;
  /** `Secret_Protocols`: `tcp` (default), `udp` or `both` (mixed). */
  readonly protocols: SecretProtocols;
}

/** A door whose sequence is derived from a secret (`Secret_File` and its companions). */
export interface SecretDoor extends SecretParams {
  /** `Secret_File` as written. */
  readonly file: string;
  /** 1-based line of `Secret_File`. */
  readonly line: number;
  /** The `Secret_*` directives the door wrote, canonically spelled, in file order. */
  readonly directives: readonly string[];
}

/** A door: one `[section]` other than `[options]`. */
export interface Door {
  /** Section name exactly as written between the brackets (not trimmed; knockd keeps spaces). */
  readonly name: string;
  /** 1-based line of the section header. */
  readonly line: number;
  /**
   * The knock sequence. For a door with `One_Time_Sequences` this is the sequence loaded from
   * the file when the config was loaded (the first line not yet marked used).
   */
  readonly sequence: readonly Knock[];
  /** 1-based line of the directive that set `sequence` (`Sequence` or `One_Time_Sequences`). Additive. */
  readonly sequenceLine?: number;
  /** Ports of a `Sequence` value that were not plain numbers (absent when all were). Additive. */
  readonly portNotes?: readonly PortNote[];
  /** Third fields of `Sequence` steps that were ignored (absent when none). Additive. */
  readonly suffixNotes?: readonly SuffixNote[];
  /** Path of the one-time sequences file, as written in the config (if any). */
  readonly oneTimeSequencesFile?: string;
  /**
   * `Secret_File` and its companions: the sequence is derived from a secret per time step and
   * slot (docs/SECRET-SEQUENCES.md); `sequence` is then empty. A knocktool extension.
   */
  readonly secret?: SecretDoor;
  /** `Seq_Timeout` (alias `Timeout`) in seconds; default 25. May be ≤ 0 (then nothing completes). */
  readonly seqTimeout: number;
  /** 1-based line of the last `Seq_Timeout` directive, when there is one. Additive. */
  readonly seqTimeoutLine?: number;
  /** `TCPFlags`, accumulated over every `TCPFlags` line of the section. */
  readonly tcpFlags: Readonly<Partial<Record<TcpFlagName, FlagRequirement>>>;
  /** 1-based line of the last `TCPFlags` directive, when there is one. Additive. */
  readonly tcpFlagsLine?: number;
  /** `Target`, verbatim (knockd compares it to the destination as a string). */
  readonly target?: string;
  /** `Start_Command` (alias `Command`). */
  readonly startCommand?: string;
  /**
   * `Start_Command_6` (alias `Command_6`) as written; absent means "fall back to
   * startCommand", present-but-empty means "run nothing for IPv6" (docs/COMPATIBILITY.md §2.3).
   */
  readonly startCommand6?: string;
  /** `Cmd_Timeout` in seconds; default 10. Negative means the stop command never runs. */
  readonly cmdTimeout: number;
  /** 1-based line of the last `Cmd_Timeout` directive, when there is one. Additive. */
  readonly cmdTimeoutLine?: number;
  /** `Stop_Command`. */
  readonly stopCommand?: string;
  /** `Stop_Command_6` as written; absent falls back to stopCommand (docs/COMPATIBILITY.md §2.3). */
  readonly stopCommand6?: string;
  /** `Nft_Set` (extension, docs/GRANTS.md): the set IPv4 knockers are added to. */
  readonly nftSet?: NftSetRef;
  /** `Nft_Set_6` (extension, docs/GRANTS.md): the set IPv6 knockers are added to. */
  readonly nftSet6?: NftSetRef;
  /** `From` (extension, docs/GRANTS.md): only these sources may open the door. */
  readonly from?: readonly Cidr[];
  /** `Cooldown` in seconds (extension, docs/GRANTS.md): no second start command before it ends. */
  readonly cooldown?: number;
}

/** An nftables set named by `Nft_Set` / `Nft_Set_6`: `FAMILY TABLE SET`. */
export interface NftSetRef {
  /** Address family of the table (`ip`, `ip6`, `inet`, `bridge`, `netdev`, `arp`). */
  readonly family: string;
  /** Table name. */
  readonly table: string;
  /** Set name. */
  readonly set: string;
  /** 1-based line of the directive. */
  readonly line: number;
}

/** One `From` block: an address and a prefix length. */
export interface Cidr {
  /** 4 or 6. */
  readonly family: 4 | 6;
  /** The network's address bytes (host bits cleared). */
  readonly bytes: Uint8Array;
  /** Prefix length. */
  readonly prefix: number;
  /** As written. */
  readonly text: string;
}

/** Where a config uses a knocktool extension (a directive knockd 0.8 rejects). */
export interface ExtensionUse {
  /** The directive as knocktool documents it, e.g. `Nft_Set`. */
  readonly directive: string;
  /** 1-based line. */
  readonly line: number;
}

/** The `[options]` section. */
export interface Options {
  /** Bare `UseSyslog` appeared in any section. */
  readonly useSyslog: boolean;
  /** `LogFile`, which overrides `-g`. */
  readonly logFile?: string;
  /** `PidFile`, which overrides `-p`. */
  readonly pidFile?: string;
  /** `Interface`, used only when `-i` was not given. */
  readonly interface?: string;
  /** 1-based line of `Interface`, when set. Additive. */
  readonly interfaceLine?: number;
  /**
   * `KnockdStrict` (a knocktool extension, docs/COMPATIBILITY.md "Repeats and retransmissions"):
   * match exactly as knockd 0.8, repeats included. Absent means false.
   */
  readonly knockdStrict?: boolean;
  /** `State_Dir` (extension): where knocktool keeps its state (default `DEFAULT_STATE_DIR`). */
  readonly stateDir?: string;
  /** `Max_Starts_Per_Minute` (extension): attempts one source may start per minute; 0 = no cap. */
  readonly maxStartsPerMinute?: number;
  /** `Cluster` and its companions (extension, docs/CLUSTER.md); absent without `Cluster`. */
  readonly cluster?: ClusterOptions;
}

/** Cluster mode's settings (docs/CLUSTER.md), from `[options]`. */
export interface ClusterOptions {
  /** `Cluster = URL[, URL…]`: the NATS servers (`nats://` or `tls://`). */
  readonly servers: readonly string[];
  /** `Cluster_Name`: the fleet, naming its buckets (default `knocktool`). */
  readonly name: string;
  /** `Cluster_Node`: this node's name (absent: the host name). */
  readonly node?: string;
  /** `Cluster_Creds`: a NATS credentials file. */
  readonly creds?: string;
  /** `Cluster_CA`: a CA certificate file for TLS. */
  readonly ca?: string;
  /** `Cluster_Domain`: the JetStream domain of the fleet's buckets (through a leaf node). */
  readonly domain?: string;
  /** 1-based line of `Cluster`. */
  readonly line: number;
}

/** A parsed, valid knockd.conf. */
export interface Config {
  /** Global options. */
  readonly options: Options;
  /** Doors in file order (duplicate names are separate doors, as in knockd). */
  readonly doors: readonly Door[];
  /** The file's format: knockd.conf (absent) or tportknockd's (docs/FLAG-KNOCKING.md). */
  readonly format?: "knockd" | "tportknockd";
  /** Knocktool extensions the file uses, in file order (absent or empty: none). */
  readonly extensions?: readonly ExtensionUse[];
}
