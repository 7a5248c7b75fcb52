/**
 * Network-namespace harness for the end-to-end and differential suites: private namespaces with
 * unique names, veth pairs, addresses, commands and background processes inside them, and a
 * bounded wait-until helper. Everything a {@link Netns} started is killed, and the namespace
 * deleted, by {@link Netns.destroy}; {@link withNetns} calls it in `finally`.
 *
 * Needs root (`ip netns`). Outputs of background processes go to files in a temp directory, so
 * children that outlive the process (command shells, `sleep`) never hold a pipe open.
 *
 * Over 400 lines because it is the one harness every root-needing suite sets up with (processes,
 * bounded waits, namespaces, veth pairs, packet filters); split, each test would import several
 * files for one set-up.
 *
 * @module
 */

import { readEnv } from "../src/util/env.ts";

let counter = 0;

/**
 * A unique name for a namespace or temp object: `kt-<purpose>-<pid>-<n>`.
 *
 * @param purpose Short purpose tag, e.g. `e2e`.
 * @returns The name.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { uniqueName } from "./netns.ts";
 * const a = uniqueName("e2e"), b = uniqueName("e2e");
 * assert.notEqual(a, b);
 * assert(a.startsWith(`kt-e2e-${Deno.pid}-`));
 * ```
 */
export function uniqueName(purpose: string): string {
  return `kt-${purpose}-${Deno.pid}-${++counter}`;
}

/**
 * A unique interface name (at most 15 characters, the kernel's IFNAMSIZ - 1): `kv<pid36><n36><suffix>`.
 *
 * @param suffix One or two characters, e.g. `a`.
 * @returns The name.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { uniqueIfName } from "./netns.ts";
 * assert(uniqueIfName("a").length <= 15, "too long");
 * ```
 */
export function uniqueIfName(suffix: string): string {
  return `kv${Deno.pid.toString(36)}${(++counter).toString(36)}${suffix}`.slice(0, 15);
}

/** The result of a finished command. */
export interface RunResult {
  /** Exit status (128 + signal number when killed by a signal). */
  readonly code: number;
  /** Signal that ended it, if any. */
  readonly signal: string | null;
  /** Everything it printed on stdout. */
  readonly stdout: string;
  /** Everything it printed on stderr. */
  readonly stderr: string;
}

const decoder = new TextDecoder();

/**
 * Runs a command to completion on the host (not inside a namespace).
 *
 * @param argv Program and arguments.
 * @param opts `check`: throw when the status is not 0 (default true); `stdin`: text to feed.
 * @returns Status and output.
 * @throws {Error} When `check` is on and the command fails.
 */
export async function run(
  argv: readonly string[],
  opts: { check?: boolean; stdin?: string; cwd?: string } = {},
): Promise<RunResult> {
  const [program, ...args] = argv;
  if (program === undefined) throw new Error("Cannot run a command: the argument list is empty");
  const cmd = new Deno.Command(program, {
    args,
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
  });
  const child = cmd.spawn();
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(opts.stdin));
    await w.close();
  }
  const out = await child.output();
  const result: RunResult = {
    code: out.code,
    signal: out.signal,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
  if ((opts.check ?? true) && out.code !== 0) {
    throw new Error(
      `Cannot run "${argv.join(" ")}": exit status ${out.code}\n${result.stderr}${result.stdout}`,
    );
  }
  return result;
}

/** A process running in the background with its output going to files. */
export class BgProcess {
  readonly #child: Deno.ChildProcess;
  readonly #status: Promise<Deno.CommandStatus>;
  #done: Deno.CommandStatus | undefined;
  /** Short label used in messages, e.g. `knockd`. */
  readonly label: string;
  /** The command line. */
  readonly argv: readonly string[];
  /** Path of the file that receives stdout. */
  readonly stdoutPath: string;
  /** Path of the file that receives stderr. */
  readonly stderrPath: string;

  /** @internal Use {@link Netns.spawn} or {@link spawnBg}. */
  constructor(
    child: Deno.ChildProcess,
    label: string,
    argv: readonly string[],
    stdoutPath: string,
    stderrPath: string,
  ) {
    this.#child = child;
    this.label = label;
    this.argv = argv;
    this.stdoutPath = stdoutPath;
    this.stderrPath = stderrPath;
    this.#status = child.status.then((s) => (this.#done = s));
  }

  /** Process id (the program itself: `ip netns exec` and the wrapper shell both exec). */
  get pid(): number {
    return this.#child.pid;
  }

  /** The exit status once it has ended, else undefined. */
  get exited(): Deno.CommandStatus | undefined {
    return this.#done;
  }

  /** Resolves with the exit status when the process ends. */
  get status(): Promise<Deno.CommandStatus> {
    return this.#status;
  }

  /** What it has printed on stdout so far. */
  stdout(): string {
    return readText(this.stdoutPath);
  }

  /** What it has printed on stderr so far. */
  stderr(): string {
    return readText(this.stderrPath);
  }

  /**
   * Sends a signal if the process is still running.
   *
   * @param signal The signal (default SIGTERM).
   */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    if (this.#done !== undefined) return;
    try {
      this.#child.kill(signal);
    } catch {
      // already gone
    }
  }

  /**
   * Sends a signal and waits for the exit, escalating to SIGKILL after `graceMs`.
   *
   * @param signal First signal (default SIGTERM).
   * @param graceMs How long to wait before SIGKILL (default 5000).
   * @returns The exit status.
   */
  async stop(signal: Deno.Signal = "SIGTERM", graceMs = 5000): Promise<Deno.CommandStatus> {
    if (this.#done !== undefined) return this.#done;
    this.kill(signal);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.kill("SIGKILL");
        resolve();
      }, graceMs);
    });
    try {
      await Promise.race([this.#status, killed]);
      return await this.#status;
    } finally {
      clearTimeout(timer);
    }
  }

  /** A multi-line description with both outputs, for failure messages. */
  describe(): string {
    const st = this.#done;
    const how = st === undefined
      ? "still running"
      : `exited with status ${st.code}${st.signal ? ` (${st.signal})` : ""}`;
    return `--- ${this.label}: ${this.argv.join(" ")} — ${how}\n` +
      `--- ${this.label} stdout:\n${this.stdout()}--- ${this.label} stderr:\n${this.stderr()}`;
  }
}

/**
 * Reads a text file, or returns "" when it does not exist (yet).
 *
 * @param path The file.
 * @returns Its text.
 */
export function readText(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return "";
    throw e;
  }
}

/**
 * Starts a background process whose stdout and stderr go to `<dir>/<label>.out` and `.err`.
 * `argv` is run through `sh -c 'exec "$@" >out 2>err'`, so the pid is the program's own.
 *
 * @param dir Directory for the output files.
 * @param label File-name-safe label.
 * @param argv Program and arguments (may start with `ip netns exec NS`).
 * @param opts `cwd`, `env` additions.
 * @returns The process.
 */
export function spawnBg(
  dir: string,
  label: string,
  argv: readonly string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): BgProcess {
  const stdoutPath = `${dir}/${label}.out`;
  const stderrPath = `${dir}/${label}.err`;
  const script = 'out="$1"; err="$2"; shift 2; exec "$@" >"$out" 2>"$err"';
  // `ip netns exec NS sh -c ...` keeps the namespace: split the prefix off so the shell runs inside.
  let prefix: string[] = [];
  let rest = [...argv];
  if (argv[0] === "ip" && argv[1] === "netns" && argv[2] === "exec" && argv[3] !== undefined) {
    prefix = argv.slice(0, 4) as string[];
    rest = argv.slice(4) as string[];
  }
  const full = [...prefix, "sh", "-c", script, "sh", stdoutPath, stderrPath, ...rest];
  const [program, ...args] = full as [string, ...string[]];
  const child = new Deno.Command(program, {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "null",
    ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
    ...(opts.env === undefined ? {} : { env: opts.env }),
  }).spawn();
  return new BgProcess(child, label, argv, stdoutPath, stderrPath);
}

/** Options of {@link waitUntil}. */
export interface WaitOptions {
  /** Give up after this many milliseconds (default 10000). */
  readonly timeoutMs?: number;
  /** Poll interval in milliseconds (default 50). */
  readonly intervalMs?: number;
  /** What is awaited, for the error message, e.g. `knockd to log "starting up"`. */
  readonly what?: string;
  /** Extra text for the error message (e.g. process outputs), computed at failure time. */
  readonly context?: () => string;
}

/**
 * Polls a condition until it holds or a deadline passes. Waiting is bounded; nothing asserts on
 * how long it took.
 *
 * @param cond The condition (may be async).
 * @param opts Deadline, interval and description.
 * @throws {Error} `Cannot wait for <what>: still false after <n> ms` when the deadline passes.
 * @example
 * ```ts
 * import { waitUntil } from "./netns.ts";
 * import assert from "node:assert/strict";
 * let n = 0;
 * await waitUntil(() => ++n >= 3, { intervalMs: 1, what: "three polls" });
 * assert.equal(n, 3);
 * ```
 */
export async function waitUntil(
  cond: () => boolean | Promise<boolean>,
  opts: WaitOptions = {},
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  while (true) {
    if (await cond()) return;
    if (Date.now() >= deadline) {
      const ctx = opts.context ? `\n${opts.context()}` : "";
      throw new Error(
        `Cannot wait for ${opts.what ?? "the condition"}: still false after ${timeoutMs} ms${ctx}`,
      );
    }
    await sleep(intervalMs);
  }
}

/**
 * Whether a classic BPF program, as {@link Netns.packetFilters} gives it, compares with `k` as a
 * value or the start of a range (`jeq #k` or `jge #k`): a capture filter with `dst port 2001` or
 * `dst portrange 2001-2002` does for 2001.
 *
 * @param program The instructions (`0x15 0 1 2001, 0x06 0 0 65535, …`).
 * @param k The constant.
 * @returns True when some `BPF_JMP|BPF_JEQ|BPF_K` or `BPF_JMP|BPF_JGE|BPF_K` instruction has
 *   that constant.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bpfTestsValue } from "./netns.ts";
 * assert.equal(bpfTestsValue("0x28 0 0 20, 0x15 0 1 2001, 0x06 0 0 65535", 2001), true);
 * assert.equal(bpfTestsValue("0x35 0 17 2001, 0x25 16 160 2002", 2001), true);
 * assert.equal(bpfTestsValue("0x28 0 0 2001, 0x06 0 0 65535", 2001), false);
 * ```
 */
export function bpfTestsValue(program: string, k: number): boolean {
  return program.split(",").some((insn) => {
    const f = insn.trim().split(/\s+/);
    return (f[0] === "0x15" || f[0] === "0x35") && Number(f[3]) === k;
  });
}

/**
 * Resolves after `ms` milliseconds.
 *
 * @param ms Delay.
 * @example
 * ```ts
 * import { sleep } from "./netns.ts";
 * await sleep(1);
 * ```
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A private network namespace. Create with {@link Netns.create}, end with {@link Netns.destroy}. */
export class Netns {
  /** The namespace name (`kt-<purpose>-<pid>-<n>`). */
  readonly name: string;
  /** Temp directory for this namespace's process outputs (removed by destroy). */
  readonly dir: string;
  readonly #procs: BgProcess[] = [];
  #destroyed = false;

  private constructor(name: string, dir: string) {
    this.name = name;
    this.dir = dir;
  }

  /**
   * Creates a namespace with `lo` up (127.0.0.1/8 and ::1).
   *
   * @param purpose Short tag for the name, e.g. `e2e`.
   * @returns The namespace.
   * @throws {Error} When `ip netns add` fails (e.g. not root).
   */
  static async create(purpose: string): Promise<Netns> {
    const name = uniqueName(purpose);
    await run(["ip", "netns", "add", name]);
    const dir = await Deno.makeTempDir({ prefix: `${name}-` });
    const ns = new Netns(name, dir);
    try {
      await ns.exec(["ip", "link", "set", "lo", "up"]);
    } catch (e) {
      await ns.destroy();
      throw e;
    }
    return ns;
  }

  /** The `ip netns exec NAME` prefix for a command line. */
  prefix(): string[] {
    return ["ip", "netns", "exec", this.name];
  }

  /**
   * Runs a command inside the namespace to completion.
   *
   * @param argv Program and arguments.
   * @param opts `check` (default true), `stdin`, `cwd`.
   * @returns Status and output.
   */
  exec(
    argv: readonly string[],
    opts: { check?: boolean; stdin?: string; cwd?: string } = {},
  ): Promise<RunResult> {
    return run([...this.prefix(), ...argv], opts);
  }

  /**
   * Starts a background process inside the namespace; destroy() kills it if still running.
   *
   * @param label File-name-safe label for its output files.
   * @param argv Program and arguments.
   * @param opts `cwd`, `env`.
   * @returns The process.
   */
  spawn(
    label: string,
    argv: readonly string[],
    opts: { cwd?: string; env?: Record<string, string> } = {},
  ): BgProcess {
    const p = spawnBg(this.dir, label, [...this.prefix(), ...argv], opts);
    this.#procs.push(p);
    return p;
  }

  /**
   * The classic BPF programs installed on the packet sockets in the namespace, by owning pid, as
   * `ss -0 -b -p` shows them: one string per filtered socket, instructions `OP JT JF K` joined by
   * `, ` (a pid whose sockets have no filter maps to no strings). Lets a test wait until a capture
   * has installed a new filter instead of sleeping (see {@link bpfTestsValue}).
   *
   * @returns pid → the filters of its packet sockets.
   */
  async packetFilters(): Promise<Map<number, string[]>> {
    const out = (await this.exec(["ss", "-0", "-b", "-p", "-n"])).stdout;
    const byPid = new Map<number, string[]>();
    let owners: number[] = [];
    for (const line of out.split("\n")) {
      const bpf = /^\s+bpf filter \(\d+\):\s*(.*?),?\s*$/.exec(line);
      if (bpf !== null) {
        for (const pid of owners) byPid.get(pid)!.push(bpf[1]!);
        owners = [];
        continue;
      }
      if (!line.startsWith("p_")) continue;
      owners = [...line.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
      for (const pid of owners) if (!byPid.has(pid)) byPid.set(pid, []);
    }
    return byPid;
  }

  /**
   * Adds an address to an interface (IPv6 addresses get `nodad`, so they are usable at once).
   *
   * @param dev Interface name.
   * @param cidr e.g. `192.0.2.1/24` or `2001:db8::1/64`.
   */
  async addAddress(dev: string, cidr: string): Promise<void> {
    const extra = cidr.includes(":") ? ["nodad"] : [];
    await this.exec(["ip", "addr", "add", cidr, "dev", dev, ...extra]);
  }

  /**
   * Kills every process this namespace started and every process still inside it (children such
   * as command shells), then deletes the namespace and its temp directory. Safe to call twice.
   */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    for (const p of this.#procs) p.kill("SIGKILL");
    await Promise.all(this.#procs.map((p) => p.status));
    // Leftovers in the namespace are descendants of what we started: kill each by its id.
    for (let round = 0; round < 20; round++) {
      const pids = await run(["ip", "netns", "pids", this.name], { check: false });
      const list = pids.stdout.split("\n").map((s) => s.trim()).filter((s) => /^\d+$/.test(s));
      if (list.length === 0) break;
      for (const pid of list) {
        try {
          Deno.kill(Number(pid), "SIGKILL");
        } catch {
          // already gone
        }
      }
      await sleep(50);
    }
    await run(["ip", "netns", "del", this.name], { check: false });
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

/**
 * Joins two namespaces with a veth pair, brings both ends up and adds the addresses.
 *
 * @param a First namespace.
 * @param b Second namespace.
 * @param opts Interface names and addresses for each end.
 * @returns The interface names `[inA, inB]`.
 */
export async function vethPair(
  a: Netns,
  b: Netns,
  opts: { nameA?: string; nameB?: string; addrsA?: readonly string[]; addrsB?: readonly string[] } =
    {},
): Promise<[string, string]> {
  const nameA = opts.nameA ?? uniqueIfName("a");
  const nameB = opts.nameB ?? uniqueIfName("b");
  await a.exec([
    "ip",
    "link",
    "add",
    nameA,
    "type",
    "veth",
    "peer",
    "name",
    nameB,
    "netns",
    b.name,
  ]);
  for (const [ns, dev, addrs] of [[a, nameA, opts.addrsA], [b, nameB, opts.addrsB]] as const) {
    for (const cidr of addrs ?? []) await ns.addAddress(dev, cidr);
    await ns.exec(["ip", "link", "set", dev, "up"]);
  }
  return [nameA, nameB];
}

/**
 * Creates namespaces, runs `fn`, and always destroys them (also when `fn` throws).
 *
 * @param purposes One tag per namespace to create.
 * @param fn The body.
 * @returns What `fn` returns.
 */
export async function withNetns<T>(
  purposes: readonly string[],
  fn: (namespaces: Netns[]) => Promise<T>,
): Promise<T> {
  const made: Netns[] = [];
  try {
    for (const p of purposes) made.push(await Netns.create(p));
    return await fn(made);
  } finally {
    for (const ns of made.reverse()) await ns.destroy();
  }
}

/**
 * Whether the current process can manage network namespaces (root and `ip` present).
 *
 * @returns True when `ip netns list` works and the uid is 0.
 */
export async function canUseNetns(): Promise<boolean> {
  if (Deno.uid() !== 0) return false;
  try {
    return (await run(["ip", "netns", "list"], { check: false })).code === 0;
  } catch {
    return false;
  }
}

/**
 * For prerequisites: under `CI=true` a missing prerequisite must fail, elsewhere the test may be
 * ignored. Returns the `ignore` value for `Deno.test`.
 *
 * @param available Whether the prerequisite is there.
 * @returns `true` to ignore (only outside CI and only when missing).
 */
export function ignoreUnlessCi(available: boolean): boolean {
  return !available && readEnv("CI") !== "true";
}
