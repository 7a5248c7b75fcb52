/**
 * The `knock` subcommand's command line: its optique parser and the options it yields.
 * Every command line loads this module (main.ts builds one parser from all of them); the runner,
 * `knock.ts`, is loaded only when `knock` runs (docs/PERFORMANCE.md, "Where the memory goes").
 *
 * @module
 */
import { object } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import { map, multiple, optional, withDefault } from "@optique/core/modifiers";
import { argument, command, constant, option } from "@optique/core/primitives";
import { integer, string } from "@optique/core/valueparser";
import type { Parser } from "@optique/core/parser";
import { type SecretClientOptions, secretOptionParsers } from "./_secret_args.ts";

/**
 * A flag that may be given more than once (`-vv`, `-v -v`), with the effect of giving it once, as
 * knock 0.8 accepts it; usage and help show it as the single flag.
 */
function repeatable(
  flag: Parser<"sync", boolean, unknown>,
): Parser<"sync", boolean, unknown> {
  return { ...map(multiple(flag), (given) => given.some((v) => v)), usage: flag.usage };
}

/** The `knock` subcommand's parser. */
export const knockCommand: Parser<"sync", KnockOptions, unknown> = command(
  "knock",
  object({
    cmd: constant("knock"),
    udp: option("-u", "--udp", {
      description: message`Make every hit UDP, overriding a per-port protocol.`,
    }),
    delay: optional(
      option("-d", "--delay", string({ metavar: "MS" }), {
        description: message`Wait this many milliseconds after every hit (as knock: atoi).`,
      }),
    ),
    ipv4: option("-4", "--ipv4", {
      description:
        message`Resolve the host to IPv4 only and knock its first address (as knock 0.8).`,
    }),
    ipv6: option("-6", "--ipv6", {
      description:
        message`Resolve the host to IPv6 only and knock its first address (as knock 0.8).`,
    }),
    allAddresses: option("-A", "--all-addresses", {
      description:
        message`Knock every address the host resolves to (A and AAAA records), one after the other; with ${"-4"} or ${"-6"}, every address of that family.`,
    }),
    verbose: repeatable(option("-v", "--verbose", { description: message`Print each hit.` })),
    flags: optional(
      option("--flags", string({ metavar: "FLAGS" }), {
        description:
          message`Send TCP hits with these flags (e.g. ${"fin+ack"}) through a raw socket; needs root or CAP_NET_RAW.`,
      }),
    ),
    source: optional(
      option("--source", string({ metavar: "ADDR" }), {
        description: message`Send from this local address.`,
      }),
    ),
    iface: optional(
      option("--interface", string({ metavar: "IFACE" }), {
        description: message`Send through this interface (SO_BINDTODEVICE).`,
      }),
    ),
    check: optional(
      option("--check", string({ metavar: "PORT" }), {
        description:
          message`After the knock, try a TCP connection to this port (with ${"-A"}, to every address); exit 3 when it does not open.`,
      }),
    ),
    checkRetries: withDefault(
      option("--check-retries", integer({ min: 1, max: 100, metavar: "N" }), {
        description: message`Connection attempts for --check.`,
      }),
      5,
    ),
    checkInterval: withDefault(
      option("--check-interval", integer({ min: 10, max: 60000, metavar: "MS" }), {
        description: message`Milliseconds per --check attempt.`,
      }),
      500,
    ),
    secretFile: optional(
      option("--secret-file", string({ metavar: "FILE" }), {
        description:
          message`Knock a secret door (docs/SECRET-SEQUENCES.md): derive the current sequence from this secret instead of giving ports; needs ${"--door"}, and the door's ${"--length"}, ${"--ports"}, ${"--step"}, ${"--protocols"} when they are not the defaults.`,
      }),
    ),
    ...secretOptionParsers,
    host: argument(string({ metavar: "HOST" })),
    ports: multiple(argument(string({ metavar: "PORT[:PROTO[:FLAGS]]" }))),
  }),
  {
    description:
      message`Send a port-knock sequence (knock 0.8 compatible, plus per-step TCP flags as ${"PORT:tcp:FLAGS"} or tportknockd's ${"tcp:PORT:LETTERS"}, every address of a host, source selection and an open check).`,
  },
);

/** Options of `knock`. */
export interface KnockOptions extends SecretClientOptions {
  /** `--secret-file FILE`: knock a secret door's derived sequence. */
  readonly secretFile?: string | undefined;
  /** The subcommand tag (`main.ts` dispatches on it). */
  readonly cmd: "knock";
  /** `-u`: every hit is UDP. */
  readonly udp?: boolean;
  /** `-d MS` as typed (parsed with atoi). */
  readonly delay?: string | undefined;
  /** `-4`. */
  readonly ipv4?: boolean;
  /** `-6`. */
  readonly ipv6?: boolean;
  /** `-A`: knock every address the host resolves to. */
  readonly allAddresses?: boolean;
  /** `-v`. */
  readonly verbose?: boolean;
  /** `--flags`: TCP flags for every TCP hit. */
  readonly flags?: string | undefined;
  /** `--source ADDR`. */
  readonly source?: string | undefined;
  /** `--interface IFACE`. */
  readonly iface?: string | undefined;
  /** `--check PORT`. */
  readonly check?: string | undefined;
  /** `--check-retries N` (default 5). */
  readonly checkRetries?: number;
  /** `--check-interval MS` (default 500). */
  readonly checkInterval?: number;
  /** The host. */
  readonly host?: string;
  /** The port arguments. */
  readonly ports?: readonly string[];
}
