/**
 * Debian's knockd 0.8, the reference the differential tests compare with: where it is, whether
 * it is there, and a run that only parses a config.
 *
 * @module
 */
import { decodeRawText } from "../src/util/bytes.ts";

/** Debian's knockd 0.8. */
export const KNOCKD = "/usr/sbin/knockd";

/** Whether {@link KNOCKD} is installed. */
export const haveKnockd: boolean = (() => {
  try {
    return Deno.statSync(KNOCKD).isFile;
  } catch {
    return false;
  }
})();

/** What {@link runKnockdParse} saw. */
export interface KnockdParse {
  /** Exit status (1 after a config error or the missing interface). */
  readonly code: number;
  /** stdout (the `-D` lines), bytes that are not UTF-8 kept. */
  readonly stdout: string;
  /** The non-empty stderr lines. */
  readonly stderrLines: string[];
}

/**
 * Gives a config to knockd with an interface that does not exist (`kt-nosuch0`): knockd parses
 * the config before it opens the interface, so a config error is its first stderr line, and a
 * good config reaches `could not open kt-nosuch0: …`. Bounded: killed after 5 s.
 *
 * @param path The config file.
 * @returns The status and output.
 */
export async function runKnockdParse(path: string): Promise<KnockdParse> {
  const child = new Deno.Command(KNOCKD, {
    args: ["-D", "-c", path, "-i", "kt-nosuch0"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  try {
    const out = await child.output();
    // Bytes that are not UTF-8 are kept (as loadConfig keeps them), so commands compare bytewise.
    return {
      code: out.code,
      stdout: decodeRawText(out.stdout),
      stderrLines: decodeRawText(out.stderr).split("\n").filter((l) => l !== ""),
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
