/**
 * Shipping checks: what `deno task compile` bakes into the binary (entrypoint, permissions, npm
 * packages), and that every subcommand works under exactly those permissions.
 *
 * A compiled binary cannot be run here (Deno's `denort` base cannot be downloaded, see
 * deno-libpcap-notes §1), so the binary is built with the full `deno` as `DENORT_BIN` and its
 * embedded metadata is checked offline; the permissions are exercised with `deno run` and the
 * same flags.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Permission, permissionFlags, PERMISSIONS } from "../tools/permissions.ts";

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
    const cases: { args: string[]; ok: number[] }[] = [
      { args: ["check", "-c", conf], ok: [0] },
      { args: ["knock", "127.0.0.1", String(port)], ok: [0] },
      { args: ["serve", "-c", conf, "--pcap-file", pcap, "--dry-run"], ok: [0] },
      { args: ["interfaces"], ok: [0] },
    ];
    for (const c of cases) {
      await t.step(c.args.join(" "), async () => {
        const r = await run(
          Deno.execPath(),
          ["run", "--no-prompt", ...permissionFlags(), "main.ts", ...c.args],
          { env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" }, timeoutMs: 60_000 },
        );
        assert.doesNotMatch(r.err, PERMISSION_ERROR);
        assert(c.ok.includes(r.code), `exit status ${r.code}: ${r.err}`);
      });
    }
  } finally {
    listener.close();
    await Deno.remove(dir, { recursive: true });
  }
});
