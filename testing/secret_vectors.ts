/**
 * The test vectors of docs/SECRET-SEQUENCES.md §8, shared by the derivation's unit test, the
 * openssl test and the CLI tests. tests/secret_openssl_test.ts checks that the document's table
 * shows exactly these.
 *
 * @module
 */
import type { SecretParams } from "../src/config/model.ts";

/** The vectors' key: 32 ASCII bytes. */
export const VECTOR_KEY = "knocktool test secret 0123456789";

/** One vector: inputs and the expected sequence as `PORT:PROTO` words. */
export interface SecretVector {
  /** Door name. */
  readonly door: string;
  /** Time step. */
  readonly step: number;
  /** Slot. */
  readonly slot: number;
  /** Length, port range, step and protocols. */
  readonly params: SecretParams;
  /** The expected sequence. */
  readonly sequence: string;
}

/** The vectors, in the document's order. */
export const SECRET_VECTORS: readonly SecretVector[] = [
  {
    door: "ssh",
    step: 56666667,
    slot: 0,
    params: { length: 4, low: 1024, high: 65535, step: 30, protocols: "tcp" },
    sequence: "29548:tcp 60877:tcp 41553:tcp 47305:tcp",
  },
  {
    door: "ssh",
    step: 56666667,
    slot: 7,
    params: { length: 4, low: 1024, high: 65535, step: 30, protocols: "both" },
    sequence: "12028:tcp 52787:tcp 31407:tcp 41835:udp",
  },
  {
    door: "ssh",
    step: 56666668,
    slot: 3,
    params: { length: 8, low: 7000, high: 7009, step: 30, protocols: "udp" },
    sequence: "7008:udp 7007:udp 7009:udp 7001:udp 7002:udp 7003:udp 7006:udp 7005:udp",
  },
  {
    door: "ssh",
    step: 0,
    slot: 5,
    params: { length: 32, low: 40000, high: 40031, step: 60, protocols: "both" },
    sequence:
      "40018:tcp 40015:udp 40029:udp 40012:tcp 40005:udp 40024:tcp 40031:tcp 40023:udp 40020:tcp 40016:tcp 40028:udp 40027:udp 40025:tcp 40011:udp 40010:udp 40026:tcp 40021:tcp 40003:udp 40001:tcp 40013:tcp 40014:udp 40009:udp 40022:udp 40019:udp 40008:tcp 40006:udp 40000:tcp 40002:udp 40030:udp 40007:udp 40017:udp 40004:udp",
  },
  {
    door: "tür öffnen",
    step: 28333333,
    slot: 1,
    params: { length: 6, low: 1, high: 65535, step: 60, protocols: "both" },
    sequence: "2262:tcp 20889:udp 52735:tcp 25388:tcp 45378:udp 3636:tcp",
  },
];

/** `M(0)` for door `ssh`, step 56666667, slot 0, in hex. */
export const VECTOR_MESSAGE0 =
  "6b6e6f636b746f6f6c2d7365637265742d73657175656e63652d7631000003737368000000000360aa2b000000000000";

/** `B(0) = HMAC(K, M(0))` for that message, in hex. */
export const VECTOR_BLOCK0 = "6f6ce9cd9e51b4c9930f993664c30e9d040f0d6cce937d4b63fc84512cb3609a";
