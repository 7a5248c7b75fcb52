import { strictEqual } from "node:assert/strict";
import { decodeFrame } from "./decode.ts";
import { DLT } from "../../ffi/dlt.ts";
import { summary, v6, withExtensions } from "../../testing/frames.ts";

const UDP = "udp 2001:db8::1.5000 > 2001:db8::2.9000 flags=0x0";
const SYN = "tcp 2001:db8::1.5000 > 2001:db8::2.9000 flags=0x2";

function decode(ip: Uint8Array, wireLen = ip.length): string {
  return summary(decodeFrame(DLT.RAW, ip, wireLen, 0, 0));
}

/** An 8-byte-unit options header (hop-by-hop 0, routing 43, destination options 60). */
function opts(type: number, units = 0): { type: number; bytes: Uint8Array } {
  const b = new Uint8Array((units + 1) * 8);
  b[1] = units;
  b[2] = 1; // PadN covering the rest
  b[3] = b.length - 4;
  return { type, bytes: b };
}

function frag(offset: number, more: boolean): { type: number; bytes: Uint8Array } {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setUint16(2, (offset << 3) | (more ? 1 : 0));
  new DataView(b.buffer).setUint32(4, 0x12345678);
  return { type: 44, bytes: b };
}

function ah(icvWords: number): { type: number; bytes: Uint8Array } {
  const b = new Uint8Array(12 + icvWords * 4);
  b[1] = (b.length >> 2) - 2; // RFC 4302: length in 4-byte units, minus 2
  return { type: 51, bytes: b };
}

Deno.test("IPv6 extension headers of each kind are walked to TCP and UDP", () => {
  const cases: [string, { type: number; bytes: Uint8Array }[]][] = [
    ["hop-by-hop", [opts(0)]],
    ["routing", [opts(43, 2)]],
    ["fragment, offset 0", [frag(0, true)]],
    ["destination options", [opts(60, 1)]],
    ["AH with 12-byte ICV", [ah(3)]],
    ["AH with no ICV", [ah(0)]],
    ["all of them", [opts(0), opts(60), opts(43, 2), frag(0, true), ah(3), opts(60, 3)]],
  ];
  for (const [name, exts] of cases) {
    const u = withExtensions(v6({ payload: new Uint8Array(3) }), exts);
    strictEqual(decode(u), `${UDP} len=${u.length}`, name);
    const t = withExtensions(v6({ protocol: "tcp" }), exts);
    strictEqual(decode(t), `${SYN} len=${t.length}`, name);
  }
});

Deno.test("IPv6 fragments at a non-zero offset carry no ports", () => {
  strictEqual(
    decode(withExtensions(v6(), [frag(1, false)])),
    "ipv6-ext unsupported @40: fragment at offset 8 carries no ports",
  );
  strictEqual(
    decode(withExtensions(v6(), [opts(0), frag(8191, true)])),
    "ipv6-ext unsupported @48: fragment at offset 65528 carries no ports",
  );
});

Deno.test("IPv6 chains are bounded and ordered", () => {
  const eight = Array.from({ length: 8 }, () => opts(60));
  const ok = withExtensions(v6(), eight);
  strictEqual(decode(ok), `${UDP} len=${ok.length}`);
  strictEqual(
    decode(withExtensions(v6(), [...eight, opts(60)])),
    "ipv6-ext unsupported @104: more than 8 extension headers",
  );
  strictEqual(
    decode(withExtensions(v6(), [opts(60), opts(0)])),
    "ipv6-ext invalid @48: hop-by-hop options header is not first",
  );
});

Deno.test("IPv6 next headers without ports are unsupported where they appear", () => {
  const esp = v6();
  esp[6] = 50;
  strictEqual(decode(esp), "ipv6 unsupported @0: ESP-encrypted payload has no visible ports");
  const none = withExtensions(v6(), [opts(60)]);
  none[40] = 59;
  strictEqual(decode(none), "ipv6-ext unsupported @48: no next header");
  const icmp = withExtensions(v6(), [ah(1)]);
  icmp[40] = 58;
  strictEqual(decode(icmp), "ipv6-ext unsupported @56: next header 58 is not TCP or UDP");
  const jumbo = v6();
  jumbo[4] = 0;
  jumbo[5] = 0;
  jumbo[6] = 0;
  strictEqual(decode(jumbo), "ipv6 unsupported @0: jumbogram (payload length 0) is not supported");
});

Deno.test("IPv6 length fields must agree with each other and with the wire", () => {
  const long = v6();
  long[5] = 9;
  strictEqual(
    decode(long),
    "ipv6 invalid @0: payload length 9 exceeds the 8 bytes left in the frame",
  );
  // Destination options claiming 16 bytes where the payload has 8 + 8.
  const over = withExtensions(v6(), [opts(60)]);
  over[41] = 2;
  strictEqual(
    decode(over),
    "ipv6-ext invalid @40: extension header 60 length 24 exceeds the 16 bytes left in the payload",
  );
  // An extension header cut by the payload length, not by the capture.
  const cut = withExtensions(v6(), [opts(60)]);
  cut[5] = 4;
  strictEqual(
    decode(cut, cut.length),
    "ipv6-ext invalid @40: extension header 60 needs 8 bytes, payload has 4 left",
  );
  const ahOver = withExtensions(v6(), [ah(0)]);
  ahOver[41] = 4;
  strictEqual(
    decode(ahOver),
    "ipv6-ext invalid @40: extension header 51 length 24 exceeds the 20 bytes left in the payload",
  );
});

Deno.test("IPv6 headers cut by the capture are truncated", () => {
  const ip = withExtensions(v6(), [opts(0), frag(0, false)]);
  strictEqual(
    decode(ip.subarray(0, 39), ip.length),
    "ipv6 truncated @0: header needs 40 bytes, 39 captured",
  );
  strictEqual(
    decode(ip.subarray(0, 47), ip.length),
    "ipv6-ext truncated @40: extension header 0 needs 8 bytes, 7 captured",
  );
  strictEqual(
    decode(ip.subarray(0, 50), ip.length),
    "ipv6-ext truncated @48: extension header 44 needs 8 bytes, 2 captured",
  );
  strictEqual(
    decode(ip.subarray(0, 60), ip.length),
    "udp truncated @56: header needs 8 bytes, 4 captured",
  );
});
