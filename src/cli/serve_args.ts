/**
 * The `serve` subcommand's command line: its optique parser and the options it yields.
 * Every command line loads this module (main.ts builds one parser from all of them); the runner,
 * `serve.ts`, is loaded only when `serve` runs (docs/PERFORMANCE.md, "Where the memory goes").
 *
 * @module
 */
import { object } from "@optique/core/constructs";
import { command, constant, option } from "@optique/core/primitives";
import { multiple, optional, withDefault } from "@optique/core/modifiers";
import { choice, string } from "@optique/core/valueparser";
import { message, text } from "@optique/core/message";
import { DEFAULT_CONFIG_PATH, DEFAULT_INTERFACE } from "../config/defaults.ts";

const CONTROL =
  message`Control socket for status, revoke and grant (default ${"/run/knocktool.sock"}).`;
const METRICS =
  message`Serve Prometheus metrics at ${"/metrics"} on this address (off by default).`;

/** The `serve` subcommand's parser. */
export const serveCommand = command(
  "serve",
  object({
    cmd: constant("serve"),
    interface: optional(
      option("-i", "--interface", string({ metavar: "IFACE" }), {
        description: message`Network interface to listen on (default: the config's, else ${
          text(DEFAULT_INTERFACE)
        }).`,
      }),
    ),
    config: withDefault(
      option("-c", "--config", string({ metavar: "FILE" }), {
        description: message`Config file (default ${text(DEFAULT_CONFIG_PATH)}).`,
      }),
      DEFAULT_CONFIG_PATH,
    ),
    daemon: option("-d", "--daemon", { description: message`Run as a daemon.` }),
    debug: option("-D", "--debug", { description: message`Print debug messages.` }),
    verbose: option("-v", "--verbose", { description: message`Be verbose.` }),
    lookup: option("-l", "--lookup", {
      description: message`Look up the host names of knockers (in the background).`,
    }),
    pidFile: optional(
      option("-p", "--pidfile", string({ metavar: "FILE" }), {
        description: message`Pidfile for -d (the config's PidFile wins).`,
      }),
    ),
    logFile: optional(
      option("-g", "--logfile", string({ metavar: "FILE" }), {
        description: message`Log file (the config's LogFile wins).`,
      }),
    ),
    ipv4Only: option("-4", "--only-ip-v4", { description: message`Do not track IPv6.` }),
    pcapFile: optional(
      option("--pcap-file", string({ metavar: "FILE" }), {
        description: message`Replay a capture file instead of listening.`,
      }),
    ),
    dryRun: option("--dry-run", {
      description: message`Print the commands that would run instead of running them.`,
    }),
    logFormat: withDefault(
      option("--log-format", choice(["text", "json"]), {
        description: message`Standard output format: knockd's text lines, or JSON lines.`,
      }),
      "text" as const,
    ),
    addresses: multiple(
      option("--address", string({ metavar: "ADDR" }), {
        description: message`A local address for --pcap-file (repeatable).`,
      }),
    ),
    capture: withDefault(
      option("--capture", choice(["immediate", "buffered"]), {
        description:
          message`immediate (default): deliver each packet at once, headers only (snaplen 202), 2 MiB ring; buffered: knockd's pcap_open_live(65535, 50 ms).`,
      }),
      "immediate" as const,
    ),
    control: optional(option("--control", string({ metavar: "PATH" }), { description: CONTROL })),
    metricsListen: optional(
      option("--metrics-listen", string({ metavar: "ADDR:PORT" }), { description: METRICS }),
    ),
    syslogFacility: optional(
      option("--syslog-facility", string({ metavar: "NAME" }), {
        description: message`Syslog facility for UseSyslog (default daemon, as Debian's knockd).`,
      }),
    ),
    knockdStrict: option("--knockd-strict", {
      description:
        message`Match exactly as knockd 0.8: a repeated or retransmitted knock breaks the sequence (as ${"KnockdStrict"} in [options]).`,
    }),
  }),
  { description: message`Run the port-knocking server (knockd 0.8 compatible).` },
);

/** Options of `serve`. */
export interface ServeOptions {
  readonly cmd: "serve";
  readonly interface?: string | undefined;
  readonly config: string;
  readonly daemon: boolean;
  readonly debug: boolean;
  readonly verbose: boolean;
  readonly lookup: boolean;
  readonly pidFile?: string | undefined;
  readonly logFile?: string | undefined;
  readonly ipv4Only: boolean;
  readonly pcapFile?: string | undefined;
  readonly dryRun: boolean;
  readonly logFormat: "text" | "json";
  readonly addresses: readonly string[];
  readonly syslogFacility?: string | undefined;
  /** `--control PATH`: the control socket (default /run/knocktool.sock). */
  readonly control?: string | undefined;
  /** `--metrics-listen ADDR:PORT`: serve Prometheus metrics there. */
  readonly metricsListen?: string | undefined;
  /** Capture mode: `immediate` (low latency) or `buffered` (knockd's exact pcap_open_live). */
  readonly capture?: "immediate" | "buffered";
  /** Started as `knockd`: errors use knockd's texts and the usage text. */
  readonly knockd?: boolean;
  /** `--knockd-strict`: knockd 0.8's exact matching (docs/COMPATIBILITY.md B14). */
  readonly knockdStrict?: boolean;
}
