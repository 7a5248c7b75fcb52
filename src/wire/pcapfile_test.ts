import { readPcap, writePcap } from "./pcapfile.ts";

function assertEq<T>(actual: T, expected: T, what = ""): void {
  if (actual !== expected) {
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

function assertThrows(fn: () => unknown, message: string): void {
  try {
    fn();
  } catch (e) {
    assertEq((e as Error).message, message, "error message");
    return;
  }
  throw new Error(`expected an error: ${message}`);
}

Deno.test("writePcap then readPcap round-trips records and cuts at snaplen", () => {
  const a = new Uint8Array([1, 2, 3, 4, 5]);
  const b = new Uint8Array(100).map((_, i) => i);
  const bytes = writePcap(276, [
    { tsSec: 1, tsUsec: 999999, data: a },
    { tsSec: 0xffffffff, tsUsec: 0, data: b, wireLen: 1500 },
  ], 64);
  const dv = new DataView(bytes.buffer);
  assertEq(dv.getUint32(0, true), 0xa1b2c3d4, "magic");
  assertEq(dv.getUint32(16, true), 64, "snaplen");
  const f = readPcap(bytes);
  assertEq(f.linkType, 276);
  assertEq(f.records.length, 2);
  assertEq(f.records[0]!.tsUsec, 999999);
  assertEq(f.records[0]!.wireLen, 5);
  assertEq(f.records[0]!.data.join(), a.join());
  assertEq(f.records[1]!.tsSec, 0xffffffff);
  assertEq(f.records[1]!.data.length, 64);
  assertEq(f.records[1]!.data.join(), b.subarray(0, 64).join());
  assertEq(f.records[1]!.wireLen, 1500);
});

Deno.test("readPcap reads big-endian and nanosecond files", () => {
  const bytes = new Uint8Array(24 + 16 + 2);
  const dv = new DataView(bytes.buffer);
  dv.setUint32(0, 0xa1b23c4d); // big-endian, nanoseconds
  dv.setUint16(4, 2);
  dv.setUint16(6, 4);
  dv.setUint32(16, 65535);
  // Upper bits of the network field carry FCS information; the link type is the low 16 bits.
  dv.setUint32(20, 0x04000001);
  dv.setUint32(24, 7);
  dv.setUint32(28, 123456789);
  dv.setUint32(32, 2);
  dv.setUint32(36, 60);
  bytes[40] = 0xaa;
  const f = readPcap(bytes);
  assertEq(f.linkType, 1);
  assertEq(f.records[0]!.tsSec, 7);
  assertEq(f.records[0]!.tsUsec, 123456);
  assertEq(f.records[0]!.wireLen, 60);
  assertEq(f.records[0]!.data[0], 0xaa);
});

Deno.test("readPcap rejects broken files with exact messages", () => {
  assertThrows(
    () => readPcap(new Uint8Array(10)),
    'Cannot read pcap file: header needs 24 bytes, got "10"',
  );
  const pcapng = new Uint8Array(28);
  new DataView(pcapng.buffer).setUint32(0, 0x0a0d0d0a);
  assertThrows(
    () => readPcap(pcapng),
    'Cannot read pcap file: magic number "0x0a0d0d0a" is not a pcap magic number',
  );
  const good = writePcap(1, [{ tsSec: 0, tsUsec: 0, data: new Uint8Array(10) }]);
  assertThrows(
    () => readPcap(good.subarray(0, good.length - 1)),
    "Cannot read pcap file: record 1 at offset 24 is truncated",
  );
  assertThrows(
    () => readPcap(good.subarray(0, 30)),
    "Cannot read pcap file: record 1 header at offset 24 is truncated",
  );
});

// tcpdump -w output (tests/testdata/wire/*.pcap) is read in decode_test.ts; here one file that
// tcpdump itself wrote checks the header fields against `tcpdump -r`'s view.
Deno.test("readPcap reads a file tcpdump wrote", () => {
  const f = readPcap(
    Deno.readFileSync(new URL("../../tests/testdata/wire/lo_ipv4_tcp_syn.pcap", import.meta.url)),
  );
  assertEq(f.linkType, 1);
  if (f.records.length === 0) throw new Error("no records");
  for (const r of f.records) assertEq(r.wireLen >= r.data.length, true, "wireLen >= caplen");
});
