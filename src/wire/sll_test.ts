import { strictEqual } from "node:assert/strict";
import { buildLinuxSll } from "./build.ts";
import { decodeFrame } from "./decode.ts";
import { DLT } from "../../ffi/dlt.ts";
import { concat, summary, v4, v6 } from "../../testing/frames.ts";

Deno.test("LINUX_SLL: protocol at 14, IP at 16, VLAN tags after the header", () => {
  const f = buildLinuxSll(v6(), 6);
  strictEqual(
    summary(decodeFrame(DLT.LINUX_SLL, f, f.length, 0, 0)),
    "udp 2001:db8::1.5000 > 2001:db8::2.9000 flags=0x0 len=64",
  );
  // libpcap re-inserts a stripped tag after the cooked header, protocol 0x8100.
  const tagged = concat(
    f.subarray(0, 14),
    new Uint8Array([0x81, 0x00, 0x00, 0x64]),
    f.subarray(14),
  );
  strictEqual(
    summary(decodeFrame(DLT.LINUX_SLL, tagged, tagged.length, 0, 0)),
    "udp 2001:db8::1.5000 > 2001:db8::2.9000 flags=0x0 len=68",
  );
  strictEqual(
    summary(decodeFrame(DLT.LINUX_SLL, f.subarray(0, 15), f.length, 0, 0)),
    "link truncated @0: LINUX_SLL header needs 16 bytes, 15 captured",
  );
  const arp = buildLinuxSll(v4(), 4);
  arp[15] = 0x06;
  strictEqual(
    summary(decodeFrame(DLT.LINUX_SLL, arp, arp.length, 0, 0)),
    "link unsupported @16: EtherType 0x0806 is not IPv4 or IPv6",
  );
});
