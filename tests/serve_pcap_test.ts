/**
 * `knocktool serve --pcap-file … --dry-run`: replays of the committed captures in
 * tests/testdata/pcap (made by make.ts there), asserting knockd's exact lines and the commands
 * that would run; and knockd's command line when started as `knockd`.
 */
import { deepStrictEqual, ok } from "node:assert/strict";
import { main } from "../main.ts";
import { captureIo } from "../src/util/io.ts";
import { KNOCKD_USAGE, parseKnockdArgs } from "../src/cli/serve_knockd_argv.ts";
import { VERSION } from "../src/util/version.ts";
import { knocks, onetime, T0 } from "./testdata/pcap/make.ts";
import { canUseNetns, ignoreUnlessCi, Netns, readText, waitUntil } from "../testing/netns.ts";
import { injectInNetns } from "../testing/inject.ts";

const PCAP_DIR = new URL("./testdata/pcap/", import.meta.url).pathname;

/** Strips the wall-clock stamp of knockd's log file lines. */
function unstamp(text: string): string {
  return text.replace(/^\[\d{4}-\d\d-\d\d \d\d:\d\d\] /gm, "[T] ");
}

Deno.test("fixtures: committed captures are what make.ts builds", () => {
  deepStrictEqual(Deno.readFileSync(`${PCAP_DIR}knocks.pcap`), knocks());
  deepStrictEqual(Deno.readFileSync(`${PCAP_DIR}onetime.pcap`), onetime());
});

Deno.test("replay: open with noise, timeout, IPv6 fallback commands, single-knock UDP", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "kt-serve-pcap-" });
  try {
    Deno.writeTextFileSync(
      `${dir}/knockd.conf`,
      `[options]
  LogFile = ${dir}/knockd.log
[open]
  sequence = 7000,8000,9000
  seq_timeout = 5
  tcpflags = syn
  start_command = /sbin/fw add %IP%
  start_command_6 = /sbin/fw6 add %IP%
  cmd_timeout = 10
  stop_command = /sbin/fw del %IP%
[udp]
  sequence = 5555:udp
  command = echo udp %IP%
`,
    );
    const io = captureIo();
    const pcap = `${PCAP_DIR}knocks.pcap`;
    const status = await main([
      "serve",
      "--pcap-file",
      pcap,
      "--dry-run",
      "-v",
      "-c",
      `${dir}/knockd.conf`,
      "--address",
      "192.0.2.1",
      "--address",
      "2001:db8::1",
    ], io);
    deepStrictEqual(io.err, "");
    deepStrictEqual(status, 0);
    deepStrictEqual(
      io.out,
      `listening on ${pcap}...
198.51.100.7: open: Stage 1
198.51.100.7: open: Stage 2
198.51.100.7: open: Stage 3
198.51.100.7: open: OPEN SESAME
open: running command: /sbin/fw add 198.51.100.7
would run: /sbin/fw add 198.51.100.7
198.51.100.8: open: Stage 1
198.51.100.8: open: sequence timeout (stage 1)
2001:db8::77: open: Stage 1
2001:db8::77: open: Stage 2
2001:db8::77: open: Stage 3
2001:db8::77: open: OPEN SESAME
open: running command: /sbin/fw6 add 2001:db8::77
would run: /sbin/fw6 add 2001:db8::77
198.51.100.7: udp: Stage 1
198.51.100.7: udp: OPEN SESAME
udp: running command: echo udp 198.51.100.7
would run: echo udp 198.51.100.7
waiting for child processes...
198.51.100.7: open: command timeout
open: running command: /sbin/fw del 198.51.100.7
would run: /sbin/fw del 198.51.100.7
2001:db8::77: open: command timeout
open: running command: /sbin/fw del 2001:db8::77
would run: /sbin/fw del 2001:db8::77
closing...
`,
    );
    deepStrictEqual(
      unstamp(Deno.readTextFileSync(`${dir}/knockd.log`)),
      `[T] starting up, listening on ${pcap}
[T] 198.51.100.7: open: Stage 1
[T] 198.51.100.7: open: Stage 2
[T] 198.51.100.7: open: Stage 3
[T] 198.51.100.7: open: OPEN SESAME
[T] open: running command: /sbin/fw add 198.51.100.7

[T] 198.51.100.8: open: Stage 1
[T] 198.51.100.8: open: sequence timeout (stage 1)

[T] 2001:db8::77: open: Stage 1
[T] 2001:db8::77: open: Stage 2
[T] 2001:db8::77: open: Stage 3
[T] 2001:db8::77: open: OPEN SESAME
[T] open: running command: /sbin/fw6 add 2001:db8::77

[T] 198.51.100.7: udp: Stage 1
[T] 198.51.100.7: udp: OPEN SESAME
[T] udp: running command: echo udp 198.51.100.7

[T] 198.51.100.7: open: command timeout
[T] open: running command: /sbin/fw del 198.51.100.7

[T] 2001:db8::77: open: command timeout
[T] open: running command: /sbin/fw del 2001:db8::77

[T] shutting down
`,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("replay: -4 ignores IPv6 knocks; json log format", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "kt-serve-pcap-" });
  try {
    Deno.writeTextFileSync(
      `${dir}/knockd.conf`,
      "[open]\n sequence = 7000,8000,9000\n tcpflags = syn\n command = fw %IP%\n",
    );
    const io = captureIo();
    const status = await main([
      "serve",
      "--pcap-file",
      `${PCAP_DIR}knocks.pcap`,
      "--dry-run",
      "-4",
      "--log-format",
      "json",
      "-c",
      `${dir}/knockd.conf`,
      "--address",
      "192.0.2.1",
      "--address",
      "2001:db8::1",
    ], io);
    deepStrictEqual([status, io.err], [0, ""]);
    const lines = io.out.trimEnd().split("\n");
    const json = lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
    deepStrictEqual(
      json.map((j) => [j.event, j.src, j.stage, j.message]),
      [
        ["start", null, null, `starting up, listening on ${PCAP_DIR}knocks.pcap`],
        ["stage", "198.51.100.7", 1, "198.51.100.7: open: Stage 1"],
        ["stage", "198.51.100.7", 2, "198.51.100.7: open: Stage 2"],
        ["stage", "198.51.100.7", 3, "198.51.100.7: open: Stage 3"],
        ["open", "198.51.100.7", null, "198.51.100.7: open: OPEN SESAME"],
        ["command", "198.51.100.7", null, "open: running command: fw 198.51.100.7"],
        ["would-run", null, null, "would run: fw 198.51.100.7"],
        ["stage", "198.51.100.8", 1, "198.51.100.8: open: Stage 1"],
        ["timeout", "198.51.100.8", 1, "198.51.100.8: open: sequence timeout (stage 1)"],
        ["stop", null, null, "shutting down"],
      ],
    );
    deepStrictEqual(lines.filter((l) => !l.startsWith("{")), []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("replay: one-time sequences are marked used, then the door is disabled", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "kt-serve-pcap-" });
  try {
    Deno.writeTextFileSync(`${dir}/ot.txt`, " 1001,1002\n 2001,2002\n");
    Deno.writeTextFileSync(
      `${dir}/knockd.conf`,
      `[ot]
  one_time_sequences = ${dir}/ot.txt
  seq_timeout = 5
  command = open %IP%
[udp]
  sequence = 5555:udp
  command = echo udp %IP%
`,
    );
    const io = captureIo();
    const status = await main([
      "serve",
      "--pcap-file",
      `${PCAP_DIR}onetime.pcap`,
      "--dry-run",
      "-v",
      "-c",
      `${dir}/knockd.conf`,
      "--address",
      "192.0.2.1",
    ], io);
    deepStrictEqual(status, 0);
    deepStrictEqual(
      io.err,
      "no more sequences left in the one time sequences file for door ot --> disabling the door\n",
    );
    deepStrictEqual(
      io.out,
      `listening on ${PCAP_DIR}onetime.pcap...
198.51.100.9: ot: Stage 1
198.51.100.9: ot: Stage 2
198.51.100.9: ot: OPEN SESAME
ot: running command: open 198.51.100.9
would run: open 198.51.100.9
198.51.100.9: ot: Stage 1
198.51.100.9: ot: Stage 2
198.51.100.9: ot: OPEN SESAME
ot: running command: open 198.51.100.9
would run: open 198.51.100.9
198.51.100.9: udp: Stage 1
198.51.100.9: udp: OPEN SESAME
udp: running command: echo udp 198.51.100.9
would run: echo udp 198.51.100.9
waiting for child processes...
closing...
`,
    );
    deepStrictEqual(Deno.readTextFileSync(`${dir}/ot.txt`), "#1001,1002\n#2001,2002\n");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("replay without --address warns that only Target doors can match", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "kt-serve-pcap-" });
  try {
    Deno.writeTextFileSync(`${dir}/k.conf`, "[open]\n sequence = 7000,8000,9000\n command = fw\n");
    const io = captureIo();
    const pcap = `${PCAP_DIR}knocks.pcap`;
    const status = await main(
      ["serve", "--pcap-file", pcap, "--dry-run", "-c", `${dir}/k.conf`],
      io,
    );
    deepStrictEqual([status, io.out], [0, ""]);
    deepStrictEqual(
      io.err,
      `Replay "${pcap}" without local addresses: doors without a Target cannot match; give --address\n`,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("replay with -D: local IPs, packet lines with the real month, decode errors", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "kt-serve-pcap-" });
  try {
    Deno.writeTextFileSync(`${dir}/k.conf`, "[open]\n sequence = 7000,8000,9000\n");
    const io = captureIo();
    const status = await main([
      "serve",
      "--pcap-file",
      `${PCAP_DIR}knocks.pcap`,
      "-D",
      "-c",
      `${dir}/k.conf`,
      "--address",
      "192.0.2.1",
      "--address",
      "2001:db8::1",
    ], io);
    deepStrictEqual([status, io.err], [0, ""]);
    const lines = io.out.split("\n");
    const d = new Date(T0 * 1000);
    const p2 = (n: number) => String(n).padStart(2, "0");
    const day = `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}`;
    const hm = `${p2(d.getHours())}:${p2(d.getMinutes())}`;
    deepStrictEqual(lines.slice(0, 3), [
      "local IP: 2001:db8::1",
      "local IP: 192.0.2.1",
      `${day} ${hm}:00: tcp: 198.51.100.7:40000 -> 192.0.2.1:7000 54 bytes`,
    ]);
    ok(
      lines.some((l) => l.startsWith("cannot decode frame: link unsupported at offset 14: ")),
      io.out,
    );
    ok(lines.includes("frames: 12, decode errors: 1, internal errors: 0"), io.out);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("serve: a config error exits 1 with the std-voice message", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "kt-serve-pcap-" });
  try {
    Deno.writeTextFileSync(`${dir}/bad.conf`, "[a]\nbogus = 1\n");
    const io = captureIo();
    const status = await main(["serve", "--pcap-file", "/dev/null", "-c", `${dir}/bad.conf`], io);
    deepStrictEqual(status, 1);
    deepStrictEqual(io.out, "");
    ok(io.err.startsWith("knocktool serve: "), io.err);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("knockd mode: a config error prints knockd's line on stderr, usage on stdout, exit 1", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "kt-serve-pcap-" });
  try {
    Deno.writeTextFileSync(`${dir}/bad.conf`, "[a]\nbogus = 1\n");
    const io = captureIo();
    deepStrictEqual(await main(["-c", `${dir}/bad.conf`], io, "/usr/sbin/knockd"), 1);
    deepStrictEqual(io.err, "config: line 2: syntax error\n");
    deepStrictEqual(io.out, KNOCKD_USAGE);
    const io2 = captureIo();
    deepStrictEqual(await main(["-c", `${dir}/missing.conf`], io2, "knockd"), 1);
    deepStrictEqual(io2.err, `${dir}/missing.conf: No such file or directory\n`);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("knockd mode: -h, -V, unknown options and missing arguments", async () => {
  const cases: [string[], number, string, string][] = [
    [["-h"], 0, KNOCKD_USAGE, ""],
    [["--help"], 0, KNOCKD_USAGE, ""],
    [["-V"], 0, `knockd 0.8\nknocktool ${VERSION}, compatible with knockd 0.8\n`, ""],
    [["--vers"], 0, `knockd 0.8\nknocktool ${VERSION}, compatible with knockd 0.8\n`, ""],
    [["-Z"], 0, KNOCKD_USAGE, "knockd: invalid option -- 'Z'\n"],
    [["-vZ"], 0, KNOCKD_USAGE, "knockd: invalid option -- 'Z'\n"],
    [["-i"], 0, KNOCKD_USAGE, "knockd: option requires an argument -- 'i'\n"],
    [["--bogus"], 0, KNOCKD_USAGE, "knockd: unrecognized option '--bogus'\n"],
    // As /usr/sbin/knockd 0.8 prints it (glibc quotes the whole argument).
    [["--bogus=1"], 0, KNOCKD_USAGE, "knockd: unrecognized option '--bogus=1'\n"],
    [["--config"], 0, KNOCKD_USAGE, "knockd: option '--config' requires an argument\n"],
    [["--daemon=yes"], 0, KNOCKD_USAGE, "knockd: option '--daemon' doesn't allow an argument\n"],
    [
      ["--d"],
      0,
      KNOCKD_USAGE,
      // knockd's option table lists debug before daemon.
      "knockd: option '--d' is ambiguous; possibilities: '--debug' '--daemon'\n",
    ],
  ];
  for (const [args, status, out, err] of cases) {
    const io = captureIo();
    deepStrictEqual(await main(args, io, "knockd"), status, args.join(" "));
    deepStrictEqual([io.out, io.err], [out, err], args.join(" "));
  }
});

Deno.test("argv0 dispatch: knock and knockd links, knocktool otherwise", async () => {
  const knock = captureIo();
  deepStrictEqual(await main(["-V"], knock, "/usr/bin/knock"), 0);
  ok(knock.out.startsWith("knock 0.8\n"), knock.out);
  const knockd = captureIo();
  deepStrictEqual(await main(["-V"], knockd, "/usr/local/sbin/knockd"), 0);
  deepStrictEqual(knockd.out, `knockd 0.8\nknocktool ${VERSION}, compatible with knockd 0.8\n`);
  const other = captureIo();
  deepStrictEqual(await main(["--version"], other, "/usr/bin/knocktool"), 0);
  deepStrictEqual(other.out, `${VERSION}\n`);
});

Deno.test("knockd mode: getopt permutation, clusters, attached arguments, long forms", () => {
  const r = parseKnockdArgs(
    ["ignored", "-vDi", "lo", "-c/x.conf", "--pidfile=/p", "--logfile", "/l", "-4l", "--", "-Z"],
    "knockd",
  );
  ok(r.kind === "run");
  deepStrictEqual(r.options, {
    cmd: "serve",
    interface: "lo",
    config: "/x.conf",
    daemon: false,
    debug: true,
    verbose: true,
    lookup: true,
    pidFile: "/p",
    logFile: "/l",
    ipv4Only: true,
    pcapFile: undefined,
    dryRun: false,
    logFormat: "text",
    addresses: [],
    knockd: true,
  });
  const long = parseKnockdArgs(["--inter", "a-very-long-interface-name-over-31"], "knockd");
  ok(long.kind === "run");
  deepStrictEqual(long.options.interface, "a-very-long-interface-name-over");
});

Deno.test("-d: the parent returns 0 once the child serves; relative paths; commands run in /", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "kt-serve-daemon-" });
  try {
    Deno.copyFileSync(`${PCAP_DIR}onetime.pcap`, `${dir}/t.pcap`);
    Deno.writeTextFileSync(`${dir}/ot.txt`, " 1001,1002\n 2001,2002\n");
    Deno.writeTextFileSync(
      `${dir}/k.conf`,
      `[options]
  LogFile = k.log
  PidFile = k.pid
[ot]
  one_time_sequences = ot.txt
  command = pwd >> ${dir}/cwd
`,
    );
    const main = new URL("../main.ts", import.meta.url).pathname;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", main, "serve", "-d", "-c", "k.conf", "--pcap-file", "t.pcap"].concat([
        "--address",
        "192.0.2.1",
      ]),
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    deepStrictEqual(
      [out.code, new TextDecoder().decode(out.stdout), new TextDecoder().decode(out.stderr)],
      [0, "", ""],
    );
    // The child replays the file, then shuts down: wait (bounded) for its last line.
    const deadline = Date.now() + 20_000;
    let log = "";
    while (Date.now() < deadline) {
      try {
        log = Deno.readTextFileSync(`${dir}/k.log`);
      } catch { /* not yet */ }
      if (log.includes("shutting down")) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    deepStrictEqual(
      unstamp(log),
      `[T] starting up, listening on ${dir}/t.pcap
[T] 198.51.100.9: ot: Stage 1
[T] 198.51.100.9: ot: Stage 2
[T] 198.51.100.9: ot: OPEN SESAME
[T] ot: running command: pwd >> ${dir}/cwd

[T] 198.51.100.9: ot: Stage 1
[T] 198.51.100.9: ot: Stage 2
[T] 198.51.100.9: ot: OPEN SESAME
[T] ot: running command: pwd >> ${dir}/cwd

[T] no more sequences left in the one time sequences file for door ot --> disabling the door

[T] shutting down
`,
    );
    deepStrictEqual(Deno.readTextFileSync(`${dir}/cwd`), "/\n/\n");
    deepStrictEqual(Deno.readTextFileSync(`${dir}/ot.txt`), "#1001,1002\n#2001,2002\n");
    let pidLeft = true;
    try {
      Deno.statSync(`${dir}/k.pid`);
    } catch {
      pidLeft = false;
    }
    deepStrictEqual(pidLeft, false);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

const netnsAvailable = await canUseNetns();

Deno.test({
  name: "-d live on lo: pidfile, SIGHUP with a relative -c, command stdio and fds, a second TERM",
  ignore: ignoreUnlessCi(netnsAvailable),
  async fn() {
    if (!netnsAvailable) throw new Error("Cannot run the -d test: needs root and ip netns");
    const ns = await Netns.create("serve-d");
    const dir = `${ns.dir}/d`;
    let daemonPid: number | undefined;
    try {
      Deno.mkdirSync(dir);
      const options = "[options]\n  LogFile = k.log\n  PidFile = k.pid\n  Interface = lo\n";
      // Before SIGHUP: a door on 7000 only. Port 7100 opens only if the reload re-read k.conf.
      Deno.writeTextFileSync(
        `${dir}/k.conf`,
        `${options}[a]\n  sequence = 7000\n  command = true\n`,
      );
      // The probe: fds listed by a builtin glob (0, 1, 2 and the glob's own directory fd: 4
      // entries unless something was inherited), where 0-2 point, then a write to stderr.
      const probe = `set -- /proc/$$/fd/*; n=$#; ` +
        `x=$(readlink /proc/$$/fd/0 /proc/$$/fd/1 /proc/$$/fd/2); echo $n $x > ${dir}/fds; ` +
        `echo to-stderr >&2; echo rc=$? > ${dir}/after`;
      const reloaded = `${options}[a]\n  sequence = 7100\n  cmd_timeout = 3600\n` +
        `  start_command = ${probe}\n  stop_command = echo a-stopped > ${dir}/a-stopped\n` +
        `[b]\n  sequence = 7200\n  start_command = echo $$ > ${dir}/hung; exec sleep 100\n` +
        `  stop_command = echo b-stopped > ${dir}/b-stopped\n`;
      const main = new URL("../main.ts", import.meta.url).pathname;
      const config = new URL("../deno.json", import.meta.url).pathname;
      // fd 7 is inherited by knocktool (as from a careless parent): commands must not get it.
      const parent = ns.spawn("kt", [
        "sh",
        "-c",
        'exec 7</dev/null; exec "$@"',
        "sh",
        Deno.execPath(),
        "run",
        "-A",
        "--config",
        config,
        main,
        "serve",
        "-d",
        "-c",
        "k.conf",
      ], { cwd: dir });
      const st = await parent.status;
      deepStrictEqual([st.code, parent.stdout(), parent.stderr()], [0, "", ""]);

      // The pidfile holds the pid of the running daemon (the parent has exited).
      const pidText = readText(`${dir}/k.pid`);
      ok(/^\d+\n$/.test(pidText), `pidfile "${pidText}"`);
      daemonPid = Number(pidText);
      ok(daemonPid !== parent.pid, "the pidfile names the daemon, not the parent");
      const cmdline = readText(`/proc/${daemonPid}/cmdline`).split("\0");
      ok(cmdline.includes("serve") && cmdline.includes("-d"), `cmdline ${cmdline.join(" ")}`);

      // SIGHUP: the relative -c (made absolute before detaching) is re-read.
      Deno.writeTextFileSync(`${dir}/k.conf`, reloaded);
      Deno.kill(daemonPid, "SIGHUP");
      await waitUntil(() => readText(`${dir}/k.log`).includes("re-reading config file"), {
        what: "the reload line",
        timeoutMs: 10_000,
      });
      // Knock until the probe has run (the capture opens right after the readiness report).
      for (let i = 0; i < 10 && readText(`${dir}/after`) === ""; i++) {
        await injectInNetns(ns.name, {
          iface: "lo",
          frames: [{ src: "127.0.0.71", dst: "127.0.0.1", proto: "tcp", port: 7100 }],
        });
        await waitUntil(() => readText(`${dir}/after`) !== "", { timeoutMs: 1500 }).catch(() => {});
      }
      // The command wrote to stderr (/dev/null under -d, as knockd) and went on.
      deepStrictEqual(readText(`${dir}/after`), "rc=0\n");
      deepStrictEqual(readText(`${dir}/fds`), "4 /dev/null /dev/null /dev/null\n");
      ok(!readText(`${dir}/k.log`).includes("Cannot reload"), readText(`${dir}/k.log`));

      // A command that hangs: a first TERM starts the pending stops and waits; a second TERM
      // ends the wait at once.
      await injectInNetns(ns.name, {
        iface: "lo",
        frames: [{ src: "127.0.0.72", dst: "127.0.0.1", proto: "tcp", port: 7200 }],
      });
      await waitUntil(() => readText(`${dir}/hung`) !== "", { what: "the hung command" });
      Deno.kill(daemonPid, "SIGTERM");
      await waitUntil(() => readText(`${dir}/a-stopped`) === "a-stopped\n", {
        what: "the pending stop command at shutdown",
      });
      Deno.kill(daemonPid, "SIGTERM");
      const pid = daemonPid;
      await waitUntil(() => readText(`/proc/${pid}/cmdline`) === "", {
        what: "the daemon to exit after the second SIGTERM",
        timeoutMs: 10_000,
      });
      daemonPid = undefined;
      const log = readText(`${dir}/k.log`);
      ok(
        /Stop waiting for the command of door "b" for 127\.0\.0\.72: still running after \d+ ms: echo \$\$ > \S+\/hung; exec sleep 100\n/
          .test(log),
        log,
      );
      ok(log.endsWith("shutting down\n"), log);
      deepStrictEqual(readText(`${dir}/b-stopped`), ""); // its start never finished
      deepStrictEqual(readText(`${dir}/k.pid`), ""); // removed
    } finally {
      if (daemonPid !== undefined) {
        try {
          Deno.kill(daemonPid, "SIGKILL");
        } catch { /* gone */ }
      }
      const hung = Number(readText(`${dir}/hung`).trim());
      if (hung > 0) {
        try {
          Deno.kill(hung, "SIGKILL");
        } catch { /* gone */ }
      }
      await ns.destroy();
    }
  },
});
