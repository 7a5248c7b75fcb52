import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { atoi, getoptLong, type LongOption } from "./getopt.ts";

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

Deno.test("atoi: C semantics", () => {
  strictEqual(atoi("150"), 150);
  strictEqual(atoi("  -3x"), -3);
  strictEqual(atoi("+7"), 7);
  strictEqual(atoi("abc"), 0);
  strictEqual(atoi(""), 0);
  strictEqual(atoi("4294967296"), 0, "low 32 bits of 2^32");
  strictEqual(atoi("2147483648"), -2147483648);
});
