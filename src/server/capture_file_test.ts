import { deepStrictEqual, ok } from "node:assert/strict";
import { captureFile } from "./capture_file.ts";
import { PcapError } from "../../ffi/libpcap.ts";
import { writePcap } from "../wire/pcapfile.ts";
import { buildFrame } from "../../testing/inject.ts";

/** UDP/TCP destination port of an Ethernet + IPv4 frame. */
function dstPort(data: Uint8Array): number {
  const ihl = ((data[14] ?? 0) & 0x0f) * 4;
  return ((data[14 + ihl + 2] ?? 0) << 8) | (data[14 + ihl + 3] ?? 0);
}

Deno.test("captureFile: reads a pcap file through libpcap with the filter applied", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kt-capfile-" });
  try {
    const records = [7001, 7002, 7001, 7003, 7001].map((port, i) => ({
      tsSec: 1_700_000_000 + i,
      tsUsec: i * 1000,
      data: buildFrame({ src: "192.0.2.9", dst: "192.0.2.1", proto: "tcp", port }, i),
    }));
    const path = `${dir}/knocks.pcap`;
    await Deno.writeFile(path, writePcap(1, records));
    const got: { port: number; tsSec: number; tsUsec: number; bytes: number[] }[] = [];
    const { frames } = await captureFile(path, "tcp dst port 7001", {
      onFrame: (f) =>
        got.push({ port: dstPort(f.data), tsSec: f.tsSec, tsUsec: f.tsUsec, bytes: [...f.data] }),
      onStatus: () => {},
      onAddresses: () => {},
    });
    deepStrictEqual(frames, 3, "frames delivered");
    const want = records.filter((_, i) => i % 2 === 0).map((r) => ({
      port: 7001,
      tsSec: r.tsSec,
      tsUsec: r.tsUsec,
      bytes: [...r.data],
    }));
    deepStrictEqual(got, want, "frames, timestamps and bytes");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("captureFile: a large file is read in batches, all frames delivered", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kt-capfile-" });
  try {
    const frame = buildFrame({ src: "192.0.2.9", dst: "192.0.2.1", proto: "udp", port: 9 }, 0);
    const records = Array.from({ length: 5000 }, (_, i) => ({ tsSec: i, tsUsec: 0, data: frame }));
    const path = `${dir}/many.pcap`;
    await Deno.writeFile(path, writePcap(1, records));
    let seen = 0;
    let sum = 0;
    const { frames } = await captureFile(path, "", {
      onFrame: (f) => {
        seen++;
        sum += f.tsSec;
      },
      onStatus: () => {},
      onAddresses: () => {},
    });
    deepStrictEqual([frames, seen, sum], [5000, 5000, (4999 * 5000) / 2], "all frames in order");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("captureFile: errors carry libpcap's text", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kt-capfile-" });
  const ev = { onFrame: () => {}, onStatus: () => {}, onAddresses: () => {} };
  try {
    const missing = `${dir}/missing.pcap`;
    let e1: unknown;
    await captureFile(missing, "", ev).catch((e) => (e1 = e));
    ok(e1 instanceof PcapError, "PcapError for a missing file");
    deepStrictEqual(
      e1.message,
      `Cannot open capture file "${missing}": ${missing}: No such file or directory`,
      "missing file",
    );
    const path = `${dir}/empty.pcap`;
    await Deno.writeFile(path, writePcap(1, []));
    let e2: unknown;
    await captureFile(path, "tcp port", ev).catch((e) => (e2 = e));
    ok(e2 instanceof PcapError, "PcapError for a bad filter");
    deepStrictEqual(
      e2.message,
      `Cannot compile filter "tcp port" for capture file "${path}": can't parse filter expression: syntax error`,
      "bad filter",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
