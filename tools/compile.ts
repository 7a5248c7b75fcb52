/**
 * `deno task compile [--out-dir DIR] [TARGET...]`: builds the single knocktool binary for each
 * target (default: this machine's) as `DIR/knocktool-<target>` (default `dist/`), with exactly the
 * permissions of tools/permissions.ts baked in and no prompts.
 *
 * `deno compile` needs Deno's runtime base binary (`denort`) for each target, which it downloads.
 * Where that is impossible, point `DENORT_BIN` at a local denort; it is passed through unchanged.
 * (With the full `deno` binary as `DENORT_BIN`, compiling still works offline, but the result only
 * starts Deno's REPL: useful to check what gets embedded, not to run.)
 *
 * @module
 */
import { permissionFlags } from "./permissions.ts";
import { readEnv } from "../src/util/env.ts";

/**
 * V8 flags baked into the binary. `--max-semi-space-size=1` (MiB) caps V8's young generation,
 * which a flood of first knocks otherwise grows to its default maximum and keeps: side by side
 * it took 11 MiB off the RSS after 20,000 spoofed first knocks and 3 MiB off the idle RSS, at no
 * measurable CPU cost per packet (docs/PERFORMANCE.md, "V8 flags"). `bench/harness.ts` starts
 * knocktool with the same flags.
 */
export const V8_FLAGS: readonly string[] = ["--max-semi-space-size=1"];

/** The targets knocktool is built and supported for: Linux, where libpcap and AF_PACKET are. */
export const TARGETS: readonly string[] = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
];

const MACOS_HINT =
  `To add macOS targets (x86_64-apple-darwin, aarch64-apple-darwin): make the FFI layer load
"libpcap.A.dylib" (it lives in the dyld cache, not on disk), call syslog(3) in a way that is correct
for Apple arm64's variadic convention, handle DLT_NULL on lo0, then add the targets to TARGETS in
tools/compile.ts. deno compile cross-compiles them from here when it can download their denort.`;

/**
 * The `deno compile` arguments for one target.
 *
 * @param target A Rust-style target triple from {@linkcode TARGETS}.
 * @param outDir The directory for the binary.
 * @returns Arguments to pass after `deno`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileArgs } from "./compile.ts";
 * const args = compileArgs("aarch64-unknown-linux-gnu", "dist");
 * assert(args.includes("--no-prompt"));
 * assert.equal(args.at(-1), "main.ts");
 * ```
 */
export function compileArgs(target: string, outDir: string): string[] {
  return [
    "compile",
    "--no-prompt",
    ...permissionFlags(),
    `--v8-flags=${V8_FLAGS.join(",")}`,
    "--target",
    target,
    "--output",
    `${outDir}/knocktool-${target}`,
    "main.ts",
  ];
}

/**
 * Reads the tool's arguments.
 *
 * @param args `[--out-dir DIR] [TARGET...]`; no target means the host's.
 * @param hostTarget The target to use when none is given.
 * @returns The output directory and targets, or an error message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseArgs } from "./compile.ts";
 * const r = parseArgs(["--out-dir", "/tmp/x"], "x86_64-unknown-linux-gnu");
 * assert("targets" in r);
 * assert.equal(r.targets[0], "x86_64-unknown-linux-gnu");
 * ```
 */
export function parseArgs(
  args: readonly string[],
  hostTarget: string,
): { outDir: string; targets: string[] } | { error: string } {
  let outDir = "dist";
  const targets: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--out-dir") {
      const dir = args[++i];
      if (dir === undefined) {
        return { error: `Cannot read "--out-dir": a directory must follow it` };
      }
      outDir = dir;
    } else if (TARGETS.includes(arg)) {
      targets.push(arg);
    } else {
      return {
        error: `Cannot compile for "${arg}": target must be one of ${
          TARGETS.map((t) => `"${t}"`).join(", ")
        }`,
      };
    }
  }
  if (targets.length === 0) {
    if (!TARGETS.includes(hostTarget)) {
      return { error: `Cannot compile for the host "${hostTarget}": name a supported target` };
    }
    targets.push(hostTarget);
  }
  return { outDir, targets };
}

async function run(args: readonly string[]): Promise<number> {
  const parsed = parseArgs(args, Deno.build.target);
  if ("error" in parsed) {
    console.error(parsed.error);
    return 2;
  }
  // Run from the repository root so that deno.json (imports, compilerOptions) applies.
  const root = new URL("..", import.meta.url);
  await Deno.mkdir(new URL(parsed.outDir, root), { recursive: true });
  const denort = readEnv("DENORT_BIN");
  if (denort !== undefined) console.error(`compile: using DENORT_BIN=${denort}`);
  for (const target of parsed.targets) {
    // The environment is inherited, so DENORT_BIN reaches deno compile unchanged.
    const { code } = await new Deno.Command(Deno.execPath(), {
      args: compileArgs(target, parsed.outDir),
      cwd: root,
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn().status;
    if (code !== 0) {
      console.error(`Cannot compile for "${target}": deno compile exited with status ${code}`);
      return 1;
    }
    console.error(`compile: wrote ${parsed.outDir}/knocktool-${target}`);
  }
  console.error(MACOS_HINT);
  return 0;
}

if (import.meta.main) Deno.exit(await run(Deno.args));
