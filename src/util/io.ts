/**
 * The program's view of its standard streams, passed into every command so that tests can run
 * commands in-process and assert on what they printed.
 *
 * @module
 */

/** Where a command writes. Each call writes the text as given (add the newline yourself). */
export interface Io {
  /** Writes text to standard output. */
  stdout(text: string): void;
  /** Writes text to standard error. */
  stderr(text: string): void;
}

const encoder = new TextEncoder();

/**
 * The Io of the real process: synchronous writes to fds 1 and 2, so that output order is kept
 * even when the process exits right after writing.
 *
 * @example
 * ```ts
 * import { processIo } from "./io.ts";
 * processIo.stdout("");
 * ```
 */
export const processIo: Io = {
  stdout(text: string): void {
    writeAll(Deno.stdout, encoder.encode(text));
  },
  stderr(text: string): void {
    writeAll(Deno.stderr, encoder.encode(text));
  },
};

function writeAll(stream: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += stream.writeSync(bytes.subarray(off));
}

/** An Io that records what was written, for tests. */
export interface CapturedIo extends Io {
  /** Everything written to stdout so far. */
  readonly out: string;
  /** Everything written to stderr so far. */
  readonly err: string;
}

/**
 * Makes an Io that records output instead of printing it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { captureIo } from "./io.ts";
 * const io = captureIo();
 * io.stdout("hi\n");
 * assert.equal(io.out, "hi\n", "not captured");
 * ```
 */
export function captureIo(): CapturedIo {
  let out = "";
  let err = "";
  return {
    stdout(text: string): void {
      out += text;
    },
    stderr(text: string): void {
      err += text;
    },
    get out(): string {
      return out;
    },
    get err(): string {
      return err;
    },
  };
}
