import { deepStrictEqual } from "node:assert/strict";
import { addressText, localAddresses, readAddresses, sameAddresses } from "./addresses.ts";
import { withPcap } from "../../ffi/libpcap.ts";
import { ignoreUnlessCi } from "../../testing/netns.ts";

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Formats IPv6 addresses with glibc's own inet_ntop (through python3's socket module). */
async function glibcNtop(list: Uint8Array[]): Promise<string[]> {
  const script = "import socket,sys\n" +
    "for l in sys.stdin.read().split():\n" +
    "  print(socket.inet_ntop(socket.AF_INET6, bytes.fromhex(l)))\n";
  const child = new Deno.Command("python3", {
    args: ["-c", script],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(list.map(hex).join("\n")));
  await w.close();
  const out = await child.output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim().split("\n");
}

function v6(...words: number[]): Uint8Array {
  const b = new Uint8Array(16);
  words.forEach((w, i) => {
    b[i * 2] = w >> 8;
    b[i * 2 + 1] = w & 0xff;
  });
  return b;
}

let python = false;
try {
  python = (await new Deno.Command("python3", { args: ["-c", ""] }).output()).success;
} catch {
  python = false;
}

Deno.test({
  name: "addressText: IPv6 text is identical to glibc inet_ntop",
  ignore: ignoreUnlessCi(python),
  async fn() {
    const vectors = [
      v6(),
      v6(0, 0, 0, 0, 0, 0, 0, 1),
      v6(1),
      v6(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1), // tie: the first run is compressed
      v6(0x2001, 0xdb8, 0, 1, 1, 1, 1, 1), // a single zero group is not compressed
      v6(0x2001, 0xdb8, 0, 0, 0, 1, 0, 0),
      v6(0xfe80, 0, 0, 0, 0x8cb8, 0x64ff, 0xfe93, 0xb82f),
      v6(0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201), // IPv4-mapped
      v6(0, 0, 0, 0, 0, 0, 0xc000, 0x0201), // IPv4-compatible
      v6(0, 0, 0, 0, 0, 0, 0, 0x0201),
      v6(0, 0, 0, 0, 0, 0xfffe, 0xc000, 0x0201),
      v6(0, 0, 0, 0, 1, 0, 0, 0),
      v6(0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff),
    ];
    // Random addresses biased towards zero groups, from a fixed seed (reproducible).
    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (let i = 0; i < 300; i++) {
      vectors.push(v6(...Array.from({ length: 8 }, () => (rnd() % 3 === 0 ? rnd() & 0xffff : 0))));
    }
    const want = await glibcNtop(vectors);
    deepStrictEqual(vectors.map(addressText), want, "texts");
  },
});

Deno.test("addressText: IPv4 is a dotted quad; other lengths are rejected", () => {
  deepStrictEqual(addressText(new Uint8Array([198, 51, 100, 0])), "198.51.100.0", "v4");
  let msg = "";
  try {
    addressText(new Uint8Array(5));
  } catch (e) {
    msg = e instanceof RangeError ? e.message : "";
  }
  deepStrictEqual(msg, "Cannot format address: length 5 is not 4 or 16", "error");
});

Deno.test("localAddresses: knockd's prepend order per family, -4, duplicates once", () => {
  const a4 = (x: number) => ({
    family: 4 as const,
    bytes: new Uint8Array([192, 0, 2, x]),
    scopeId: 0,
  });
  const a6 = (x: number) => ({
    family: 6 as const,
    bytes: v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, x),
    scopeId: 0,
  });
  const list = [a4(1), a6(1), a4(2), a6(2), a4(1)];
  deepStrictEqual(localAddresses(list, false), {
    v4: ["192.0.2.1", "192.0.2.2"],
    v6: ["2001:db8::2", "2001:db8::1"],
  }, "both");
  deepStrictEqual(localAddresses(list, true), { v4: ["192.0.2.1", "192.0.2.2"], v6: [] }, "-4");
});

Deno.test("sameAddresses: order and content matter", () => {
  deepStrictEqual(
    sameAddresses({ v4: ["a", "b"], v6: [] }, { v4: ["b", "a"], v6: [] }),
    false,
    "order",
  );
  deepStrictEqual(sameAddresses({ v4: [], v6: ["x"] }, { v4: [], v6: ["x"] }), true, "equal");
  deepStrictEqual(sameAddresses({ v4: [], v6: ["x"] }, { v4: [], v6: [] }), false, "length");
});

Deno.test("readAddresses: lo has 127.0.0.1; any is a union; a missing interface has none", () => {
  withPcap((p) => {
    const lo = readAddresses(p, "lo", false);
    deepStrictEqual(lo.device?.name, "lo", "lo listed");
    deepStrictEqual(lo.addresses.v4.includes("127.0.0.1"), true, "127.0.0.1 on lo");
    const any = readAddresses(p, "any", true);
    deepStrictEqual(any.addresses.v4.includes("127.0.0.1"), true, "any includes lo's address");
    deepStrictEqual(any.addresses.v6, [], "-4 drops IPv6");
    const missing = readAddresses(p, "kt-nosuch0", false);
    deepStrictEqual(
      [missing.device, missing.addresses],
      [undefined, { v4: [], v6: [] }],
      "missing",
    );
  });
});
