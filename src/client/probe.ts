/**
 * `--check PORT`: after the knock, try a TCP connection to the host with bounded retries, to
 * tell whether the door opened; after `-A`, to every address of the host.
 *
 * @module
 */

import {
  AF_INET6,
  EINPROGRESS,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  type SockAddr,
  type SocketLib,
} from "../../ffi/socket.ts";
import { bindDevice, bindSource, openSocket, RawSocketError } from "./raw.ts";
import { lowerFirst as lower } from "./_text.ts";
import { familyHint, type Sleep, sleep } from "./send.ts";

/** Exit status when the door did not open. */
export const PROBE_FAILED_STATUS = 3;

/** What to check. */
export interface ProbePlan {
  /** The host argument. */
  readonly host: string;
  /** The port (number or service name). */
  readonly port: string;
  /** Address family hint: 0, 4 or 6. */
  readonly family: 0 | 4 | 6;
  /** How many connection attempts (at least 1). */
  readonly attempts: number;
  /** Time per attempt, milliseconds: attempt k starts at k × interval. */
  readonly intervalMs: number;
  /** Source address bytes (`--source`). */
  readonly source?: Uint8Array | undefined;
  /** Interface (`--interface`). */
  readonly iface?: string | undefined;
}

/** The check's result: the address that answered, or the message to print (std voice). */
export type ProbeResult =
  | { readonly ok: true; readonly address: string; readonly attempt: number }
  | { readonly ok: false; readonly status: number; readonly error: string };

/**
 * Tries to connect until one attempt succeeds or all have failed.
 *
 * @param plan What to check.
 * @param lib The open libc handle.
 * @param wait Sleep between attempts.
 * @returns Success with the numeric address, or the exit status and message.
 */
export async function probeDoor(
  plan: ProbePlan,
  lib: SocketLib,
  wait: Sleep = sleep,
): Promise<ProbeResult> {
  const r = lib.resolve(plan.host, plan.port, familyHint(plan.family), SOCK_STREAM);
  if (!r.ok) return resolveFailed(plan, r.message);
  return await probeAddress(plan, r.addr, lib, wait);
}

/**
 * `--check` after `-A`: checks every address the host resolves to (in `getaddrinfo`'s order, the
 * order `-A` knocked them in), each with the plan's attempts.
 *
 * @param plan What to check.
 * @param lib The open libc handle.
 * @param wait Sleep between attempts.
 * @returns One result per address; a single failure when the host does not resolve or a socket
 *   cannot be opened (status 1: nothing more is tried).
 */
export async function probeAll(
  plan: ProbePlan,
  lib: SocketLib,
  wait: Sleep = sleep,
): Promise<ProbeResult[]> {
  const r = lib.resolveAll(plan.host, plan.port, familyHint(plan.family), SOCK_STREAM);
  if (!r.ok) return [resolveFailed(plan, r.message)];
  const seen = new Set<string>();
  const out: ProbeResult[] = [];
  for (const { addr } of r.addrs) {
    const key = lib.numericHost(addr);
    if (seen.has(key)) continue;
    seen.add(key);
    const one = await probeAddress(plan, addr, lib, wait);
    out.push(one);
    if (!one.ok && one.status === 1) break;
  }
  return out;
}

function resolveFailed(plan: ProbePlan, message: string): ProbeResult {
  return {
    ok: false,
    status: 1,
    error: `Cannot resolve "${plan.host}" port "${plan.port}" for --check: ${message}`,
  };
}

async function probeAddress(
  plan: ProbePlan,
  dst: SockAddr,
  lib: SocketLib,
  wait: Sleep,
): Promise<ProbeResult> {
  const host = lib.numericHost(dst);
  let last = "";
  for (let attempt = 1; attempt <= plan.attempts; attempt++) {
    const started = performance.now();
    let fd: number;
    try {
      fd = openSocket(lib, dst.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    } catch (e) {
      if (e instanceof RawSocketError) return { ok: false, status: 1, error: e.message };
      throw e;
    }
    try {
      if (plan.iface !== undefined) bindDevice(lib, fd, plan.iface);
      if (plan.source !== undefined && (plan.source.length === 16) === (dst.family === AF_INET6)) {
        bindSource(lib, fd, plan.source);
      }
      let err = lib.connect(fd, dst);
      if (err === EINPROGRESS) {
        const ready = await lib.waitWritable(fd, plan.intervalMs);
        err = ready ? lib.pendingError(fd) : -1;
      }
      if (err === 0) return { ok: true, address: host, attempt };
      last = err === -1 ? "timed out" : lower(lib.strerror(err));
    } catch (e) {
      if (e instanceof RawSocketError) return { ok: false, status: 1, error: e.message };
      throw e;
    } finally {
      lib.closeFd(fd);
    }
    const left = plan.intervalMs - (performance.now() - started);
    if (attempt < plan.attempts && left > 0) await wait(left);
  }
  return {
    ok: false,
    status: PROBE_FAILED_STATUS,
    error: `Cannot connect to "${host}" port "${plan.port}" after ${plan.attempts} ` +
      `attempt${plan.attempts === 1 ? "" : "s"}: the door did not open (${last})`,
  };
}
