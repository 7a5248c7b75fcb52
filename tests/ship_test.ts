/**
 * Shipping checks: what `deno task compile` bakes into the binary (entrypoint, permissions, npm
 * packages), and that every subcommand works under exactly those permissions.
 *
 * A compiled binary cannot be run here (Deno's `denort` base cannot be downloaded, see
 * docs/ARCHITECTURE.md, "Capture loop facts" §1), so the binary is built with the full `deno` as
 * `DENORT_BIN` and its embedded metadata is checked offline; the permissions are exercised with
 * `deno run` and the same flags.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Permission, permissionFlags, PERMISSIONS } from "../tools/permissions.ts";
import { compileArgs, parseArgs, V8_FLAGS } from "../tools/compile.ts";

const ROOT = new URL("..", import.meta.url);
const ROOT_PATH = ROOT.pathname;
const CI = Deno.env.get("CI") === "true";
const dec = new TextDecoder();

function has(tool: string): boolean {
  return new Deno.Command("sh", { args: ["-c", `command -v ${tool}`], stdout: "null" })
    .outputSync().success;
}

async function run(
  cmd: string,
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): Promise<{ code: number; out: string; err: string }> {
  const o = await new Deno.Command(cmd, {
    args,
    cwd: opts.cwd ?? ROOT_PATH,
    env: { NO_COLOR: "1", ...opts.env },
    stdin: "null",
    signal: AbortSignal.timeout(opts.timeoutMs ?? 120_000),
  }).output();
  return { code: o.code, out: dec.decode(o.stdout), err: dec.decode(o.stderr) };
}

/** Finds the end of the JSON object starting at `start` (string-aware brace matching). */
function jsonEnd(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return i + 1;
  }
  throw new Error("Cannot find the end of the embedded metadata: unbalanced braces");
}

/** The `permissions` object Deno bakes for these grants: null = not granted, [] = unscoped. */
function expectedPermissions(grants: readonly Permission[]): Record<string, unknown> {
  const expected: Record<string, unknown> = {};
  for (const kind of ["env", "net", "ffi", "read", "run", "sys", "write"]) {
    const g = grants.find((p) => p.kind === kind);
    expected[`allow_${kind}`] = g === undefined ? null : [...(g.scope ?? [])];
    expected[`deny_${kind}`] = null;
  }
  expected.ignore_env = null;
  expected.ignore_read = null;
  expected.deny_import = [];
  expected.prompt = false;
  return expected;
}

Deno.test({
  name:
    "ship: compiled binary embeds main.ts, exactly tools/permissions.ts, only used npm packages",
  ignore: !CI && !has("objcopy"),
  fn: async () => {
    assert(has("objcopy"), `Cannot run the test: "objcopy" (binutils) is not installed`);
    const dir = await Deno.makeTempDir({ prefix: "kt-ship-" });
    try {
      // The full deno stands in for denort: compiling then works offline (the output only starts
      // the REPL, but its payload is what a real denort would carry).
      const denort = await Deno.realPath(Deno.execPath());
      const c = await run(Deno.execPath(), ["run", "-A", "tools/compile.ts", "--out-dir", dir], {
        env: { DENORT_BIN: denort, PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
      });
      assert.equal(c.code, 0, c.err);
      assert.match(c.err, /To add macOS targets/);
      const bin = `${dir}/knocktool-${Deno.build.target}`;
      const section = `${dir}/sui.bin`;
      const o = await run("objcopy", ["-O", "binary", "--only-section=.note.sui", bin, section]);
      assert.equal(o.code, 0, o.err);
      const bytes = await Deno.readFile(section);
      // latin1 keeps one char per byte, so string offsets are byte offsets.
      const text = new TextDecoder("latin1").decode(bytes);
      const start = text.indexOf('{"argv"');
      assert(start >= 0, "no embedded metadata found in .note.sui");
      const end = jsonEnd(text, start);
      const meta = JSON.parse(dec.decode(bytes.subarray(start, end)));
      assert.equal(meta.entrypoint_key, "main.ts");
      // Deno puts its own defaults first; ours come last.
      assert.deepEqual(meta.v8_flags.slice(-V8_FLAGS.length), [...V8_FLAGS]);
      const perms = { ...meta.permissions };
      delete perms.allow_import; // Deno's default host list; --deny-import overrides it
      assert.deepEqual(perms, expectedPermissions(PERMISSIONS));

      // The npm snapshot follows the metadata: a u64 length, a u32 package count, then each
      // package id as a u32 length and its bytes ("name@version", plus "_peer" suffixes).
      const snap = new DataView(bytes.buffer, bytes.byteOffset + end);
      assert(Number(snap.getBigUint64(0, true)) > 0, "no npm snapshot after the metadata");
      const count = snap.getUint32(8, true);
      const embedded = new Set<string>();
      let off = 12;
      for (let i = 0; i < count; i++) {
        const len = snap.getUint32(off, true);
        embedded.add(text.slice(end + off + 4, end + off + 4 + len));
        off += 4 + len;
      }
      const info = await run(Deno.execPath(), ["info", "--json", "main.ts"]);
      assert.equal(info.code, 0, info.err);
      const used = new Set(Object.keys(JSON.parse(info.out).npmPackages ?? {}));
      assert(used.size > 0, "deno info lists no npm packages for main.ts");
      assert.deepEqual([...embedded].sort(), [...used].sort());
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** Deno's permission failure, whichever API raised it. */
const PERMISSION_ERROR = /NotCapable|PermissionDenied: Requires|Requires \w+ access to/;

const CONFIG = `[options]
  LogFile = LOGFILE

[open]
  sequence = 7000,8000:udp,9000
  seq_timeout = 5
  tcpflags = syn
  command = /bin/echo open %IP%
`;

/** A pcap with one SYN to 127.0.0.1:7000, written with the project's own pcap writer. */
async function writeFixture(path: string): Promise<void> {
  const { writePcap } = await import("../src/wire/pcapfile.ts");
  const { buildIp } = await import("../src/wire/build.ts");
  const ip = buildIp({
    family: 4,
    src: "127.0.0.2",
    dst: "127.0.0.1",
    protocol: "tcp",
    srcPort: 40000,
    dstPort: 7000,
  });
  // DLT_RAW (101 on Linux captures as LINKTYPE_RAW): the IP packet is the whole frame.
  await Deno.writeFile(path, writePcap(101, [{ tsSec: 1, tsUsec: 0, data: ip }]));
}

Deno.test("ship: each subcommand runs under exactly the compiled permissions", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "kt-perm-" });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const conf = `${dir}/knockd.conf`;
    await Deno.writeTextFile(conf, CONFIG.replace("LOGFILE", `${dir}/knock.log`));
    const pcap = `${dir}/one-syn.pcap`;
    await writeFixture(pcap);
    const port = (listener.addr as Deno.NetAddr).port;
    // Links named knockd and knock to the deno binary stand in for links to the compiled binary:
    // the program must see the name it was started as (argv[0]) under these permissions too.
    const deno = await Deno.realPath(Deno.execPath());
    for (const name of ["knockd", "knock"]) await Deno.symlink(deno, `${dir}/${name}`);
    const cases: { exe?: string; args: string[]; ok: number[]; out?: RegExp }[] = [
      { args: ["check", "-c", conf], ok: [0] },
      { args: ["knock", "127.0.0.1", String(port)], ok: [0] },
      { args: ["serve", "-c", conf, "--pcap-file", pcap, "--dry-run"], ok: [0] },
      { args: ["interfaces"], ok: [0] },
      { args: ["keygen", `${dir}/secret`], ok: [0] },
      {
        args: ["sequence", "--secret-file", `${dir}/secret`, "--door", "ssh"],
        ok: [0],
        out: /^\d+:tcp \d+:tcp \d+:tcp \d+:tcp\n$/,
      },
      // No server listens on this socket: the connection is refused after the permission checks.
      ...["status", "revoke 192.0.2.2", "grant 192.0.2.2 --door ssh"].map((sub) => ({
        args: [...sub.split(" "), "--control", `${dir}/control.sock`],
        ok: [1],
      })),
      { exe: `${dir}/knockd`, args: ["-V"], ok: [0], out: /^knockd 0\.8\n/ },
      { exe: `${dir}/knock`, args: ["-V"], ok: [0], out: /^knock 0\.8\n/ },
    ];
    for (const c of cases) {
      const exe = c.exe ?? Deno.execPath();
      await t.step(`${exe.slice(exe.lastIndexOf("/") + 1)} ${c.args.join(" ")}`, async () => {
        const r = await run(
          exe,
          ["run", "--no-prompt", ...permissionFlags(), "main.ts", ...c.args],
          { env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" }, timeoutMs: 60_000 },
        );
        assert.doesNotMatch(r.err, PERMISSION_ERROR);
        assert(c.ok.includes(r.code), `exit status ${r.code}: ${r.err}`);
        if (c.out) assert.match(r.out, c.out, r.err);
      });
    }
  } finally {
    listener.close();
    await Deno.remove(dir, { recursive: true });
  }
});

const UNIT = new URL("packaging/knocktool.service", ROOT);

/** Reads a systemd unit: section → key → values (a key may repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1] as string, current);
      continue;
    }
    const eq = line.indexOf("=");
    assert(current !== undefined && eq > 0, `unparsable unit line: ${line}`);
    const key = line.slice(0, eq).trim();
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return sections;
}

Deno.test("packaging: the unit has knockd's semantics and knocktool's hardening", async () => {
  const unit = parseUnit(await Deno.readTextFile(UNIT));
  const get = (section: string, key: string) => unit.get(section)?.get(key) ?? [];
  assert.deepEqual(get("Unit", "After"), ["network-online.target"]);
  assert.deepEqual(get("Unit", "Wants"), ["network-online.target"]);
  assert.deepEqual(get("Service", "EnvironmentFile"), ["-/etc/default/knocktool"]);
  assert.deepEqual(get("Service", "ExecStartPre"), [
    "/usr/local/bin/knocktool check -c /etc/knockd.conf",
  ]);
  const [start] = get("Service", "ExecStart");
  assert.match(start ?? "", /^\/usr\/local\/bin\/knocktool serve .*\$KNOCKTOOL_OPTS$/);
  assert.doesNotMatch(start ?? "", / -d\b/); // foreground: systemd supervises it
  assert.deepEqual(get("Service", "ExecReload"), ["/bin/kill -HUP $MAINPID"]);
  assert.deepEqual(get("Service", "SuccessExitStatus"), ["0 2 15"]);
  assert.deepEqual(get("Service", "Restart"), ["on-failure"]);
  assert.deepEqual(get("Service", "KillMode"), ["mixed"]);
  const stop = /^(\d+)s$/.exec(get("Service", "TimeoutStopSec")[0] ?? "");
  assert(
    stop !== null && Number(stop[1]) >= 30,
    "TimeoutStopSec must leave time for stop commands",
  );
  for (const key of ["CapabilityBoundingSet", "AmbientCapabilities"]) {
    assert.deepEqual(get("Service", key), ["CAP_NET_RAW CAP_NET_ADMIN"], key);
  }
  // Door commands must keep working: netlink for nft/iptables, /etc writable for one-time files.
  assert.match(get("Service", "RestrictAddressFamilies")[0] ?? "", /AF_NETLINK/);
  assert.deepEqual(get("Service", "ProtectSystem"), ["true"]);
  assert.deepEqual(get("Service", "MemoryDenyWriteExecute"), []);
  assert.deepEqual(get("Install", "WantedBy"), ["multi-user.target"]);
});

Deno.test({
  name: "packaging: systemd-analyze verify accepts the unit",
  ignore: !CI && !has("systemd-analyze"),
  fn: async () => {
    assert(has("systemd-analyze"), `Cannot run the test: "systemd-analyze" is not installed`);
    const dir = await Deno.makeTempDir({ prefix: "kt-unit-" });
    try {
      // verify checks that executables exist: point the unit at a stub instead of the install path.
      await Deno.writeTextFile(`${dir}/knocktool`, "#!/bin/sh\n", { mode: 0o755 });
      const text = (await Deno.readTextFile(UNIT)).replaceAll(
        "/usr/local/bin/knocktool",
        `${dir}/knocktool`,
      );
      await Deno.writeTextFile(`${dir}/knocktool.service`, text);
      const r = await run("systemd-analyze", ["verify", `${dir}/knocktool.service`], {
        env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", SYSTEMD_LOG_COLOR: "0" },
      });
      assert.equal(r.code, 0, r.err);
      // Unknown or misspelt keys are only warnings, with status 0.
      const about = r.err.split("\n").filter((l) => l.includes("knocktool"));
      assert.deepEqual(about, []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

const EXAMPLES = ["knockd.iptables.conf", "knockd.nftables.conf", "knockd.firewalld.conf"];

Deno.test("examples: every knockd.conf example parses, each door opens for %IP%", async () => {
  const { loadConfig } = await import("../src/config/load.ts");
  for (const name of EXAMPLES) {
    const r = loadConfig(new URL(`examples/${name}`, ROOT).pathname);
    assert(r.ok, `${name}: ${r.ok ? "" : r.error.message}`);
    assert(r.config.doors.length > 0, `${name}: no doors`);
    for (const door of r.config.doors) {
      assert.match(door.startCommand ?? "", /%IP%/, `${name} [${door.name}]`);
      assert.match(door.startCommand6 ?? "", /%IP%/, `${name} [${door.name}] (IPv6)`);
    }
  }
});

/** Runs argv in the network namespace `ns`. */
function inNs(ns: string, ...argv: string[]) {
  return run("ip", ["netns", "exec", ns, ...argv], {
    env: { PATH: Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin" },
    timeoutMs: 20_000,
  });
}

Deno.test({
  name: "examples: the nftables example's command adds an element that times out in the kernel",
  ignore: !CI && (Deno.uid() !== 0 || !has("nft")),
  fn: async () => {
    assert(Deno.uid() === 0, "Cannot run the test: it needs root for a network namespace");
    assert(has("nft"), `Cannot run the test: "nft" (nftables) is not installed`);
    const { loadConfig } = await import("../src/config/load.ts");
    const r = loadConfig(new URL("examples/knockd.nftables.conf", ROOT).pathname);
    assert(r.ok);
    const door = r.config.doors[0];
    assert(door?.startCommand !== undefined && door.startCommand6 !== undefined);
    const ns = `kt-ship-nft-${Deno.pid}`;
    const add = await run("ip", ["netns", "add", ns]);
    assert.equal(add.code, 0, add.err);
    try {
      const load = await inNs(ns, "nft", "-f", new URL("examples/knock.nft", ROOT).pathname);
      assert.equal(load.code, 0, load.err);
      for (
        const [cmd, ip, set] of [
          [door.startCommand, "192.0.2.7", "allowed"],
          [door.startCommand6, "2001:db8::7", "allowed6"],
        ] as const
      ) {
        const open = await inNs(ns, "/bin/sh", "-c", cmd.replaceAll("%IP%", ip));
        assert.equal(open.code, 0, open.err);
        const list = await inNs(ns, "nft", "list", "set", "inet", "knock", set);
        assert.equal(list.code, 0, list.err);
        assert.match(list.out, new RegExp(`${ip.replaceAll(".", "\\.")} timeout 30s expires`));
      }
    } finally {
      await run("ip", ["netns", "del", ns]);
    }
  },
});

Deno.test({
  name: "ship: serve -d daemonizes and serves under exactly the compiled permissions",
  ignore: !CI && Deno.uid() !== 0,
  fn: async () => {
    assert(Deno.uid() === 0, "Cannot run the test: it needs root for a network namespace");
    const dir = await Deno.makeTempDir({ prefix: "kt-daemon-" });
    const ns = `kt-ship-d-${Deno.pid}`;
    let pid: number | undefined;
    const add = await run("ip", ["netns", "add", ns]);
    assert.equal(add.code, 0, add.err);
    try {
      await inNs(ns, "ip", "link", "set", "lo", "up");
      const conf = `${dir}/knockd.conf`;
      await Deno.writeTextFile(conf, CONFIG.replace("LOGFILE", `${dir}/knock.log`));
      const pidfile = `${dir}/knocktool.pid`;
      const r = await run("ip", [
        "netns",
        "exec",
        ns,
        Deno.execPath(),
        "run",
        "--no-prompt",
        ...permissionFlags(),
        "main.ts",
        "serve",
        "-d",
        "-i",
        "lo",
        "-c",
        conf,
        "-p",
        pidfile,
      ], { env: { PATH: Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin" } });
      assert.doesNotMatch(r.err, PERMISSION_ERROR);
      assert.equal(r.code, 0, r.err);
      // The parent returns once the child serves; the child writes the pidfile.
      for (let i = 0; i < 100 && pid === undefined; i++) {
        const text = await Deno.readTextFile(pidfile).catch(() => "");
        if (/^\d+\n$/.test(text)) pid = Number(text.trim());
        else await new Promise((res) => setTimeout(res, 100));
      }
      assert(pid !== undefined, "no pidfile within 10 s");
      // knockd's order: pidfile first, then the "starting up" log line.
      let log = "";
      for (let i = 0; i < 100 && !log.includes("starting up"); i++) {
        await new Promise((res) => setTimeout(res, 100));
        log = await Deno.readTextFile(`${dir}/knock.log`).catch(() => "");
      }
      assert.match(log, /starting up, listening on lo/);
      Deno.kill(pid, "SIGTERM");
      for (let i = 0; i < 100 && alive(pid); i++) await new Promise((res) => setTimeout(res, 100));
      assert(!alive(pid), "the daemon did not exit within 10 s of SIGTERM");
      pid = undefined;
    } finally {
      if (pid !== undefined && alive(pid)) Deno.kill(pid, "SIGKILL");
      await run("ip", ["netns", "del", ns]);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** Whether a process exists (signal 0 is not available in Deno: read /proc). */
function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) Z /.test(stat); // a zombie has exited
  } catch {
    return false;
  }
}

Deno.test({
  name: "demo: tools/demo.sh knocks a door open in a namespace and cleans up",
  ignore: !CI && Deno.uid() !== 0,
  fn: async () => {
    assert(Deno.uid() === 0, "Cannot run the test: tools/demo.sh needs root");
    const r = await run("bash", ["tools/demo.sh"], {
      env: { PATH: Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin" },
      timeoutMs: 180_000,
    });
    const all = r.out + r.err;
    assert.equal(r.code, 0, all);
    assert.match(r.out, /127\.0\.0\.1: openSSH: OPEN SESAME/);
    assert.match(r.out, /^door opened for 127\.0\.0\.1$/m);
    assert.match(r.out, /elements = \{ 127\.0\.0\.1 timeout 30s expires/);
    const ns = /private network namespace \((kt-demo-\d+)\)/.exec(r.out)?.[1];
    assert(ns !== undefined, all);
    const list = await run("ip", ["netns", "list"]);
    assert(!list.out.includes(ns), `namespace "${ns}" left behind`);
    const work = /^== (\/tmp\/kt-demo\.\w+)\/knockd\.conf$/m.exec(r.out)?.[1];
    assert(work !== undefined, all);
    for (const e of Deno.readDirSync("/proc")) {
      if (!/^\d+$/.test(e.name)) continue;
      const cmdline = await Deno.readTextFile(`/proc/${e.name}/cmdline`).catch(() => "");
      assert(!cmdline.includes(work), `a process of the demo is still running: ${cmdline}`);
    }
    await assert.rejects(Deno.stat(work), Deno.errors.NotFound);
  },
});

Deno.test("compile: arguments select targets; unknown targets are refused by name", () => {
  const host = "x86_64-unknown-linux-gnu";
  assert.deepEqual(parseArgs([], host), { outDir: "dist", targets: [host] });
  assert.deepEqual(parseArgs(["aarch64-unknown-linux-gnu", host, "--out-dir", "/o"], host), {
    outDir: "/o",
    targets: ["aarch64-unknown-linux-gnu", host],
  });
  assert.deepEqual(parseArgs(["x86_64-apple-darwin"], host), {
    error: 'Cannot compile for "x86_64-apple-darwin": target must be one of ' +
      '"x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"',
  });
  assert.deepEqual(parseArgs(["--out-dir"], host), {
    error: 'Cannot read "--out-dir": a directory must follow it',
  });
  assert.deepEqual(parseArgs([], "aarch64-apple-darwin"), {
    error: 'Cannot compile for the host "aarch64-apple-darwin": name a supported target',
  });
  // No --include, no extra flags: the permissions, the V8 flags, the target and the output name.
  assert.deepEqual(compileArgs("aarch64-unknown-linux-gnu", "dist"), [
    "compile",
    "--no-prompt",
    ...permissionFlags(),
    "--v8-flags=--max-semi-space-size=1",
    "--target",
    "aarch64-unknown-linux-gnu",
    "--output",
    "dist/knocktool-aarch64-unknown-linux-gnu",
    "main.ts",
  ]);
});

/** The program's own source files (what the binary embeds from this repository). */
async function programSources(): Promise<{ path: string; text: string }[]> {
  const out: { path: string; text: string }[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(new URL(dir, ROOT))) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(path);
      else if (path.endsWith(".ts") && !path.endsWith("_test.ts")) {
        out.push({ path, text: await Deno.readTextFile(new URL(path, ROOT)) });
      }
    }
  };
  await walk("src");
  await walk("ffi");
  out.push({ path: "main.ts", text: await Deno.readTextFile(new URL("main.ts", ROOT)) });
  return out;
}

Deno.test("ship: the program uses nothing outside tools/permissions.ts", async () => {
  const envScope = PERMISSIONS.find((p) => p.kind === "env")?.scope ?? [];
  const granted = new Set(PERMISSIONS.map((p) => p.kind));
  const problems: string[] = [];
  for (const { path, text } of await programSources()) {
    // Code, not comments: JSDoc examples may show anything.
    const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
    for (const m of code.matchAll(/"((?:KNOCKTOOL_|POSIXLY_)[A-Z0-9_]*)"/g)) {
      if (!envScope.includes(m[1] as string)) problems.push(`${path}: env "${m[1]}" not granted`);
    }
    if (/Deno\.env\.toObject\(/.test(code)) {
      problems.push(`${path}: Deno.env.toObject needs all env`);
    }
    // Deno demands --allow-all for /proc through its file APIs; read it through libc instead.
    if (/Deno\.\w+\(\s*[`"]\/proc\//.test(code)) {
      problems.push(
        `${path}: reads /proc through Deno's file API, which demands --allow-all, so under the ` +
          `binary's permissions the read always fails: read it through libc (FFI) instead`,
      );
    }
    if (!granted.has("net") && /Deno\.(connect\w*|listen\w*|resolveDns)\(/.test(code)) {
      problems.push(`${path}: network API without the net grant`);
    }
    if (
      !granted.has("sys") &&
      /Deno\.(hostname|networkInterfaces|osRelease|osUptime|loadavg|systemMemoryInfo|uid|gid)\(/
        .test(code)
    ) problems.push(`${path}: system-information API without the sys grant`);
  }
  assert.deepEqual(problems, []);
});
