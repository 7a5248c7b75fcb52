import { deepStrictEqual } from "node:assert/strict";
import { main } from "../main.ts";
import { captureIo } from "../src/util/io.ts";
import type { InterfaceInfo } from "../src/cli/interfaces.ts";
import { canUseNetns, ignoreUnlessCi, Netns } from "../testing/netns.ts";

const ignore = ignoreUnlessCi(await canUseNetns());

/** Runs `fn` with the JS thread (where sync FFI calls run) inside `ns`. */
async function inNetns<T>(ns: Netns, fn: () => Promise<T>): Promise<T> {
  const libc = Deno.dlopen("libc.so.6", {
    open: { parameters: ["buffer", "i32"], result: "i32" },
    setns: { parameters: ["i32", "i32"], result: "i32" },
    close: { parameters: ["i32"], result: "i32" },
  });
  const path = (s: string) => new TextEncoder().encode(s + "\0");
  const orig = libc.symbols.open(path("/proc/self/ns/net"), 0x80000);
  const target = libc.symbols.open(path(`/run/netns/${ns.name}`), 0x80000);
  try {
    if (orig < 0 || target < 0 || libc.symbols.setns(target, 0x40000000) !== 0) {
      throw new Error(`Cannot enter namespace "${ns.name}"`);
    }
    let out: T;
    try {
      out = await fn();
    } catch (e) {
      libc.symbols.setns(orig, 0x40000000);
      throw e;
    }
    if (libc.symbols.setns(orig, 0x40000000) !== 0) {
      throw new Error("Cannot return to the original network namespace");
    }
    return out;
  } finally {
    if (orig >= 0) libc.symbols.close(orig);
    if (target >= 0) libc.symbols.close(target);
    libc.close();
  }
}

Deno.test({
  name: "interfaces: table and JSON list link type, flags and addresses",
  ignore,
  async fn() {
    const ns = await Netns.create("ifl");
    try {
      await ns.exec(["ip", "link", "add", "ktifa", "type", "veth", "peer", "name", "ktifb"]);
      await ns.exec(["sysctl", "-q", "-w", "net.ipv6.conf.ktifa.disable_ipv6=1"]);
      await ns.addAddress("ktifa", "198.51.100.1/24");
      await ns.addAddress("ktifa", "192.0.2.1/24");
      await ns.exec(["ip", "link", "set", "ktifb", "up"]);
      await ns.exec(["ip", "link", "set", "ktifa", "up"]);
      const text = captureIo();
      const json = captureIo();
      const [s1, s2] = await inNetns(ns, async () => [
        await main(["interfaces"], text),
        await main(["interfaces", "--json"], json),
      ]);
      deepStrictEqual([s1, s2], [0, 0], "exit statuses");
      const lines = text.out.split("\n");
      deepStrictEqual(
        lines[0]?.split(/\s+/),
        ["NAME", "LINK", "TYPE", "FLAGS", "ADDRESSES"],
        "header",
      );
      const row = (name: string) => lines.find((l) => l.startsWith(name + " "))?.split(/\s{2,}/);
      deepStrictEqual(
        row("lo"),
        ["lo", "EN10MB", "up,running,loopback", "127.0.0.1 ::1"],
        "lo row",
      );
      deepStrictEqual(
        row("ktifa"),
        ["ktifa", "EN10MB", "up,running,connected", "198.51.100.1 192.0.2.1"],
        "veth row",
      );
      deepStrictEqual(
        row("any"),
        ["any", "LINUX_SLL", "up,running", "(every interface's)"],
        "any row",
      );
      const list = JSON.parse(json.out) as InterfaceInfo[];
      const veth = list.find((i) => i.name === "ktifa");
      deepStrictEqual(veth, {
        name: "ktifa",
        description: "",
        flags: ["up", "running", "connected"],
        addresses: { v4: ["198.51.100.1", "192.0.2.1"], v6: [] },
        linkType: 1,
        linkTypeName: "EN10MB",
      }, "veth entry");
      deepStrictEqual(text.err, "", "no errors for up interfaces");
    } finally {
      await ns.destroy();
    }
  },
});

Deno.test("interfaces: a libpcap that cannot load is reported with exit status 1", async () => {
  const before = Deno.env.get("KNOCKTOOL_LIBPCAP");
  Deno.env.set("KNOCKTOOL_LIBPCAP", "/nonexistent/kt-libpcap.so");
  try {
    const io = captureIo();
    deepStrictEqual(await main(["interfaces"], io), 1, "status");
    deepStrictEqual(io.out, "", "stdout");
    deepStrictEqual(
      io.err,
      'Cannot load libpcap: tried "/nonexistent/kt-libpcap.so" (/nonexistent/kt-libpcap.so: cannot open shared object file: No such file or directory)\n',
      "stderr",
    );
  } finally {
    if (before === undefined) Deno.env.delete("KNOCKTOOL_LIBPCAP");
    else Deno.env.set("KNOCKTOOL_LIBPCAP", before);
  }
});
