/**
 * `knocktool knock`: the knock client. knock 0.8's options and behaviour (resolution through
 * glibc, one SYN per TCP hit, one 0x00 byte per UDP hit, the delay after every hit), plus TCP
 * flags through a raw socket (`--flags`, `PORT:tcp:FLAGS`, tportknockd's `tcp:PORT:LETTERS`),
 * every address of the host (`-A`), the source address or interface (`--source`,
 * `--interface`) and a check that the door opened (`--check`).
 *
 * Started through a link named `knock`, the program runs {@link runKnockCompat} instead: knock
 * 0.8's exact command line, usage text and exit statuses.
 *
 * @module
 */
import { SocketLib } from "../../ffi/socket.ts";
import type { Io } from "../util/io.ts";
import { readEnv } from "../util/env.ts";
import { probeAll, probeDoor } from "../client/probe.ts";
import { runCompat } from "./knock_compat.ts";
import { atoi } from "../config/atoi.ts";
import { sendKnocks, type Sleep, sleep } from "../client/send.ts";
import { type KnockStep, parseFlags, parseStep } from "../client/steps.ts";
import { clientSequence } from "./_secret_options.ts";
import type { KnockOptions } from "./knock_args.ts";

/**
 * Runs `knocktool knock`; returns the exit status: 0, 1 (usage, resolution or socket error,
 * as knock), 3 (`--check` found the door closed).
 *
 * @param opts The parsed options.
 * @param io Where to print.
 * @param wait Sleep between hits (tests may pass a recording one).
 * @returns The exit status.
 */
export async function runKnock(opts: KnockOptions, io: Io, wait: Sleep = sleep): Promise<number> {
  const host = opts.host;
  let ports = opts.ports ?? [];
  if (opts.secretFile !== undefined) {
    const derived = await secretPorts(opts, opts.secretFile, io);
    if (derived === undefined) return 1;
    ports = derived;
  } else if (opts.door !== undefined) {
    io.stderr('Cannot knock door "' + opts.door + '": give its secret with --secret-file\n');
    return 1;
  }
  if (host === undefined || ports.length === 0) {
    io.stderr("Cannot knock: give a host and at least one port\n");
    return 1;
  }
  if (opts.ipv4 === true && opts.ipv6 === true) {
    io.stderr("Cannot use -4 and -6 together: choose one address family\n");
    return 1;
  }
  let common: number | undefined;
  if (opts.flags !== undefined) {
    const f = parseFlags(opts.flags);
    if (!f.ok) {
      io.stderr(f.error + "\n");
      return 1;
    }
    // `any` leaves the hits plain (one SYN through connect), which any flags accept.
    if (f.flags !== "any") common = f.flags;
  }
  const steps: KnockStep[] = [];
  for (const arg of ports) {
    const r = parseStep(arg);
    if (!r.ok) {
      io.stderr(r.error + "\n");
      return 1;
    }
    const s = r.step;
    if (opts.udp === true && s.flags !== undefined) {
      io.stderr(`Cannot use -u with TCP flags in "${arg}": UDP hits have no flags\n`);
      return 1;
    }
    steps.push(
      s.flags === undefined && common !== undefined && s.protocol === "tcp"
        ? { ...s, flags: common }
        : s,
    );
  }
  if (opts.udp === true && common !== undefined) {
    io.stderr("Cannot use -u with --flags: UDP hits have no flags\n");
    return 1;
  }
  const delay = opts.delay === undefined ? 0 : atoi(opts.delay);
  if (delay < 0) {
    io.stderr(`Cannot use delay "${opts.delay}": it must not be negative\n`);
    return 1;
  }
  const family = opts.ipv4 === true ? 4 : opts.ipv6 === true ? 6 : 0;
  using lib = SocketLib.open();
  const out = await sendKnocks(
    {
      host,
      steps,
      family,
      udp: opts.udp === true,
      delayUs: Math.imul(1000, delay) >>> 0,
      verbose: opts.verbose === true,
      allAddresses: opts.allAddresses === true,
      source: opts.source,
      iface: opts.iface,
    },
    io,
    lib,
    wait,
  );
  if (out.status !== 0 || opts.check === undefined) return out.status;
  const source = opts.source === undefined ? undefined : lib.parseAddress(opts.source) ?? undefined;
  const plan = {
    host,
    port: opts.check,
    family,
    attempts: opts.checkRetries ?? 5,
    intervalMs: opts.checkInterval ?? 500,
    source,
    iface: opts.iface,
  } as const;
  // After -A every knocked address is checked: the door must be open on each.
  const results = opts.allAddresses === true
    ? await probeAll(plan, lib, wait)
    : [await probeDoor(plan, lib, wait)];
  let status = 0;
  for (const r of results) {
    if (!r.ok) {
      io.stderr(r.error + "\n");
      if (status === 0 || r.status === 1) status = r.status;
    } else if (opts.verbose === true) {
      io.stdout(`door open: connected to ${r.address} port ${opts.check} (attempt ${r.attempt})\n`);
    }
  }
  return status;
}

/** The `PORT:PROTO` steps of a secret door's current sequence, or undefined after an error. */
async function secretPorts(
  opts: KnockOptions,
  file: string,
  io: Io,
): Promise<string[] | undefined> {
  if ((opts.ports ?? []).length > 0) {
    io.stderr(
      "Cannot knock with --secret-file and ports: the sequence is derived from the secret\n",
    );
    return undefined;
  }
  if (opts.udp === true) {
    io.stderr("Cannot use -u with --secret-file: give the door's --protocols instead\n");
    return undefined;
  }
  const r = await clientSequence(file, opts);
  if ("error" in r) {
    io.stderr(r.error + "\n");
    return undefined;
  }
  if (opts.verbose === true) {
    io.stdout(`secret sequence for door "${opts.door}": step ${r.step}, slot ${r.slot}\n`);
  }
  return r.knocks.map((k) => `${k.port}:${k.protocol}`);
}

/**
 * Runs the knock client as knock 0.8 (the executable started through a link named `knock`):
 * getopt `"vud:hV46"` with GNU argument permutation and long options, knock's usage text on
 * stdout, `-h` and usage errors exit 1, `-V` exits 0.
 *
 * @param args Arguments after the program name.
 * @param io Where to print.
 * @param argv0 The name getopt's messages start with (default `knock`).
 * @returns The exit status.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runKnockCompat } from "./knock.ts";
 * import { captureIo } from "../util/io.ts";
 * const io = captureIo();
 * assert.equal(await runKnockCompat(["-V"], io), 0);
 * assert(io.out.startsWith("knock 0.8\n"), io.out);
 * ```
 */
export function runKnockCompat(
  args: readonly string[],
  io: Io,
  argv0 = "knock",
): Promise<number> {
  // Without env permission: GNU getopt without POSIXLY_CORRECT.
  const posixly = readEnv("POSIXLY_CORRECT") !== undefined;
  return runCompat(args, io, argv0, posixly);
}
