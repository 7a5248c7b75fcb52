/**
 * The parser's part for the secret-sequence door directives (docs/SECRET-SEQUENCES.md §3):
 * `Secret_File`, `Secret_Length`, `Secret_Ports`, `Secret_Step`, `Secret_Protocols`. knocktool
 * extensions (knockd 0.8 rejects them as unknown directives).
 *
 * @module
 */
import type { SecretDoor, SecretProtocols } from "./model.ts";
import {
  DEFAULT_SECRET_HIGH,
  DEFAULT_SECRET_LENGTH,
  DEFAULT_SECRET_LOW,
  DEFAULT_SECRET_STEP,
} from "./defaults.ts";
import { parseSecretInteger, parseSecretPorts, parseSecretProtocols } from "./secret_directives.ts";

/** The directives by their upper-cased key, canonically spelled. */
export const SECRET_DIRECTIVES: Readonly<Record<string, string>> = {
  SECRET_FILE: "Secret_File",
  SECRET_LENGTH: "Secret_Length",
  SECRET_PORTS: "Secret_Ports",
  SECRET_STEP: "Secret_Step",
  SECRET_PROTOCOLS: "Secret_Protocols",
};

/** A door's secret directives while its section is read. */
export interface SecretDraft {
  /** Line of each directive seen, by canonical name. */
  lines: Record<string, number>;
  file?: string;
  length?: number;
  low?: number;
  high?: number;
  step?: number;
  protocols?: SecretProtocols;
  /** Set by {@link finishSecret}. */
  done?: SecretDoor;
}

/**
 * Whether an upper-cased directive key is one of the secret directives.
 *
 * @param key The key.
 * @returns True for `SECRET_FILE` and its companions.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isSecretKey } from "./secret_parse.ts";
 * assert(isSecretKey("SECRET_STEP") && !isSecretKey("SEQUENCE"));
 * ```
 */
export function isSecretKey(key: string): boolean {
  return Object.hasOwn(SECRET_DIRECTIVES, key);
}

/**
 * Reads one secret directive into the draft.
 *
 * @param draft The door's draft.
 * @param key The upper-cased key.
 * @param value The trimmed value.
 * @param line Its line.
 * @returns The problem (to follow `Cannot parse "KEY" at line N: `), or undefined.
 */
export function applySecretDirective(
  draft: SecretDraft,
  key: string,
  value: string,
  line: number,
): string | undefined {
  const name = SECRET_DIRECTIVES[key] as string;
  draft.lines[name] = line;
  const got = ` (got ${JSON.stringify(value)})`;
  switch (key) {
    case "SECRET_FILE":
      if (value === "") return "the path is empty";
      draft.file = value;
      return undefined;
    case "SECRET_LENGTH": {
      const n = parseSecretInteger(value, 1, 32);
      if (typeof n !== "number") return n.error + got;
      draft.length = n;
      return undefined;
    }
    case "SECRET_STEP": {
      const n = parseSecretInteger(value, 1, 86400);
      if (typeof n !== "number") return n.error + got;
      draft.step = n;
      return undefined;
    }
    case "SECRET_PORTS": {
      const r = parseSecretPorts(value);
      if ("error" in r) return r.error + got;
      draft.low = r.low;
      draft.high = r.high;
      return undefined;
    }
    default: {
      const p = parseSecretProtocols(value);
      if (typeof p !== "string") return p.error + got;
      draft.protocols = p;
      return undefined;
    }
  }
}

/**
 * Completes a door's secret settings at the end of the file.
 *
 * @param draft The draft.
 * @param sequenceLine The line of the door's `Sequence` or `One_Time_Sequences`, if any.
 * @returns The problem (to follow `Cannot load door "NAME" at line N: `), or undefined (then
 *   `draft.done` is set).
 */
export function finishSecret(
  draft: SecretDraft,
  sequenceLine: number | undefined,
): string | undefined {
  const fileLine = draft.lines["Secret_File"];
  if (draft.file === undefined || fileLine === undefined) {
    const [first] = Object.entries(draft.lines).sort((a, b) => a[1] - b[1]);
    return `"${first?.[0]}" at line ${first?.[1]} needs "Secret_File" in the same door`;
  }
  if (sequenceLine !== undefined) {
    return `"Secret_File" at line ${fileLine} and the sequence at line ${sequenceLine} exclude each other (a secret door derives its sequence)`;
  }
  const length = draft.length ?? DEFAULT_SECRET_LENGTH;
  const low = draft.low ?? DEFAULT_SECRET_LOW;
  const high = draft.high ?? DEFAULT_SECRET_HIGH;
  if (high - low + 1 < length) {
    return `"Secret_Ports" range "${low}-${high}" has fewer ports than "Secret_Length" (${length})`;
  }
  draft.done = {
    file: draft.file,
    line: fileLine,
    length,
    low,
    high,
    step: draft.step ?? DEFAULT_SECRET_STEP,
    protocols: draft.protocols ?? "tcp",
    directives: Object.entries(draft.lines).sort((a, b) => a[1] - b[1]).map(([k]) => k),
  };
  return undefined;
}
