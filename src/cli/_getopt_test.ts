import { deepStrictEqual } from "node:assert/strict";
import { getoptLong, type LongOption } from "./_getopt.ts";

const LONG: LongOption[] = [
  { name: "verbose", hasArg: false, val: "v" },
  { name: "delay", hasArg: true, val: "d" },
  { name: "version", hasArg: false, val: "V" },
];

Deno.test("getopt: permutation, clusters, attached and detached arguments, --", () => {
  const r = getoptLong(["h", "-vd5", "p", "--delay", "-7", "--", "-v"], "vd:V", LONG, "knock");
  deepStrictEqual(r.operands, ["h", "p", "-v"]);
  deepStrictEqual(r.events, [
    { kind: "option", opt: "v" },
    { kind: "option", opt: "d", arg: "5" },
    { kind: "option", opt: "d", arg: "-7" },
  ]);
  const posix = getoptLong(["h", "-v"], "vd:V", LONG, "knock", true);
  deepStrictEqual(posix.operands, ["h", "-v"]);
});

Deno.test("getopt: glibc's messages", () => {
  const msgs = (args: string[]) =>
    getoptLong(args, "vd:V", LONG, "knock").events.map((e) => e.kind === "error" ? e.message : "");
  deepStrictEqual(msgs(["-x"]), ["knock: invalid option -- 'x'\n"]);
  deepStrictEqual(msgs(["-d"]), ["knock: option requires an argument -- 'd'\n"]);
  deepStrictEqual(msgs(["--del"]), ["knock: option '--delay' requires an argument\n"]);
  deepStrictEqual(msgs(["--verb=1"]), ["knock: option '--verbose' doesn't allow an argument\n"]);
  deepStrictEqual(msgs(["--foo=1"]), ["knock: unrecognized option '--foo=1'\n"]);
  deepStrictEqual(msgs(["--v"]), [
    "knock: option '--v' is ambiguous; possibilities: '--verbose' '--version'\n",
  ]);
});

Deno.test("getopt: knockd's link mode prints what knockd 0.8 on Debian prints", async () => {
  const { parseKnockdArgs } = await import("./serve_knockd_argv.ts");
  const stderr = (args: string[]) => {
    const r = parseKnockdArgs(args, "knockd");
    return r.kind === "exit" ? r.stderr : "";
  };
  // Each text was read from `/usr/sbin/knockd ARGS` (knockd 0.8, glibc 2.36).
  deepStrictEqual(stderr(["--foo=bar"]), "knockd: unrecognized option '--foo=bar'\n");
  deepStrictEqual(stderr(["--de=x"]), "knockd: option '--debug' doesn't allow an argument\n");
  deepStrictEqual(
    stderr(["--d"]),
    "knockd: option '--d' is ambiguous; possibilities: '--debug' '--daemon'\n",
  );
  deepStrictEqual(
    stderr(["--l"]),
    "knockd: option '--l' is ambiguous; possibilities: '--lookup' '--logfile'\n",
  );
  deepStrictEqual(stderr(["-i"]), "knockd: option requires an argument -- 'i'\n");
  deepStrictEqual(stderr(["--interface"]), "knockd: option '--interface' requires an argument\n");
  deepStrictEqual(stderr(["-vx"]), "knockd: invalid option -- 'x'\n");
  const run = parseKnockdArgs(["x", "--inter=lo", "y", "-Dc", "k.conf"], "knockd");
  deepStrictEqual(
    run.kind === "run" ? [run.options.interface, run.options.debug, run.options.config] : [],
    ["lo", true, "k.conf"],
  );
});
