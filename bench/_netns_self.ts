/**
 * The benchmarks' private network namespace: create it, re-run the calling script inside it with
 * `ip netns exec NAME deno run -A … SCRIPT --inner ARGS…`, and on every exit path (end, error,
 * Ctrl-C, SIGTERM, SIGHUP, the watchdog) kill by pid whatever is left inside and delete it. Used by
 * `harness.ts`, `grants_bench.ts` and `latency_capture.ts`. Needs root.
 *
 * @module
 */

/** What {@link runInNetns} runs. */
export interface NetnsSelfOptions {
  /** The namespace's name (make it unique: other jobs run benchmarks too). */
  readonly name: string;
  /** The script to run inside (usually `import.meta.filename`). */
  readonly script: string;
  /** Its arguments after `--inner`. */
  readonly args?: readonly string[];
  /** Options for `deno run` before the script (after `-A`), e.g. `--config FILE`. */
  readonly denoArgs?: readonly string[];
  /** Bring `lo` up inside before the run. */
  readonly loUp?: boolean;
  /** Kill the run (SIGKILL) after this many ms. */
  readonly limitMs?: number;
}

async function ip(args: string[]): Promise<{ code: number; out: string }> {
  const o = await new Deno.Command("ip", { args, stdin: "null", stdout: "piped", stderr: "piped" })
    .output();
  const d = new TextDecoder();
  return { code: o.code, out: (d.decode(o.stdout) + d.decode(o.stderr)).trim() };
}

/**
 * Runs `script --inner args…` in a new network namespace and deletes the namespace afterwards.
 * SIGINT, SIGTERM and SIGHUP are passed on to the run as SIGTERM meanwhile.
 *
 * @param o What to run.
 * @returns The run's exit code (137 when the watchdog killed it).
 * @throws {Error} `Cannot create network namespace "NAME": …` or `Cannot bring "lo" up in …`.
 *
 * @example
 * ```ts ignore
 * import { runInNetns } from "./_netns_self.ts";
 * if (!Deno.args.includes("--inner")) {
 *   Deno.exit(await runInNetns({ name: `kt-x-${Deno.pid}`, script: import.meta.filename! }));
 * }
 * ```
 */
export async function runInNetns(o: NetnsSelfOptions): Promise<number> {
  const add = await ip(["netns", "add", o.name]);
  if (add.code !== 0) throw new Error(`Cannot create network namespace "${o.name}": ${add.out}`);
  let child: Deno.ChildProcess | undefined;
  const forward = () => {
    try {
      child?.kill("SIGTERM");
    } catch { /* already gone */ }
  };
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const s of signals) Deno.addSignalListener(s, forward);
  let killer: ReturnType<typeof setTimeout> | undefined;
  try {
    if (o.loUp) {
      const up = await ip(["-n", o.name, "link", "set", "lo", "up"]);
      if (up.code !== 0) throw new Error(`Cannot bring "lo" up in "${o.name}": ${up.out}`);
    }
    const args = ["netns", "exec", o.name, Deno.execPath(), "run", "-A", ...(o.denoArgs ?? [])]
      .concat([o.script, "--inner", ...(o.args ?? [])]);
    child = new Deno.Command("ip", { args, stdin: "null", stdout: "inherit", stderr: "inherit" })
      .spawn();
    const c = child;
    if (o.limitMs !== undefined) {
      const limit = o.limitMs;
      killer = setTimeout(() => {
        console.error(`bench: the run took longer than ${limit / 1000} s: killing it`);
        try {
          c.kill("SIGKILL");
        } catch { /* gone */ }
      }, limit);
    }
    return (await c.status).code;
  } finally {
    clearTimeout(killer);
    for (const s of signals) Deno.removeSignalListener(s, forward);
    // Everything still in the namespace was started by this run: end it by pid.
    const pids = await ip(["netns", "pids", o.name]);
    for (const p of pids.out.split(/\s+/).filter((x) => /^\d+$/.test(x))) {
      try {
        Deno.kill(Number(p), "SIGKILL");
      } catch { /* gone */ }
    }
    const del = await ip(["netns", "delete", o.name]);
    if (del.code !== 0) console.error(`Cannot delete network namespace "${o.name}": ${del.out}`);
  }
}
