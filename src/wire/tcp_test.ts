import { strictEqual } from "node:assert/strict";
import { decodeFrame } from "./decode.ts";
import { DLT } from "../../ffi/dlt.ts";
import { concat, summary, v4, v6 } from "../../testing/frames.ts";

function decode(ip: Uint8Array, wireLen = ip.length): string {
  return summary(decodeFrame(DLT.RAW, ip, wireLen, 0, 0));
}

Deno.test("TCP data offset must be at least 5 and fit in the IP payload", () => {
  const ip = v4();
  ip[32] = 0x40;
  strictEqual(decode(ip), "tcp invalid @20: data offset 4 is less than 5");
  ip[32] = 0x60;
  strictEqual(decode(ip), "tcp invalid @20: data offset 6 (24 bytes) exceeds the IP payload of 20");
  const withOpts = concat(v4(), new Uint8Array(4));
  withOpts[32] = 0x60;
  new DataView(withOpts.buffer).setUint16(2, 44);
  strictEqual(decode(withOpts), "tcp 192.0.2.1.40000 > 192.0.2.2.7000 flags=0x2 len=44");
  strictEqual(
    decode(withOpts.subarray(0, 42), 44),
    "tcp truncated @20: header needs 24 bytes, 22 captured",
  );
});

Deno.test("TCP header beyond the IP total length is invalid, beyond caplen truncated", () => {
  const ip = v4();
  new DataView(ip.buffer).setUint16(2, 30); // IP says 10 bytes of payload
  strictEqual(decode(ip), "tcp invalid @20: header needs 20 bytes, IP payload has 10");
  strictEqual(
    decode(v4().subarray(0, 39), 40),
    "tcp truncated @20: header needs 20 bytes, 19 captured",
  );
});

Deno.test("TCP flags byte comes through whole, ECE and CWR included", () => {
  for (const flags of [0x00, 0x01, 0x12, 0x29, 0xc2, 0xff]) {
    const r = decodeFrame(DLT.RAW, v6({ protocol: "tcp", tcpFlags: flags }), 60, 0, 0);
    strictEqual(r.ok && r.packet.tcpFlags, flags, `flags ${flags}`);
  }
});
