/**
 * Link-layer types: the pcap `DLT_*` values `pcap_datalink` returns on Linux, and the `LINKTYPE_*`
 * values pcap files may carry. The one table every layer uses (the capture, the decoder, `check`).
 *
 * @module
 */

/**
 * Link types knocktool knows, by libpcap's name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DLT } from "./dlt.ts";
 * assert.equal(DLT.EN10MB, 1);
 * assert.equal(DLT.LINUX_SLL, 113);
 * ```
 */
export const DLT = {
  NULL: 0,
  EN10MB: 1,
  /** DLT_RAW as `pcap_datalink` gives it on Linux; pcap files say LINKTYPE_RAW (101). */
  RAW: 12,
  LOOP: 108,
  LINUX_SLL: 113,
  LINUX_SLL2: 276,
  /** Raw IP as stored in pcap files. */
  LINKTYPE_RAW: 101,
  /** Raw IPv4 (pcap files). */
  IPV4: 228,
  /** Raw IPv6 (pcap files). */
  IPV6: 229,
} as const;

/** A link type's name in {@link DLT}. */
export type DltName = keyof typeof DLT;

/**
 * The link types a live interface can have and a capture filter can be compiled for, in the
 * order `check --link-type` lists them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LIVE_LINK_TYPES } from "./dlt.ts";
 * assert.equal(LIVE_LINK_TYPES.includes("LINUX_SLL2"), true);
 * assert.equal(LIVE_LINK_TYPES.includes("IPV6"), false);
 * ```
 */
export const LIVE_LINK_TYPES: readonly DltName[] = [
  "NULL",
  "EN10MB",
  "RAW",
  "LOOP",
  "LINUX_SLL",
  "LINUX_SLL2",
];
