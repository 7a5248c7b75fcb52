/**
 * Sends a knock sequence as knock 0.8 does (docs/COMPATIBILITY.md §1.2), plus knocktool's
 * raw-socket TCP flags, source address and interface choice.
 *
 * Per port argument, in order: `getaddrinfo(host, port)` with hints that set only the family
 * (knock 0.8 leaves `ai_socktype` 0, which is why an unknown service reports "Servname not
 * supported for ai_socktype"); the first result is used; `-v` prints `hitting tcp HOST:PORT`
 * with the numeric host (`getnameinfo`) and the port as typed; a TCP hit is a non-blocking
 * `connect` and an immediate `close` (one SYN, errors ignored); a UDP hit is `sendto` of one
 * byte 0x00; then the delay, after every hit including the last. A resolution failure stops the
 * sequence with exit status 1, even mid-sequence.
 *
 * With `-A` (`allAddresses`), every step is resolved first (all of `getaddrinfo`'s results, each
 * address once), then the whole sequence goes to each address in `getaddrinfo`'s order: a host
 * name with A and AAAA records is knocked over both families.
 *
 * @module
 */

import {
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  type SockAddr,
  type SocketLib,
} from "../../ffi/socket.ts";
import type { Io } from "../util/io.ts";
import { bindDevice, bindSource, openSocket, RawSender, RawSocketError } from "./raw.ts";
import { formatFlags, type KnockStep } from "./steps.ts";

/** Everything needed to send one knock sequence. */
export interface KnockPlan {
  /** The host argument, resolved once per step. */
  readonly host: string;
  /** The hits, in order. */
  readonly steps: readonly KnockStep[];
  /** Address family hint: 0 (any), 4 or 6. */
  readonly family: 0 | 4 | 6;
  /** `-u`: every hit is UDP. */
  readonly udp: boolean;
  /** Microseconds to sleep after every hit (knock's `usleep(1000 * delay)`). */
  readonly delayUs: number;
  /** `-v`: print each hit. */
  readonly verbose: boolean;
  /** Source address text (`--source`). */
  readonly source?: string | undefined;
  /** Interface name (`--interface`). */
  readonly iface?: string | undefined;
  /** `-A`: knock every address the host resolves to, one after the other. */
  readonly allAddresses?: boolean;
}

/** How the sequence ended. */
export interface KnockOutcome {
  /** Exit status: 0, or 1 after an error that was printed. */
  readonly status: number;
  /** The address of the last hit (for `--check`). */
  readonly lastAddr?: SockAddr;
}

/** The wait between hits; replaceable in tests. */
export type Sleep = (ms: number) => Promise<void>;

/**
 * Sleeps with a timer that is always cleared.
 *
 * @param ms Milliseconds.
 * @returns A promise that resolves after `ms`.
 *
 * @example
 * ```ts
 * import { sleep } from "./send.ts";
 * await sleep(1);
 * ```
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The `ai_family` hint for a plan's family.
 *
 * @param family 0, 4 or 6.
 * @returns `AF_UNSPEC`, `AF_INET` or `AF_INET6`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { familyHint } from "./send.ts";
 * assert.equal(familyHint(6), 10, "AF_INET6 is 10 on Linux");
 * ```
 */
export function familyHint(family: 0 | 4 | 6): number {
  return family === 4 ? AF_INET : family === 6 ? AF_INET6 : AF_UNSPEC;
}

/**
 * Sends the knock sequence of `plan`; prints what knock 0.8 prints.
 *
 * @param plan What to send.
 * @param io Where to print.
 * @param lib The open libc handle.
 * @param wait The sleep between hits.
 * @returns The exit status and the last hit's address.
 */
export async function sendKnocks(
  plan: KnockPlan,
  io: Io,
  lib: SocketLib,
  wait: Sleep = sleep,
): Promise<KnockOutcome> {
  let source: Uint8Array | undefined;
  if (plan.source !== undefined) {
    const parsed = lib.parseAddress(plan.source);
    if (parsed === null) {
      io.stderr(`Cannot use source "${plan.source}": not an IPv4 or IPv6 address\n`);
      return { status: 1 };
    }
    source = parsed;
  }
  const raw = new RawSender(lib, { source, iface: plan.iface });
  try {
    const needsRaw = !plan.udp && plan.steps.some((s) => s.flags !== undefined);
    if (needsRaw) {
      try {
        // Report a missing privilege before the first hit, not in the middle of the sequence.
        raw.probe(source?.length === 16 || plan.family === 6 ? AF_INET6 : AF_INET);
      } catch (e) {
        if (e instanceof RawSocketError) {
          io.stderr(e.message + "\n");
          return { status: 1 };
        }
        throw e;
      }
    }
    const hint = familyHint(plan.family);
    const hit = (dst: SockAddr, step: KnockStep): number =>
      sendHit(plan, io, lib, raw, source, dst, step);
    let lastAddr: SockAddr | undefined;
    if (plan.allAddresses === true) {
      // Resolve every step first, so that a failure sends nothing; then the whole sequence to
      // each address in turn (two addresses of one server must not see interleaved hits).
      const perStep: Map<string, SockAddr>[] = [];
      const order: string[] = [];
      for (const step of plan.steps) {
        const r = lib.resolveAll(plan.host, step.port, hint, 0);
        if (!r.ok) return resolveFailed(plan.host, step.port, r.message, io);
        const byAddr = new Map<string, SockAddr>();
        for (const { addr } of r.addrs) {
          const key = lib.numericHost(addr);
          if (byAddr.has(key)) continue;
          byAddr.set(key, addr);
          if (!order.includes(key)) order.push(key);
        }
        perStep.push(byAddr);
      }
      for (const key of order) {
        for (const [i, step] of plan.steps.entries()) {
          const dst = perStep[i]?.get(key);
          if (dst === undefined) continue;
          lastAddr = dst;
          if (hit(dst, step) !== 0) return { status: 1 };
          if (plan.delayUs > 0) await wait(plan.delayUs / 1000);
        }
      }
    } else {
      for (const step of plan.steps) {
        const r = lib.resolve(plan.host, step.port, hint, 0);
        if (!r.ok) return resolveFailed(plan.host, step.port, r.message, io);
        const dst = r.addr;
        lastAddr = dst;
        if (hit(dst, step) !== 0) return { status: 1 };
        if (plan.delayUs > 0) await wait(plan.delayUs / 1000);
      }
    }
    return lastAddr === undefined ? { status: 0 } : { status: 0, lastAddr };
  } finally {
    raw.close();
  }
}

function resolveFailed(host: string, port: string, message: string, io: Io): KnockOutcome {
  io.stderr(`Failed to resolve hostname '${host}' on port ${port}\n`);
  io.stderr(`getaddrinfo: ${message}\n`);
  return { status: 1 };
}

/** Sends one hit; returns 0, or 1 after printing an error. */
function sendHit(
  plan: KnockPlan,
  io: Io,
  lib: SocketLib,
  raw: RawSender,
  source: Uint8Array | undefined,
  dst: SockAddr,
  step: KnockStep,
): number {
  const udp = plan.udp || step.protocol === "udp";
  try {
    if (!udp && step.flags !== undefined) {
      if (plan.verbose) {
        io.stdout(
          `hitting tcp ${lib.numericHost(dst)}:${step.port} (${formatFlags(step.flags)})\n`,
        );
      }
      raw.send(dst, step.flags);
      return 0;
    }
    // "Cannot open socket: <strerror>" (knock 0.8 says only "Cannot open socket").
    const fd = udp
      ? openSocket(lib, dst.family, SOCK_DGRAM | SOCK_CLOEXEC)
      : openSocket(lib, dst.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC);
    try {
      if (plan.iface !== undefined) bindDevice(lib, fd, plan.iface);
      if (source !== undefined) {
        if ((source.length === 16) !== (dst.family === AF_INET6)) {
          throw new RawSocketError(
            `Cannot send from "${plan.source}" to "${lib.numericHost(dst)}": ` +
              `the address families differ`,
          );
        }
        bindSource(lib, fd, source);
      }
      if (plan.verbose) {
        io.stdout(`hitting ${udp ? "udp" : "tcp"} ${lib.numericHost(dst)}:${step.port}\n`);
      }
      // knock 0.8 ignores connect and sendto errors: the hit is fire-and-forget.
      if (udp) lib.sendto(fd, new Uint8Array(1), dst);
      else lib.connect(fd, dst);
    } finally {
      lib.closeFd(fd);
    }
    return 0;
  } catch (e) {
    if (e instanceof RawSocketError) {
      io.stderr(e.message + "\n");
      return 1;
    }
    throw e;
  }
}
