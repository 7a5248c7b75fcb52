/**
 * `deno task completions`: regenerates the shell completion scripts in completions/ from main.ts's
 * parser (through the program's own `completion SHELL` command, run in-process). The scripts are
 * checked in; tests/completions_test.ts fails when they are stale.
 *
 * @module
 */
import { main } from "../main.ts";
import { captureIo } from "../src/util/io.ts";

/** Each shell's script, by its path relative to the repository root. */
export const COMPLETION_FILES: Readonly<Record<"bash" | "zsh" | "fish", string>> = {
  bash: "completions/knocktool.bash",
  zsh: "completions/_knocktool",
  fish: "completions/knocktool.fish",
};

/**
 * Generates one shell's completion script.
 *
 * @param shell The shell.
 * @returns The script's text.
 * @throws {Error} When `knocktool completion SHELL` fails.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateCompletion } from "./completions.ts";
 * const text = await generateCompletion("fish");
 * assert(text.includes("knocktool"), "no script");
 * ```
 */
export async function generateCompletion(shell: "bash" | "zsh" | "fish"): Promise<string> {
  const io = captureIo();
  const status = await main(["completion", shell], io);
  if (status !== 0 || io.out === "") {
    throw new Error(
      `Cannot generate the ${shell} completion: "knocktool completion ${shell}" exited with status ${status}: ${io.err.trim()}`,
    );
  }
  return io.out;
}

async function run(): Promise<number> {
  const root = new URL("..", import.meta.url);
  await Deno.mkdir(new URL("completions", root), { recursive: true });
  for (const [shell, path] of Object.entries(COMPLETION_FILES)) {
    const text = await generateCompletion(shell as keyof typeof COMPLETION_FILES);
    await Deno.writeTextFile(new URL(path, root), text);
    console.error(`completions: wrote ${path}`);
  }
  return 0;
}

if (import.meta.main) Deno.exit(await run());
