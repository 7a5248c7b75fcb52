import { strictEqual } from "node:assert/strict";
import { internetChecksum } from "./build.ts";
import { decodeFrame } from "./decode.ts";
import { DLT } from "../../ffi/dlt.ts";
import { concat, summary, v4 } from "../../testing/frames.ts";

/** Decodes an IPv4 packet on a raw link, after `edit` changed its header. */
function decode(edit: (ip: Uint8Array, dv: DataView) => void, ip = v4(), wireLen?: number) {
  const dv = new DataView(ip.buffer, ip.byteOffset, ip.byteLength);
  edit(ip, dv);
  return summary(decodeFrame(DLT.RAW, ip, wireLen ?? ip.length, 0, 0));
}

const SYN = "tcp 192.0.2.1.40000 > 192.0.2.2.7000 flags=0x2";

Deno.test("IPv4 header length, total length and wire length must agree", () => {
  strictEqual(decode((ip) => ip[0] = 0x44), "ipv4 invalid @0: IHL 4 is less than 5");
  strictEqual(decode((ip) => ip[0] = 0x40), "ipv4 invalid @0: IHL 0 is less than 5");
  strictEqual(
    decode((_, dv) => dv.setUint16(2, 19)),
    "ipv4 invalid @0: total length 19 is less than header length 20",
  );
  strictEqual(
    decode((_, dv) => dv.setUint16(2, 41)),
    "ipv4 invalid @0: total length 41 exceeds the 40 bytes left in the frame",
  );
  // The same 41 with a longer wire length: the capture was cut, not the packet.
  strictEqual(decode((_, dv) => dv.setUint16(2, 41), v4(), 41), `${SYN} len=41`);
  strictEqual(
    decode((ip) => ip[0] = 0x4f),
    "ipv4 invalid @0: total length 40 is less than header length 60",
  );
});

Deno.test("IPv4 options: the header may be longer than 20 bytes", () => {
  const base = v4();
  // IHL 6: one 4-byte option (NOP NOP NOP EOL) between header and TCP.
  const ip = concat(base.subarray(0, 20), new Uint8Array([1, 1, 1, 0]), base.subarray(20));
  ip[0] = 0x46;
  new DataView(ip.buffer).setUint16(2, 44);
  ip[10] = 0;
  ip[11] = 0;
  new DataView(ip.buffer).setUint16(10, internetChecksum(ip.subarray(0, 24)));
  strictEqual(summary(decodeFrame(DLT.RAW, ip, 44, 0, 0)), `${SYN} len=44`);
  strictEqual(
    summary(decodeFrame(DLT.RAW, ip.subarray(0, 22), 44, 0, 0)),
    "ipv4 truncated @0: header needs 24 bytes, 22 captured",
  );
});

Deno.test("IPv4 fragments: only offset 0 carries ports", () => {
  strictEqual(decode((_, dv) => dv.setUint16(6, 0x2000)), `${SYN} len=40`); // MF, offset 0
  strictEqual(
    decode((_, dv) => dv.setUint16(6, 0x2001)),
    "ipv4 unsupported @0: fragment at offset 8 carries no ports",
  );
  strictEqual(
    decode((_, dv) => dv.setUint16(6, 0x1fff)),
    "ipv4 unsupported @0: fragment at offset 65528 carries no ports",
  );
  // A first fragment too small for a TCP header (RFC 1858 "tiny fragment").
  const tiny = v4().slice(0, 28);
  new DataView(tiny.buffer).setUint16(2, 28);
  new DataView(tiny.buffer).setUint16(6, 0x2000);
  strictEqual(
    summary(decodeFrame(DLT.RAW, tiny, 28, 0, 0)),
    "tcp invalid @20: header needs 20 bytes, IP payload has 8",
  );
});

Deno.test("IPv4 protocols other than TCP and UDP are unsupported", () => {
  strictEqual(decode((ip) => ip[9] = 1), "ipv4 unsupported @0: protocol 1 is not TCP or UDP");
  strictEqual(decode((ip) => ip[9] = 132), "ipv4 unsupported @0: protocol 132 is not TCP or UDP");
});

Deno.test("IPv4 header cut by the capture is truncated", () => {
  const ip = v4();
  strictEqual(
    summary(decodeFrame(DLT.RAW, ip.subarray(0, 19), 40, 0, 0)),
    "ipv4 truncated @0: header needs 20 bytes, 19 captured",
  );
});
