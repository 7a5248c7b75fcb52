/**
 * The one list of Deno permissions that knocktool runs with. `deno task compile` bakes exactly
 * these into the single binary, and tests/ship_test.ts runs every subcommand under exactly these
 * flags, so a permission that a subcommand needs but that is missing here fails a test rather than
 * a user's server.
 *
 * @module
 */

/** A Deno permission kind, as in `--allow-<kind>`. */
export type PermissionKind = "ffi" | "read" | "write" | "run" | "net" | "env" | "sys";

/** One permission grant, with the reason it is needed. */
export interface Permission {
  /** The kind: `--allow-<kind>`. */
  readonly kind: PermissionKind;
  /** The scope (`--allow-<kind>=a,b`); absent means the whole kind is granted. */
  readonly scope?: readonly string[];
  /** Why knocktool needs it. */
  readonly why: string;
}

/**
 * What knocktool is granted. Anything absent here is denied, and with `--no-prompt` never asked
 * for.
 */
export const PERMISSIONS: readonly Permission[] = [
  {
    kind: "ffi",
    // Unscoped on purpose: a path-scoped --allow-ffi makes Deno resolve a bare soname such as
    // "libpcap.so.0.8" against the current directory instead of through the dynamic loader
    // (docs/ARCHITECTURE.md, "Capture loop facts" §3), and the library's path differs between
    // distributions.
    why:
      "libpcap (capture, filters, pcap files) and libc (poll, syslog, sockets, getaddrinfo, getifaddrs)",
  },
  {
    kind: "read",
    // Unscoped: the config, one-time sequence files, pcap files and log files are wherever the
    // administrator put them (-c, One_Time_Sequences, --pcap-file).
    why: "knockd.conf, one-time sequence files, pcap files, Deno.execPath for -d",
  },
  {
    kind: "write",
    // Unscoped for the same reason: LogFile, PidFile and the one-time file ('#' over a used
    // line) are configured paths.
    why: "log file, pidfile, marking used lines in one-time sequence files",
  },
  {
    kind: "run",
    // Unscoped: door commands go through /bin/sh, which can start any program, so a scope would
    // only look safer; and -d starts the binary itself again, whose installed path is not known
    // when it is compiled.
    why: "door commands through /bin/sh, and the binary itself for -d",
  },
  {
    kind: "env",
    // Scoped to the variables knocktool reads; door commands still get the whole environment
    // (a child's environment is inherited without any permission).
    scope: [
      "KNOCKTOOL_LIBPCAP",
      "KNOCKTOOL_SYSLOG_FACILITY",
      "KNOCKTOOL_DAEMON_CHILD",
      "KNOCKTOOL_ARGV0",
      "POSIXLY_CORRECT",
    ],
    why: "libpcap soname override, syslog facility, the -d child's markers (serve refuses -d " +
      "without them), and knock 0.8's getopt honouring POSIXLY_CORRECT",
  },
  {
    kind: "net",
    // Unscoped: Deno counts a Unix socket as network access and scopes it only by exact path,
    // and the control socket's path is configurable (serve --control PATH, status/revoke/grant
    // --control PATH); --metrics-listen ADDR:PORT names its address at run time. No TCP or UDP
    // socket is opened unless --metrics-listen is given: the client's knocks, its name
    // resolution and the -l lookups still go through glibc by FFI, as in knock 0.8 and knockd.
    why: "the control socket (a Unix socket, docs/GRANTS.md), the opt-in --metrics-listen " +
      "HTTP endpoint, and the NATS servers of the opt-in cluster mode (Cluster, docs/CLUSTER.md)",
  },
  {
    kind: "sys",
    // Only the host name: Cluster_Node's default (docs/CLUSTER.md). Local addresses come from
    // getifaddrs, not Deno's sys API.
    scope: ["hostname"],
    why: "the host name, Cluster_Node's default in cluster mode",
  },
];

/**
 * The command-line flags for {@linkcode PERMISSIONS}, for `deno compile` and `deno run`.
 * `--deny-import` is added because the program never loads code at run time: a compiled binary
 * would otherwise keep Deno's default allow-list of remote import hosts.
 *
 * @param permissions The grants (default: knocktool's).
 * @returns The flags, in the order of the grants, then `--deny-import`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { permissionFlags } from "./permissions.ts";
 * const flags = permissionFlags([{ kind: "sys", scope: ["hostname"], why: "example" }]);
 * assert.equal(flags.join(" "), "--allow-sys=hostname --deny-import");
 * ```
 */
export function permissionFlags(permissions: readonly Permission[] = PERMISSIONS): string[] {
  const flags = permissions.map((p) =>
    p.scope === undefined ? `--allow-${p.kind}` : `--allow-${p.kind}=${p.scope.join(",")}`
  );
  flags.push("--deny-import");
  return flags;
}
