/**
 * Config text that is not valid UTF-8, kept byte for byte. knockd treats its config as bytes, so
 * a command like `touch /tmp/caf\xE9` (Latin-1) must run with exactly those bytes. Text is
 * decoded as UTF-8 where it is valid; every byte of an invalid sequence becomes a lone surrogate
 * U+DC80–U+DCFF (the "surrogateescape" scheme), which {@link encodeRawText} turns back into the
 * byte. Valid UTF-8 never decodes to a lone surrogate, so the round trip is exact.
 *
 * @module
 */

const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/** Length of the valid UTF-8 sequence starting at `i`, or 0 when the byte there starts none. */
function sequenceLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => {
    const x = b[i + k];
    return x !== undefined && x >= lo && x <= hi;
  };
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const lo = c === 0xe0 ? 0xa0 : 0x80;
    const hi = c === 0xed ? 0x9f : 0xbf; // no UTF-16 surrogates
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const lo = c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xf4 ? 0x8f : 0xbf; // at most U+10FFFF
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

/**
 * Decodes bytes as UTF-8, keeping every byte of an invalid sequence as a lone surrogate
 * U+DC80–U+DCFF. A leading BOM is kept (knockd sees it as ordinary bytes).
 *
 * @param bytes The bytes.
 * @returns The text; {@link encodeRawText} gives the same bytes back.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeRawText, encodeRawText } from "./bytes.ts";
 * const bytes = new Uint8Array([0x63, 0x61, 0x66, 0xe9]); // "caf" + Latin-1 é
 * const text = decodeRawText(bytes);
 * assert.equal(text, "caf\udce9");
 * assert.equal(encodeRawText(text).join(), bytes.join(), "round trip");
 * ```
 */
export function decodeRawText(bytes: Uint8Array): string {
  try {
    return strict.decode(bytes);
  } catch {
    // Not valid UTF-8: decode the valid runs, escape the rest byte by byte.
  }
  let out = "";
  let run = 0;
  let i = 0;
  while (i < bytes.length) {
    const n = sequenceLength(bytes, i);
    if (n > 0) {
      i += n;
      continue;
    }
    out += strict.decode(bytes.subarray(run, i)) + String.fromCharCode(0xdc00 + bytes[i]!);
    i++;
    run = i;
  }
  return out + strict.decode(bytes.subarray(run));
}

/**
 * The bytes of a text from {@link decodeRawText}: UTF-8, except that each lone surrogate
 * U+DC80–U+DCFF becomes the byte it stands for.
 *
 * @param text The text.
 * @returns The bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeRawText } from "./bytes.ts";
 * assert.equal(encodeRawText("é\udcff").join(), "195,169,255");
 * ```
 */
export function encodeRawText(text: string): Uint8Array {
  if (!hasRawBytes(text)) return encoder.encode(text);
  const parts: number[] = [];
  let start = 0;
  const flush = (end: number) => {
    for (const b of encoder.encode(text.slice(start, end))) parts.push(b);
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xdc80 && c <= 0xdcff && !isHighSurrogate(text.charCodeAt(i - 1))) {
      flush(i);
      parts.push(c - 0xdc00);
      start = i + 1;
    }
  }
  flush(text.length);
  return Uint8Array.from(parts);
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

/**
 * Whether a text holds escaped bytes (lone surrogates U+DC80–U+DCFF), that is, whether passing
 * it to an API that encodes UTF-8 (process arguments, file names) would change its bytes.
 *
 * @param text The text.
 * @returns True when {@link encodeRawText} differs from plain UTF-8.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hasRawBytes } from "./bytes.ts";
 * assert(!hasRawBytes("café"));
 * assert(hasRawBytes("caf\udce9"));
 * ```
 */
export function hasRawBytes(text: string): boolean {
  return /(?<![\ud800-\udbff])[\udc80-\udcff]/.test(text);
}

/**
 * Arguments for `/bin/sh` that run `command` with its exact bytes. Without escaped bytes this is
 * `["-c", command]`; otherwise the command is rebuilt by `printf` from octal escapes and run with
 * `eval` in the same shell, since process arguments can only carry UTF-8 text.
 *
 * @param command A command from the config (maybe with escaped bytes).
 * @returns The arguments after `/bin/sh`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shellArgs } from "./bytes.ts";
 * assert.equal(shellArgs("echo hi").join(" "), "-c echo hi");
 * assert.equal(shellArgs("x\udce9")[1], `eval "$(printf '\\170\\351')"`);
 * ```
 */
export function shellArgs(command: string): string[] {
  if (!hasRawBytes(command)) return ["-c", command];
  const octal = Array.from(encodeRawText(command), (b) => "\\" + b.toString(8).padStart(3, "0"));
  return ["-c", `eval "$(printf '${octal.join("")}')"`];
}
