import { strictEqual } from "node:assert/strict";
import { decodeFrame } from "./decode.ts";
import { DLT } from "../../ffi/dlt.ts";
import { summary, v4, v6 } from "../../testing/frames.ts";

function decode(ip: Uint8Array, wireLen = ip.length): string {
  return summary(decodeFrame(DLT.RAW, ip, wireLen, 0, 0));
}

Deno.test("UDP length field must be at least 8 and within the IP payload", () => {
  const ip = v6({ payload: new Uint8Array(4) });
  const dv = new DataView(ip.buffer);
  dv.setUint16(44, 7);
  strictEqual(decode(ip), "udp invalid @40: length 7 is less than 8");
  dv.setUint16(44, 13);
  strictEqual(decode(ip), "udp invalid @40: length 13 exceeds the IP payload of 12");
  dv.setUint16(44, 9); // shorter than the payload: the rest is trailing bytes
  strictEqual(decode(ip), "udp 2001:db8::1.5000 > 2001:db8::2.9000 flags=0x0 len=52");
});

Deno.test("UDP header beyond the IP payload is invalid, beyond caplen truncated", () => {
  const ip = v4({ protocol: "udp" });
  new DataView(ip.buffer).setUint16(2, 27);
  strictEqual(decode(ip), "udp invalid @20: header needs 8 bytes, IP payload has 7");
  strictEqual(
    decode(v4({ protocol: "udp" }).subarray(0, 27), 28),
    "udp truncated @20: header needs 8 bytes, 7 captured",
  );
});

Deno.test("UDP in a first IPv4 fragment may announce the whole datagram's length", () => {
  const ip = v4({ protocol: "udp", payload: new Uint8Array(100) });
  const dv = new DataView(ip.buffer);
  dv.setUint16(24, 3008);
  strictEqual(decode(ip), "udp invalid @20: length 3008 exceeds the IP payload of 108");
  dv.setUint16(6, 0x2000); // MF
  strictEqual(decode(ip), "udp 192.0.2.1.40000 > 192.0.2.2.7000 flags=0x0 len=128");
});
