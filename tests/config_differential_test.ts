/**
 * Differential test against Debian's knockd 0.8: every corpus config is given to
 * `/usr/sbin/knockd -D -c FILE -i kt-nosuch0`. knockd parses the config before it opens the
 * interface, so a config error prints knockd's error on stderr (then the usage text) and a good
 * config reaches `could not open kt-nosuch0: ...`. knocktool's loadConfig must agree on
 * accept/reject and on the exact error line. For accepted configs, the values knockd's debug
 * output (`-D`) reports while parsing (sequence, timeouts, commands, target, TCP flags,
 * UseSyslog, LogFile, PidFile) must equal what loadConfig produced.
 *
 * A second test starts knockd on `lo` inside a private network namespace (so no other traffic
 * reaches it and no door command can run) for every accepted corpus config, and compares the
 * sub-filters knockd prints (`adding pcap expression for door ...`) with knockdFilter.
 *
 * Needs /usr/sbin/knockd (and root for the namespace): without them the tests fail under CI=true
 * and are ignored otherwise. Each knockd run is bounded (5 s) and killed in `finally`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { loadConfig } from "../src/config/load.ts";
import type { Config } from "../src/config/model.ts";
import { formatSequence } from "../src/config/sequence.ts";
import { knockdFilter } from "../src/config/filter.ts";
import { canUseNetns, Netns, waitUntil } from "../testing/netns.ts";
import { haveKnockd, KNOCKD, runKnockdParse } from "../testing/knockd.ts";

const CORPUS = new URL("./testdata/configs/", import.meta.url).pathname.replace(/\/$/, "");
const inCi = Deno.env.get("CI") === "true";

/** Copies a corpus file into `tmp` with `@DIR@` replaced; returns the new path. */
function materialise(name: string, tmp: string): string {
  const raw = Deno.readFileSync(`${CORPUS}/${name}`);
  const text = new TextDecoder("latin1").decode(raw).replaceAll("@DIR@", CORPUS);
  const path = `${tmp}/${name}`;
  Deno.writeFileSync(path, Uint8Array.from(text, (c) => c.charCodeAt(0)));
  return path;
}

const DOOR_KEYS = [
  "sequence",
  "one time sequences file",
  "seq_timeout",
  "start_command",
  "start_command_6",
  "cmd_timeout",
  "stop_command",
  "stop_command_6",
  "target",
] as const;

/** What knockd's `-D` output says it parsed: the last value of every key, per door. */
interface Reported {
  useSyslog: boolean;
  logFile?: string;
  pidFile?: string;
  doors: { name: string; values: Record<string, string>; flags: Record<string, string> }[];
}

function readDebug(stdout: string): Reported {
  const rep: Reported = { useSyslog: false, doors: [] };
  const keyRe = new RegExp(`^config: (.*?): (${DOOR_KEYS.join("|")}): (.*)$`, "s");
  let inOptions = false;
  for (const line of stdout.split("\n")) {
    const door = rep.doors.at(-1);
    let m: RegExpExecArray | null;
    if ((m = /^config: new section: '(.*)'$/s.exec(line)) !== null) {
      inOptions = m[1] === "options";
      if (!inOptions) rep.doors.push({ name: m[1] ?? "", values: {}, flags: {} });
    } else if (line === "config: usesyslog") rep.useSyslog = true;
    else if (line.startsWith("config: log file: ")) rep.logFile = line.slice(18);
    else if (line.startsWith("config: pid file: ")) rep.pidFile = line.slice(18);
    else if (line.startsWith("config: tcp flag: ") && door !== undefined && !inOptions) {
      const f = line.slice(18);
      const name = f.replace(/^!/, "").toLowerCase();
      door.flags[name] = f.startsWith("!") ? "clear" : "set";
    } else if ((m = keyRe.exec(line)) !== null && door !== undefined) {
      door.values[m[2] ?? ""] = m[3] ?? "";
    }
  }
  return rep;
}

function describeOurs(config: Config): Reported {
  return {
    useSyslog: config.options.useSyslog,
    ...(config.options.logFile !== undefined ? { logFile: config.options.logFile } : {}),
    ...(config.options.pidFile !== undefined ? { pidFile: config.options.pidFile } : {}),
    doors: config.doors.map((d) => {
      const values: Record<string, string> = { sequence: formatSequence(d.sequence) };
      const put = (k: string, v: string | number | undefined) => {
        if (v !== undefined) values[k] = String(v);
      };
      put("one time sequences file", d.oneTimeSequencesFile);
      put("seq_timeout", d.seqTimeout);
      put("cmd_timeout", d.cmdTimeout);
      put("target", d.target);
      put("start_command", d.startCommand);
      put("start_command_6", d.startCommand6);
      put("stop_command", d.stopCommand);
      put("stop_command_6", d.stopCommand6);
      return { name: d.name, values, flags: { ...d.tcpFlags } };
    }),
  };
}

Deno.test({
  name: "config differential: knockd 0.8 and loadConfig agree on every corpus file",
  ignore: !haveKnockd && !inCi,
  async fn() {
    assert(haveKnockd, `${KNOCKD} is missing (install the knockd package)`);
    const names = [...Deno.readDirSync(CORPUS)]
      .filter((e) => e.isFile && e.name.endsWith(".conf"))
      .map((e) => e.name)
      .sort();
    assert(names.length >= 80);
    const tmp = Deno.makeTempDirSync({ prefix: "kt-diff-" });
    let accepted = 0;
    try {
      for (const name of names) {
        const path = materialise(name, tmp);
        const run = await runKnockdParse(path);
        const last = run.stderrLines.at(-1) ?? "";
        const knockdOk = last.startsWith("could not open kt-nosuch0");
        const ours = loadConfig(path);
        if (!knockdOk) {
          assert(!ours.ok, `${name}: knockd rejects it (${last}), loadConfig accepts it`);
          assert.equal(ours.error.knockdText, last, `${name}: error line`);
          continue;
        }
        assert(
          ours.ok,
          `${name}: knockd accepts it, loadConfig says ${ours.ok || ours.error.message}`,
        );
        accepted++;
        const theirs = readDebug(run.stdout);
        const mine = describeOurs(ours.config);
        // knockd reports seq_timeout/cmd_timeout only when written; otherwise its defaults hold.
        for (const d of theirs.doors) {
          d.values["seq_timeout"] ??= "25";
          d.values["cmd_timeout"] ??= "10";
        }
        assert.deepEqual(mine, theirs, `${name}: parsed values`);
      }
      assert(accepted >= 30, `only ${accepted} accepted corpus files`);
    } finally {
      Deno.removeSync(tmp, { recursive: true });
    }
  },
});

const haveNetns = await canUseNetns();

Deno.test({
  name: "config differential: knockdFilter equals the expressions knockd 0.8 builds on lo",
  ignore: !(haveKnockd && haveNetns) && !inCi,
  async fn() {
    assert(haveKnockd, `${KNOCKD} is missing (install the knockd package)`);
    assert(haveNetns, "network namespaces need root and iproute2");
    const names = [...Deno.readDirSync(CORPUS)]
      .filter((e) => e.isFile && e.name.endsWith(".conf"))
      .map((e) => e.name)
      .sort();
    const ns = await Netns.create("cfgdiff");
    let compared = 0;
    try {
      for (const name of names) {
        const path = materialise(name, ns.dir);
        const ours = loadConfig(path);
        if (!ours.ok) continue;
        // -v prints "listening on lo..." once the filter is installed; stdbuf makes knockd's
        // stdout line-buffered so that the lines reach the file while it runs.
        const p = ns.spawn(`knockd-${compared}`, [
          "stdbuf",
          "-oL",
          KNOCKD,
          "-D",
          "-v",
          "-c",
          path,
          "-i",
          "lo",
        ]);
        try {
          let exited = false;
          p.status.then(() => (exited = true));
          await waitUntil(() => exited || p.stdout().includes("listening on lo..."), {
            timeoutMs: 5000,
            intervalMs: 20,
            what: `knockd to start with ${name}`,
            context: () => p.describe(),
          });
        } finally {
          await p.stop("SIGKILL", 2000);
        }
        const subs = p.stdout().split("\n").flatMap((l) => {
          const m = /^adding pcap expression for door '.*?': (.*)$/s.exec(l);
          return m === null ? [] : [m[1] ?? ""];
        });
        // knockd prints every door's IPv4 sub-filter, then every door's IPv6 one, but joins them
        // door by door (v4, v6) into the string it compiles (gdb capture, docs/COMPATIBILITY.md
        // §3.2).
        const n = ours.config.doors.length;
        assert.equal(subs.length, 2 * n, `${name}: ${p.describe()}`);
        const joined = Array.from({ length: n }, (_, i) => `${subs[i]} or ${subs[n + i]}`);
        const local = { v4: ["127.0.0.1"], v6: ["::1"] };
        assert.equal(knockdFilter(ours.config.doors, local, false), joined.join(" or "), name);
        compared++;
      }
      assert(compared >= 30, `only ${compared} configs compared`);
    } finally {
      await ns.destroy();
    }
  },
});
