import { strictEqual } from "node:assert/strict";
import { buildLinuxSll2 } from "./build.ts";
import { decodeFrame } from "./decode.ts";
import { DLT } from "../../ffi/dlt.ts";
import { concat, summary, v4 } from "../../testing/frames.ts";

Deno.test("LINUX_SLL2: protocol at 0, IP at 20", () => {
  const f = buildLinuxSll2(v4(), 4);
  strictEqual(
    summary(decodeFrame(DLT.LINUX_SLL2, f, f.length, 0, 0)),
    "tcp 192.0.2.1.40000 > 192.0.2.2.7000 flags=0x2 len=60",
  );
  strictEqual(
    summary(decodeFrame(DLT.LINUX_SLL2, f.subarray(0, 19), f.length, 0, 0)),
    "link truncated @0: LINUX_SLL2 header needs 20 bytes, 19 captured",
  );
  // The same bytes read as SLL v1 put the "protocol" at 14: inside the link address.
  strictEqual(decodeFrame(DLT.LINUX_SLL, f, f.length, 0, 0).ok, false);
});

Deno.test("LINUX_SLL2: VLAN tags after the header are looked through", () => {
  const f = buildLinuxSll2(v4(), 4);
  const tagged = concat(
    new Uint8Array([0x81, 0x00]),
    f.subarray(2, 20),
    new Uint8Array([0, 7, 8, 0]),
    f.subarray(20),
  );
  strictEqual(
    summary(decodeFrame(DLT.LINUX_SLL2, tagged, tagged.length, 0, 0)),
    "tcp 192.0.2.1.40000 > 192.0.2.2.7000 flags=0x2 len=64",
  );
});
