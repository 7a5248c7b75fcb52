import { strictEqual } from "node:assert/strict";
import { buildNull } from "./build.ts";
import { decodeFrame } from "./decode.ts";
import { DLT } from "../../ffi/dlt.ts";
import { summary, v4, v6 } from "../../testing/frames.ts";

const SYN_V4 = "tcp 192.0.2.1.40000 > 192.0.2.2.7000 flags=0x2 len=44";
const UDP_V6 = "udp 2001:db8::1.5000 > 2001:db8::2.9000 flags=0x0 len=52";

Deno.test("DLT_NULL: host-order family, either byte order, every OS's AF_INET6", () => {
  for (const bigEndian of [false, true]) {
    const f4 = buildNull(v4(), 4, { bigEndian });
    strictEqual(summary(decodeFrame(DLT.NULL, f4, f4.length, 0, 0)), SYN_V4, `be=${bigEndian}`);
    for (const af of [10, 24, 28, 30]) {
      const f6 = buildNull(v6(), 6, { af, bigEndian });
      strictEqual(summary(decodeFrame(DLT.NULL, f6, f6.length, 0, 0)), UDP_V6, `af=${af}`);
    }
  }
});

Deno.test("DLT_LOOP: network-order family", () => {
  for (const af of [10, 24, 28, 30]) {
    const f = buildNull(v6(), 6, { af, loop: true });
    strictEqual(summary(decodeFrame(DLT.LOOP, f, f.length, 0, 0)), UDP_V6, `af=${af}`);
  }
  const f4 = buildNull(v4(), 4, { loop: true });
  strictEqual(summary(decodeFrame(DLT.LOOP, f4, f4.length, 0, 0)), SYN_V4);
  // A little-endian family on a LOOP link is 0x02000000: not a family.
  const le = buildNull(v4(), 4);
  strictEqual(
    summary(decodeFrame(DLT.LOOP, le, le.length, 0, 0)),
    "link unsupported @0: address family 33554432 is not IPv4 or IPv6",
  );
});

Deno.test("NULL/LOOP: unknown families and short headers", () => {
  const f = buildNull(v4(), 4, { af: 7 });
  strictEqual(
    summary(decodeFrame(DLT.NULL, f, f.length, 0, 0)),
    "link unsupported @0: address family 7 is not IPv4 or IPv6",
  );
  strictEqual(
    summary(decodeFrame(DLT.NULL, f.subarray(0, 3), f.length, 0, 0)),
    "link truncated @0: NULL header needs 4 bytes, 3 captured",
  );
  strictEqual(
    summary(decodeFrame(DLT.LOOP, f.subarray(0, 0), f.length, 0, 0)),
    "link truncated @0: LOOP header needs 4 bytes, 0 captured",
  );
  // AF_INET6 (30) with an IPv4 packet behind it.
  const wrong = buildNull(v4(), 4, { af: 30 });
  strictEqual(
    summary(decodeFrame(DLT.NULL, wrong, wrong.length, 0, 0)),
    "ipv6 invalid @4: version 4 is not 6",
  );
});
