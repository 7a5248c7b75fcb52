/**
 * knockd.conf for knocktool: a parser that accepts and rejects exactly what knockd 0.8 does
 * (with knockd's own error line beside a readable message), the BPF filter knockd would install
 * and the compact superset knocktool installs (with coarser fallbacks), glibc's `atoi`, byte-exact
 * handling of text that is not UTF-8, and warnings for configs that knockd accepts but that
 * probably do not do what was meant.
 *
 * @example
 * ```ts
 * import { knockdFilter, lintConfig, parseConfig } from "./mod.ts";
 * const r = parseConfig("[ssh]\nsequence = 9000,8000,7000\ntcpflags = syn\n");
 * if (!r.ok) throw new Error(r.error.message);
 * const f = knockdFilter(r.config.doors, { v4: ["192.0.2.1"], v6: [] }, false);
 * if (!f.startsWith("((dst host 192.0.2.1) and ")) throw new Error(f);
 * if (lintConfig(r.config).length !== 0) throw new Error("unexpected warning");
 * ```
 *
 * @module
 */
export * from "./model.ts";
export {
  type ConfigError,
  parseConfig,
  parseConfigBytes,
  type ParseOptions,
  type ParseResult,
} from "./parse.ts";
export { loadConfig } from "./load.ts";
export { decodeRawText, encodeRawText, hasRawBytes, shellArgs } from "./bytes.ts";
export { atoi, type AtoiResult, readAtoi } from "./atoi.ts";
export {
  BPF_MAX_INSNS,
  captureFilter,
  captureFilters,
  type FilterCandidate,
  type FilterLevel,
  knockdFilter,
  type LocalAddresses,
  MAX_HOST_TERMS,
  MAX_PORT_TERMS,
} from "./filter.ts";
export { lintConfig, type Warning } from "./lint.ts";
export {
  formatSequence,
  MAX_KNOCKS,
  parsePortSequence,
  type SequenceProblem,
  type SequenceResult,
} from "./sequence.ts";
export {
  type FirstSequence,
  iterOneTimeFile,
  noMoreSequencesText,
  type OneTimeLine,
  readFirstOneTimeSequence,
  scanOneTimeFile,
} from "./onetime_file.ts";
