import assert from "node:assert/strict";
import { captureIo } from "../src/util/io.ts";
import { runCheck } from "../src/cli/check.ts";
import { main } from "../main.ts";
import { DLT } from "../ffi/dlt.ts";
import { compileFilter, withPcap } from "../ffi/libpcap.ts";

const CORPUS = new URL("./testdata/configs/", import.meta.url).pathname;
const LO = { v4: ["127.0.0.1"], v6: ["::1"] };

Deno.test("check: a valid config prints every door, the filters and the warnings", async () => {
  const io = captureIo();
  const seen: string[] = [];
  const status = await runCheck(
    { cmd: "check", config: `${CORPUS}ipv6-commands.conf`, iface: "lo" },
    io,
    { addresses: (i, v4only) => (seen.push(`${i} ${v4only}`), LO) },
  );
  assert.equal(status, 0);
  assert.equal(io.err, "");
  assert.deepEqual(seen, ["lo false"]);
  const out = io.out;
  assert(out.startsWith(`Config "${CORPUS}ipv6-commands.conf" is valid: 1 door\n`), out);
  assert(out.includes(`\nDoor "d" (line 1)\n  Sequence       1:tcp, 2:tcp\n`), out);
  assert(
    out.includes(
      "\n  Start command  echo %IP%\n  IPv6 start     nothing (Start_Command_6 is empty)\n",
    ),
    out,
  );
  assert(out.includes("\n  Stop command   echo stop\n  IPv6 stop      echo stop6 %IP%\n"), out);
  assert(out.includes(`\nInterface "lo" (command line)\n  addresses      127.0.0.1, ::1\n`), out);
  assert(
    out.includes(
      "\nFilter knockd 0.8 would install\n  ((dst host 127.0.0.1) and (((tcp dst port 1 or 2)))) or ((dst host ::1) and (((tcp dst port 1 or 2))))\n",
    ),
    out,
  );
  assert(
    /\nFilter knocktool serve installs \(link type EN10MB, \d+ BPF instructions\)\n {2}\(\(\(dst host 127\.0\.0\.1 or dst host ::1\) and \(tcp dst portrange 1-2\)\)/
      .test(out),
    out,
  );
  assert(
    out.endsWith(
      `\nWarnings (2)\n  line 2: Door "d": sequence 1:tcp,2:tcp is in ascending order, so a sequential port scan completes it\n` +
        `  line 1: Door "d": has an IPv6 stop command but no IPv6 start command, so it never runs\n`,
    ),
    out,
  );
});

Deno.test("check: IPv6 fallbacks are shown as such; interface from the config; no addresses", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "kt-check-" });
  try {
    const path = `${dir}/k.conf`;
    Deno.writeTextFileSync(
      path,
      "[options]\ninterface=kt-none0\n[a]\nsequence=9,8\ncommand=open %IP%\n",
    );
    const io = captureIo();
    const status = await runCheck({ cmd: "check", config: path }, io, {
      addresses: () => ({ v4: [], v6: [] }),
    });
    assert.equal(status, 0);
    assert(
      io.out.includes("\n  IPv6 start     same as start command (Start_Command_6 not set)\n"),
      io.out,
    );
    assert(io.out.includes("\n  IPv6 stop      none\n"), io.out);
    assert(
      io.out.includes(
        `\nInterface "kt-none0" (config)\n  has no addresses: knockd would install no filter and doors without a Target could never open\n`,
      ),
      io.out,
    );
    assert(
      io.out.includes("\nFilter knockd 0.8 would install\n  (none: every packet is captured)\n"),
      io.out,
    );
    assert(io.out.endsWith("\nNo warnings\n"), io.out);

    const missing = captureIo();
    assert.equal(
      await runCheck({ cmd: "check", config: path }, missing, { addresses: () => null }),
      0,
    );
    assert(
      missing.out.includes(
        `\n  interface "kt-none0" does not exist: the filter below has no addresses\n`,
      ),
      missing.out,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("check --json prints one object with doors, resolved commands, filters and warnings", async () => {
  const io = captureIo();
  const status = await runCheck(
    { cmd: "check", config: `${CORPUS}aliases.conf`, iface: "lo", ipv4Only: true, json: true },
    io,
    { addresses: () => ({ v4: ["127.0.0.1"], v6: [] }) },
  );
  assert.equal(status, 0);
  const j = JSON.parse(io.out);
  assert.equal(j.ok, true);
  assert.equal(j.doors.length, 1);
  assert.deepEqual(j.doors[0].sequence, ["1:tcp"]);
  assert.equal(j.doors[0].seqTimeout, 7);
  assert.equal(j.doors[0].effectiveStartCommand6, "b");
  assert.equal(j.doors[0].effectiveStopCommand6, null);
  assert.equal(j.filter.knockd, "((dst host 127.0.0.1) and (((tcp dst port 1))))");
  assert.deepEqual(j.interface, {
    name: "lo",
    source: "command line",
    addresses: { v4: ["127.0.0.1"], v6: [] },
  });
  assert.deepEqual(j.warnings, []);
});

Deno.test("check: an invalid config exits 1 with the message (and JSON with --json)", async () => {
  const io = captureIo();
  assert.equal(await runCheck({ cmd: "check", config: `${CORPUS}tcpflags-space.conf` }, io), 1);
  assert.equal(io.out, "");
  assert.equal(
    io.err,
    `Cannot parse "tcpflags" at line 3: unknown flag " ACK" (expected FIN, SYN, RST, PSH, ACK or URG, each optionally preceded by "!", separated by "," without spaces)\n`,
  );
  const js = captureIo();
  assert.equal(
    await runCheck({ cmd: "check", config: `${CORPUS}sequence-70000.conf`, json: true }, js),
    1,
  );
  assert.deepEqual(JSON.parse(js.out), {
    ok: false,
    config: `${CORPUS}sequence-70000.conf`,
    error: {
      message: `Cannot parse "sequence" at line 2: port "70000" must be at most 65535`,
      knockdText: "config: section d: port 70000 is invalid",
      line: 2,
      section: "d",
    },
  });
});

Deno.test("main check: through the real command line, with lo's addresses from libpcap", async () => {
  const io = captureIo();
  const status = await main(["check", "-c", `${CORPUS}udp-only.conf`, "-i", "lo", "--json"], io);
  assert.equal(status, 0, io.err);
  const j = JSON.parse(io.out);
  assert(j.interface.addresses.v4.includes("127.0.0.1"), io.out);
  assert(j.filter.knockd.startsWith("((dst host "), io.out);
  assert(j.filter.knockd.includes("and ((udp dst port 19132)))"), io.out);

  const bad = captureIo();
  assert.equal(await main(["check", "--config", `${CORPUS}no-such.conf`], bad), 1);
  assert.equal(
    bad.err,
    `Cannot read config file "${CORPUS}no-such.conf": No such file or directory\n`,
  );
});

Deno.test("check: the capture filter for the link type, compiled through libpcap, with its size", async () => {
  const io = captureIo();
  const status = await runCheck(
    {
      cmd: "check",
      config: `${CORPUS}ipv6-commands.conf`,
      iface: "lo",
      linkType: "raw",
      json: true,
    },
    io,
    { addresses: () => LO },
  );
  assert.equal(status, 0, io.err);
  const j = JSON.parse(io.out);
  assert.equal(j.filter.linkType, "RAW");
  assert.equal(j.filter.captureLevel, "ports");
  assert(!j.filter.capture.includes("vlan"), j.filter.capture);
  // The count is libpcap's: compiling the same text again gives the same number.
  const again = withPcap((p) => compileFilter(p, DLT.RAW, j.filter.capture));
  assert(again.ok);
  assert.equal(j.filter.instructions, again.instructions);
  assert.deepEqual(j.filter.problems, []);

  // -i any defaults to Linux cooked captures.
  const any = captureIo();
  assert.equal(
    await runCheck({ cmd: "check", config: `${CORPUS}ipv6-commands.conf`, iface: "any" }, any, {
      addresses: () => LO,
    }),
    0,
  );
  assert(any.out.includes("\nFilter knocktool serve installs (link type LINUX_SLL, "), any.out);

  const bad = captureIo();
  assert.equal(
    await runCheck({ cmd: "check", config: `${CORPUS}ipv6-commands.conf`, linkType: "FDDI" }, bad, {
      addresses: () => LO,
    }),
    1,
  );
  assert.equal(
    bad.err,
    `Cannot check for link type "FDDI": expected one of NULL, EN10MB, RAW, LOOP, LINUX_SLL, LINUX_SLL2\n`,
  );
});

Deno.test("check: a filter over the kernel's limit falls back to a coarser one, and says why", async () => {
  const io = captureIo();
  const status = await runCheck(
    { cmd: "check", config: `${CORPUS}ipv6-commands.conf`, iface: "lo" },
    io,
    {
      addresses: () => LO,
      compile: (_dlt, text) =>
        text.includes("port") ? { ok: true, instructions: 5000 } : { ok: true, instructions: 42 },
    },
  );
  assert.equal(status, 0, io.err);
  assert(
    io.out.includes(
      `\nFilter knocktool serve installs (link type EN10MB, coarser "hosts" filter, 42 BPF instructions)\n` +
        `  ((dst host 127.0.0.1 or dst host ::1)) or (vlan and (((dst host 127.0.0.1 or dst host ::1)) or (vlan and ((dst host 127.0.0.1 or dst host ::1)))))\n` +
        `  the "ports" filter has 5000 BPF instructions, more than the kernel's 4096\n`,
    ),
    io.out,
  );

  const none = captureIo();
  assert.equal(
    await runCheck({ cmd: "check", config: `${CORPUS}ipv6-commands.conf`, iface: "lo" }, none, {
      addresses: () => LO,
      compile: () => ({ ok: false, error: "syntax error" }),
    }),
    1,
  );
  assert.equal(
    none.err,
    `Cannot build a capture filter for link type EN10MB: the "ports" filter does not compile: syntax error; ` +
      `the "hosts" filter does not compile: syntax error; the "ip" filter does not compile: syntax error\n`,
  );
});

Deno.test("check: an empty Interface falls back to eth0, as knockd fills it in", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "kt-check-iface-" });
  try {
    Deno.writeTextFileSync(`${dir}/k.conf`, "[options]\ninterface =\n[a]\nsequence=2,1\n");
    const seen: string[] = [];
    const io = captureIo();
    const status = await runCheck({ cmd: "check", config: `${dir}/k.conf` }, io, {
      addresses: (i) => (seen.push(i), LO),
    });
    assert.equal(status, 0, io.err);
    assert.deepEqual(seen, ["eth0"]);
    assert(io.out.includes(`line 2: "Interface" is empty`), io.out);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
