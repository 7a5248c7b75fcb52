import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { DLT } from "./dlt.ts";
import {
  acquirePcap,
  findAllDevs,
  libVersion,
  linkTypeName,
  PCAP_IF_LOOPBACK,
  PCAP_IF_UP,
  PCAP_LIBRARY_NAMES,
  PcapError,
  pcapLibraryCandidates,
  releasePcap,
  withPcap,
} from "./libpcap.ts";

async function withEnv(value: string, fn: () => void | Promise<void>): Promise<void> {
  const before = Deno.env.get("KNOCKTOOL_LIBPCAP");
  Deno.env.set("KNOCKTOOL_LIBPCAP", value);
  try {
    await fn();
  } finally {
    if (before === undefined) Deno.env.delete("KNOCKTOOL_LIBPCAP");
    else Deno.env.set("KNOCKTOOL_LIBPCAP", before);
  }
}

Deno.test("pcapLibraryCandidates: Debian, Fedora/Arch/Alpine/OpenWrt, -dev and macOS names", () => {
  if (Deno.env.get("KNOCKTOOL_LIBPCAP") !== undefined) return;
  deepStrictEqual(pcapLibraryCandidates(), PCAP_LIBRARY_NAMES, "default list");
  deepStrictEqual(
    PCAP_LIBRARY_NAMES,
    ["libpcap.so.0.8", "libpcap.so.1", "libpcap.so", "libpcap.A.dylib"],
    "names",
  );
});

Deno.test("acquirePcap: KNOCKTOOL_LIBPCAP overrides the list; failure lists what was tried", async () => {
  await withEnv("/nonexistent/kt-libpcap.so", () => {
    deepStrictEqual(pcapLibraryCandidates(), ["/nonexistent/kt-libpcap.so"], "override");
    let err: unknown;
    try {
      acquirePcap();
    } catch (e) {
      err = e;
    }
    ok(err instanceof PcapError, `expected a PcapError, got ${err}`);
    match(err.message, /^Cannot load libpcap: tried "\/nonexistent\/kt-libpcap\.so" \((.+)\)$/);
  });
});

Deno.test("acquirePcap: a library without libpcap's symbols is rejected with its name", async () => {
  await withEnv("libc.so.6", () => {
    let msg = "";
    try {
      acquirePcap();
    } catch (e) {
      msg = e instanceof PcapError ? e.message : "";
    }
    match(msg, /^Cannot load libpcap: tried "libc\.so\.6" \(/);
  });
});

Deno.test("acquirePcap/releasePcap: reference counted, closed by the last release", () => {
  const a = acquirePcap();
  const b = acquirePcap();
  strictEqual(a, b, "one library for both users");
  releasePcap();
  match(libVersion(a), /^libpcap version /, "still open after one release");
  releasePcap(); // the resource sanitizer fails the test if the library stayed open
});

Deno.test("findAllDevs: lists lo as an up loopback with 127.0.0.1, and any", () => {
  const devs = withPcap(findAllDevs);
  const lo = devs.find((d) => d.name === "lo");
  ok(lo !== undefined, `no lo in ${devs.map((d) => d.name)}`);
  deepStrictEqual((lo.flags & (PCAP_IF_LOOPBACK | PCAP_IF_UP)) !== 0, true, "flags");
  deepStrictEqual(
    lo.addresses.some((a) => a.family === 4 && a.bytes.join(".") === "127.0.0.1"),
    true,
    "127.0.0.1",
  );
  deepStrictEqual(devs.some((d) => d.name === "any"), true, "any listed");
});

Deno.test("linkTypeName: libpcap's names for the link types knocktool decodes", () => {
  const names = withPcap((p) =>
    [DLT.EN10MB, DLT.LINUX_SLL, DLT.LINUX_SLL2, DLT.RAW, 99999].map((d) => linkTypeName(p, d))
  );
  deepStrictEqual(names, ["EN10MB", "LINUX_SLL", "LINUX_SLL2", "RAW", "99999"], "names");
});
