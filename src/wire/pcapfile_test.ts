import { ok, strictEqual, throws } from "node:assert/strict";
import { readPcap, writePcap } from "./pcapfile.ts";

Deno.test("writePcap then readPcap round-trips records and cuts at snaplen", () => {
  const a = new Uint8Array([1, 2, 3, 4, 5]);
  const b = new Uint8Array(100).map((_, i) => i);
  const bytes = writePcap(276, [
    { tsSec: 1, tsUsec: 999999, data: a },
    { tsSec: 0xffffffff, tsUsec: 0, data: b, wireLen: 1500 },
  ], 64);
  const dv = new DataView(bytes.buffer);
  strictEqual(dv.getUint32(0, true), 0xa1b2c3d4, "magic");
  strictEqual(dv.getUint32(16, true), 64, "snaplen");
  const f = readPcap(bytes);
  strictEqual(f.linkType, 276);
  strictEqual(f.records.length, 2);
  strictEqual(f.records[0]!.tsUsec, 999999);
  strictEqual(f.records[0]!.wireLen, 5);
  strictEqual(f.records[0]!.data.join(), a.join());
  strictEqual(f.records[1]!.tsSec, 0xffffffff);
  strictEqual(f.records[1]!.data.length, 64);
  strictEqual(f.records[1]!.data.join(), b.subarray(0, 64).join());
  strictEqual(f.records[1]!.wireLen, 1500);
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
  strictEqual(f.linkType, 1);
  strictEqual(f.records[0]!.tsSec, 7);
  strictEqual(f.records[0]!.tsUsec, 123456);
  strictEqual(f.records[0]!.wireLen, 60);
  strictEqual(f.records[0]!.data[0], 0xaa);
});

Deno.test("readPcap rejects broken files with exact messages", () => {
  throws(
    () => readPcap(new Uint8Array(10)),
    { message: 'Cannot read pcap file: header needs 24 bytes, got "10"' },
  );
  const pcapng = new Uint8Array(28);
  new DataView(pcapng.buffer).setUint32(0, 0x0a0d0d0a);
  throws(
    () => readPcap(pcapng),
    { message: 'Cannot read pcap file: magic number "0x0a0d0d0a" is not a pcap magic number' },
  );
  const good = writePcap(1, [{ tsSec: 0, tsUsec: 0, data: new Uint8Array(10) }]);
  throws(
    () => readPcap(good.subarray(0, good.length - 1)),
    { message: "Cannot read pcap file: record 1 at offset 24 is truncated" },
  );
  throws(
    () => readPcap(good.subarray(0, 30)),
    { message: "Cannot read pcap file: record 1 header at offset 24 is truncated" },
  );
});

// tcpdump -w output (tests/testdata/wire/*.pcap) is read in decode_test.ts; here one file that
// tcpdump itself wrote checks the header fields against `tcpdump -r`'s view.
Deno.test("readPcap reads a file tcpdump wrote", () => {
  const f = readPcap(
    Deno.readFileSync(new URL("../../tests/testdata/wire/lo_ipv4_tcp_syn.pcap", import.meta.url)),
  );
  strictEqual(f.linkType, 1);
  ok(f.records.length > 0, "no records");
  for (const r of f.records) strictEqual(r.wireLen >= r.data.length, true, "wireLen >= caplen");
});
