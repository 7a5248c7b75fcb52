/**
 * GNU `getopt_long` as glibc 2.36 implements it, shared by the `knock` link mode and the `knockd`
 * link mode of `serve`, which must accept exactly the command lines knock 0.8 and knockd 0.8
 * accept and print glibc's exact diagnostics: argument
 * permutation (options after operands), `--` ending options, clustered short options, attached
 * and detached option arguments, `--name=value`, unique-prefix abbreviation of long names, and
 * `POSIXLY_CORRECT` stopping at the first operand.
 *
 * @module
 */

/** One long option, as in `struct option`. */
export interface LongOption {
  /** The name without the leading `--`. */
  readonly name: string;
  /** Whether it takes an argument (`required_argument`) or none (`no_argument`). */
  readonly hasArg: boolean;
  /** The short option character it reports as. */
  readonly val: string;
}

/** One step of option processing, in command-line order. */
export type GetoptEvent =
  | { readonly kind: "option"; readonly opt: string; readonly arg?: string }
  /** An unknown option or a missing argument: getopt's message (with newline); getopt returns '?'. */
  | { readonly kind: "error"; readonly message: string };

/** The result of scanning a whole command line. */
export interface GetoptResult {
  /** Options and errors, in the order getopt returns them. */
  readonly events: readonly GetoptEvent[];
  /** The operands, in order (what `argv[optind..]` holds after the loop). */
  readonly operands: readonly string[];
}

/**
 * Scans a command line as glibc `getopt_long` would. Only `c` and `c:` forms are supported in
 * `shortOpts` (no `::`, no `W;`, no leading `+`/`-`).
 *
 * @param args The arguments after the program name.
 * @param shortOpts The short option string, e.g. `"vud:hV46"`.
 * @param longOpts The long options, in table order (ambiguity messages list them in this order).
 * @param argv0 The program name getopt prefixes its messages with.
 * @param posixlyCorrect Stop at the first operand, as with `POSIXLY_CORRECT` set.
 * @returns The events and operands.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getoptLong } from "./_getopt.ts";
 * const r = getoptLong(["host", "-vd5", "1"], "vd:", [], "knock");
 * assert.equal(r.operands.join(), "host,1");
 * assert.equal(r.events.length, 2);
 * ```
 */
export function getoptLong(
  args: readonly string[],
  shortOpts: string,
  longOpts: readonly LongOption[],
  argv0: string,
  posixlyCorrect = false,
): GetoptResult {
  const events: GetoptEvent[] = [];
  const operands: string[] = [];
  const shortArg = new Map<string, boolean>();
  for (let i = 0; i < shortOpts.length; i++) {
    const c = shortOpts[i]!;
    const takes = shortOpts[i + 1] === ":";
    shortArg.set(c, takes);
    if (takes) i++;
  }
  let i = 0;
  while (i < args.length) {
    const a = args[i]!;
    i++;
    if (a === "--") {
      operands.push(...args.slice(i));
      break;
    }
    if (a.length < 2 || a[0] !== "-") {
      operands.push(a);
      if (posixlyCorrect) {
        operands.push(...args.slice(i));
        break;
      }
      continue;
    }
    if (a.startsWith("--")) {
      const body = a.slice(2);
      const eq = body.indexOf("=");
      const name = eq < 0 ? body : body.slice(0, eq);
      let found = longOpts.find((o) => o.name === name);
      if (found === undefined) {
        const matches = longOpts.filter((o) => o.name.startsWith(name));
        const first = matches[0];
        if (first === undefined) {
          events.push({ kind: "error", message: `${argv0}: unrecognized option '${a}'\n` });
          continue;
        }
        const same = matches.every((o) => o.hasArg === first.hasArg && o.val === first.val);
        if (!same) {
          const list = matches.map((o) => ` '--${o.name}'`).join("");
          events.push({
            kind: "error",
            message: `${argv0}: option '${a}' is ambiguous; possibilities:${list}\n`,
          });
          continue;
        }
        found = first;
      }
      if (!found.hasArg) {
        if (eq >= 0) {
          events.push({
            kind: "error",
            message: `${argv0}: option '--${found.name}' doesn't allow an argument\n`,
          });
        } else {
          events.push({ kind: "option", opt: found.val });
        }
        continue;
      }
      if (eq >= 0) {
        events.push({ kind: "option", opt: found.val, arg: body.slice(eq + 1) });
      } else if (i < args.length) {
        events.push({ kind: "option", opt: found.val, arg: args[i]! });
        i++;
      } else {
        events.push({
          kind: "error",
          message: `${argv0}: option '--${found.name}' requires an argument\n`,
        });
      }
      continue;
    }
    // A cluster of short options: "-vud5" is -v -u -d 5.
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!;
      const takes = c === ":" ? undefined : shortArg.get(c);
      if (takes === undefined) {
        events.push({ kind: "error", message: `${argv0}: invalid option -- '${c}'\n` });
        continue;
      }
      if (!takes) {
        events.push({ kind: "option", opt: c });
        continue;
      }
      if (j + 1 < a.length) {
        events.push({ kind: "option", opt: c, arg: a.slice(j + 1) });
      } else if (i < args.length) {
        events.push({ kind: "option", opt: c, arg: args[i]! });
        i++;
      } else {
        events.push({
          kind: "error",
          message: `${argv0}: option requires an argument -- '${c}'\n`,
        });
      }
      break;
    }
  }
  return { events, operands };
}
