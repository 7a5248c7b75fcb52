/**
 * Differential test against Debian's knockd 0.8: every corpus config is given to
 * `/usr/sbin/knockd -D -c FILE -i kt-nosuch0`. knockd parses the config before it opens the
 * interface, so a config error prints knockd's error on stderr (then the usage text) and a good
 * config reaches `could not open kt-nosuch0: ...`. knocktool's loadConfig must agree on
 * accept/reject and on the exact error line. For accepted configs, the values knockd's debug
 * output (`-D`) reports while parsing (sequence, timeouts, commands, target, TCP flags,
 * UseSyslog, LogFile, PidFile) must equal what loadConfig produced.
 *
 * Needs /usr/sbin/knockd: without it the test fails under CI=true and is ignored otherwise.
 * Each knockd run is killed after 5 s and in `finally`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { loadConfig } from "../src/config/load.ts";
import type { Config } from "../src/config/model.ts";
import { formatSequence } from "../src/config/sequence.ts";

const KNOCKD = "/usr/sbin/knockd";
const CORPUS = new URL("./testdata/configs/", import.meta.url).pathname.replace(/\/$/, "");
const haveKnockd = (() => {
  try {
    return Deno.statSync(KNOCKD).isFile;
  } catch {
    return false;
  }
})();
const inCi = Deno.env.get("CI") === "true";

/** Copies a corpus file into `tmp` with `@DIR@` replaced; returns the new path. */
function materialise(name: string, tmp: string): string {
  const raw = Deno.readFileSync(`${CORPUS}/${name}`);
  const text = new TextDecoder("latin1").decode(raw).replaceAll("@DIR@", CORPUS);
  const path = `${tmp}/${name}`;
  Deno.writeFileSync(path, Uint8Array.from(text, (c) => c.charCodeAt(0)));
  return path;
}

interface KnockdRun {
  readonly stdout: string;
  readonly stderrLines: string[];
}

async function runKnockd(path: string): Promise<KnockdRun> {
  const child = new Deno.Command(KNOCKD, {
    args: ["-D", "-c", path, "-i", "kt-nosuch0"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  try {
    const out = await child.output();
    const dec = new TextDecoder();
    return {
      stdout: dec.decode(out.stdout),
      stderrLines: dec.decode(out.stderr).split("\n").filter((l) => l !== ""),
    };
  } finally {
    clearTimeout(timer);
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited: nothing to kill.
    }
  }
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
        const run = await runKnockd(path);
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
