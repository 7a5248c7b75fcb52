import { strictEqual } from "node:assert/strict";
import { decodeFrame } from "./decode.ts";
import { DLT } from "../../ffi/dlt.ts";
import { summary, v4, v6 } from "../../testing/frames.ts";

Deno.test("raw IP link types: the version nibble decides", () => {
  for (const lt of [DLT.RAW, DLT.LINKTYPE_RAW, DLT.IPV4, DLT.IPV6]) {
    const a = v4();
    strictEqual(
      summary(decodeFrame(lt, a, a.length, 0, 0)),
      "tcp 192.0.2.1.40000 > 192.0.2.2.7000 flags=0x2 len=40",
      `${lt}`,
    );
    const b = v6();
    strictEqual(
      summary(decodeFrame(lt, b, b.length, 0, 0)),
      "udp 2001:db8::1.5000 > 2001:db8::2.9000 flags=0x0 len=48",
      `${lt}`,
    );
    const c = v4();
    c[0] = 0x55;
    strictEqual(
      summary(decodeFrame(lt, c, c.length, 0, 0)),
      "link unsupported @0: IP version 5 is not 4 or 6",
    );
    strictEqual(
      summary(decodeFrame(lt, new Uint8Array(0), 0, 0, 0)),
      "link truncated @0: raw IP frame is empty",
    );
  }
});
