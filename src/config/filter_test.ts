// Over 400 lines: the filter tables for every link type and door mix, compiled with libpcap.
import assert from "node:assert/strict";
import { captureFilter, captureFilters, knockdFilter, MAX_PORT_TERMS } from "./filter.ts";
import { parseConfig } from "./parse.ts";
import type { Door } from "./model.ts";
import { DLT } from "../../ffi/dlt.ts";
import { compileFilter, withPcap } from "../../ffi/libpcap.ts";

function doors(text: string): readonly Door[] {
  const r = parseConfig(text);
  assert(r.ok, r.ok ? "" : r.error.message);
  return r.config.doors;
}

const GDB_CONFIG = "[openSSH]\nsequence = 7000,8000,9000\ntcpflags = syn\n" +
  "[mixed]\nsequence = 2222:udp,3333:tcp,4444:udp\ntcpflags = syn,!ack\n";
const LO = { v4: ["127.0.0.1"], v6: ["::1"] };

/** Compiles an expression with tcpdump (libpcap), as serve would; returns tcpdump's stderr on failure. */
function compiles(expr: string): string | true {
  const out = new Deno.Command("tcpdump", {
    args: ["-i", "lo", "-d", expr],
    stdout: "null",
    stderr: "piped",
  }).outputSync();
  return out.success || new TextDecoder().decode(out.stderr);
}

const haveTcpdump = (() => {
  try {
    return new Deno.Command("tcpdump", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

Deno.test("knockdFilter reproduces the string knockd 0.8 passed to pcap_compile (gdb capture)", () => {
  assert.equal(
    knockdFilter(doors(GDB_CONFIG), LO, false),
    "((dst host 127.0.0.1) and (((tcp dst port 7000 or 8000 or 9000) and tcp[tcpflags] & tcp-syn != 0))) or ((dst host ::1) and (((tcp dst port 7000 or 8000 or 9000) and ip6[13+40] & tcp-syn != 0))) or ((dst host 127.0.0.1) and (((tcp dst port 3333) and tcp[tcpflags] & tcp-syn != 0 and tcp[tcpflags] & tcp-ack == 0) or (udp dst port 2222 or 4444))) or ((dst host ::1) and (((tcp dst port 3333) and ip6[13+40] & tcp-syn != 0 and ip6[13+40] & tcp-ack == 0) or (udp dst port 2222 or 4444)))",
  );
});

Deno.test("knockdFilter: UDP-only door, target repeated per local address, -4, no addresses", () => {
  assert.equal(
    knockdFilter(doors("[mc]\nsequence=19132:udp\n"), { v4: ["127.0.0.1"], v6: [] }, false),
    "((dst host 127.0.0.1) and ((udp dst port 19132)))",
  );
  const t = doors("[t]\nsequence=7000\ntarget=127.0.0.2\n");
  assert.equal(
    knockdFilter(t, { v4: ["192.0.2.1", "192.0.2.2"], v6: ["::1"] }, false),
    "((dst host 127.0.0.2 or dst host 127.0.0.2) and (((tcp dst port 7000)))) or " +
      "((dst host 127.0.0.2) and (((tcp dst port 7000))))",
  );
  assert.equal(
    knockdFilter(t, LO, true),
    "((dst host 127.0.0.2) and (((tcp dst port 7000))))",
  );
  assert.equal(knockdFilter(t, { v4: [], v6: [] }, false), "");
  assert.equal(knockdFilter([], LO, false), "");
});

Deno.test("knockdFilter: ports in sequence order, not de-duplicated; every flag in knockd order", () => {
  const d = doors("[a]\nsequence=7000,7000,8000,0\ntcpflags=urg,!ack,psh\ntcpflags=!psh,fin,rst\n");
  assert.equal(
    knockdFilter(d, { v4: ["10.0.0.1"], v6: [] }, false),
    "((dst host 10.0.0.1) and (((tcp dst port 7000 or 7000 or 8000 or 0) and " +
      "tcp[tcpflags] & tcp-fin != 0 and tcp[tcpflags] & tcp-rst != 0 and " +
      "tcp[tcpflags] & tcp-push == 0 and tcp[tcpflags] & tcp-ack == 0 and " +
      "tcp[tcpflags] & tcp-urg != 0)))",
  );
});

Deno.test("captureFilter: one address list, the port union, VLAN variants only on Ethernet", () => {
  const ext = "(ip6 and (dst host ::1) and not (ip6[6] == 6 or ip6[6] == 17 or ip6[6] == 58))";
  // Ports sorted per protocol; ranges only appear beyond MAX_PORT_TERMS.
  const f = captureFilter(doors(GDB_CONFIG), LO, false, 113);
  assert.equal(
    f,
    "((dst host 127.0.0.1 or dst host ::1) and (tcp dst port 3333 or tcp dst port 7000 or " +
      "tcp dst port 8000 or tcp dst port 9000 or udp dst port 2222 or udp dst port 4444)) or " +
      ext,
  );
  const e = captureFilter(doors(GDB_CONFIG), LO, false);
  assert.equal(e, `(${f}) or (vlan and ((${f}) or (vlan and (${f}))))`);
  for (const linkType of [0, 12, 113, 276]) {
    assert.equal(captureFilter(doors(GDB_CONFIG), LO, false, linkType), f, `link type ${linkType}`);
  }
  assert.equal(
    captureFilter(doors(GDB_CONFIG), LO, true, 12),
    "(dst host 127.0.0.1) and (tcp dst port 3333 or tcp dst port 7000 or tcp dst port 8000 or " +
      "tcp dst port 9000 or udp dst port 2222 or udp dst port 4444)",
  );
  assert.equal(captureFilter([], LO, false), "");
  // No address of an admitted family: knockd installs no filter, and the matcher admits all.
  assert.equal(captureFilter(doors(GDB_CONFIG), { v4: [], v6: [] }, false), "");
  assert.equal(captureFilter(doors(GDB_CONFIG), { v4: [], v6: ["::1"] }, true), "");
});

Deno.test("captureFilters: coarser candidates; ports and addresses widened beyond the caps", () => {
  const c = captureFilters(doors(GDB_CONFIG), LO, false, 12);
  assert.deepEqual(c.map((x) => x.level), ["ports", "hosts", "ip"]);
  assert.equal(c[1]?.text, "(dst host 127.0.0.1 or dst host ::1)");
  assert.equal(c[2]?.text, "ip or ip6");
  // 40 scattered TCP ports: the 31 widest gaps stay, the smallest are closed into ranges.
  const ports = Array.from({ length: 40 }, (_, i) => 1000 + i * 10 + (i % 2));
  const many = doors(
    `[m]\nsequence=${ports.slice(0, 32).join(",")}\n[n]\nsequence=${ports.slice(32).join(",")}\n`,
  );
  const text = captureFilter(many, LO, true, 12);
  const terms = text.match(/tcp dst port(range)? [\d-]+/g) ?? [];
  assert.equal(terms.length, MAX_PORT_TERMS, text);
  for (const p of ports) {
    assert(
      terms.some((t) => {
        const [a, b] = t.split(" ").at(-1)!.split("-").map(Number);
        return p >= a! && p <= (b ?? a!);
      }),
      `port ${p} is covered`,
    );
  }
  // 300 targets: widened to /24 networks (2 of them), each target inside one.
  let cfg = "";
  for (let i = 0; i < 300; i++) cfg += `[t${i}]\nsequence=1\ntarget=198.51.${i >> 8}.${i & 255}\n`;
  assert.equal(
    captureFilters(doors(cfg), LO, true, 12)[1]?.text,
    "(dst net 198.51.0.0/24 or dst net 198.51.1.0/24)",
  );
  // A door without Target adds the local addresses.
  assert.equal(
    captureFilters(doors(cfg + "[l]\nsequence=2\n"), LO, true, 12)[1]?.text,
    "(dst net 198.51.0.0/24 or dst net 198.51.1.0/24 or dst net 127.0.0.0/24)",
  );
});

Deno.test("captureFilter canonicalises targets and leaves out doors whose target is no IP", () => {
  const d = doors("[a]\nsequence=1\ntarget=2001:DB8:0::1\n[b]\nsequence=2\ntarget=not..valid\n");
  const f = captureFilter(d, { v4: ["192.0.2.1"], v6: ["2001:db8::2"] }, false);
  assert(f.includes("dst host 2001:db8::1"), f);
  assert(!f.includes("not..valid"), f);
  assert(!f.includes("port 2"), f);
});

Deno.test({
  name: "every generated expression compiles with libpcap (tcpdump -d)",
  ignore: !haveTcpdump && Deno.env.get("CI") !== "true",
  fn() {
    assert(haveTcpdump, "tcpdump is missing");
    const cases = [
      doors(GDB_CONFIG),
      doors("[mc]\nsequence=19132:udp\n"),
      doors("[t]\nsequence=7000,8000:udp\ntarget=127.0.0.2\ntcpflags=fin,syn,rst,psh,ack,urg\n"),
      doors("[t6]\nsequence=1,2,3\ntarget=::1\ntcpflags=!syn\n[x]\nsequence=4:udp\n"),
    ];
    const addrSets = [LO, { v4: ["192.0.2.1", "192.0.2.7"], v6: ["2001:db8::1", "fe80::1"] }];
    for (const ds of cases) {
      for (const a of addrSets) {
        for (const v4only of [false, true]) {
          for (const expr of [knockdFilter(ds, a, v4only), captureFilter(ds, a, v4only)]) {
            assert.equal(compiles(expr), true, expr);
          }
        }
      }
    }
    // The check has teeth: a broken expression does not compile.
    assert.notEqual(compiles("((dst host 127.0.0.1) and ("), true);
  },
});

Deno.test({
  name: "filters select the right frames of a pcap file (tcpdump -r): VLAN and extension headers",
  ignore: !haveTcpdump && Deno.env.get("CI") !== "true",
  async fn() {
    assert(haveTcpdump, "tcpdump is missing");
    const { buildEthernet, buildIp, TCP_FLAGS } = await import("../wire/build.ts");
    const { writePcap } = await import("../wire/pcapfile.ts");
    const addrs = { v4: ["192.0.2.1"], v6: ["2001:db8::1"] };
    const v4 = (
      dst: string,
      port: number,
      flags: number = TCP_FLAGS.SYN,
      protocol: "tcp" | "udp" = "tcp",
    ) =>
      buildIp({
        family: 4,
        src: "198.51.100.7",
        dst,
        protocol,
        srcPort: 40000,
        dstPort: port,
        tcpFlags: flags,
      });
    const v6 = (dst: string, port: number) =>
      buildIp({
        family: 6,
        src: "2001:db8::7",
        dst,
        protocol: "tcp",
        srcPort: 40000,
        dstPort: port,
      });
    /** Inserts an 8-byte hop-by-hop header (PadN) between the IPv6 header and TCP. */
    const withHopByHop = (p: Uint8Array) => {
      const out = new Uint8Array(p.length + 8);
      out.set(p.subarray(0, 40));
      out.set([p[6]!, 0, 1, 4, 0, 0, 0, 0], 40);
      out.set(p.subarray(40), 48);
      out[6] = 0;
      new DataView(out.buffer).setUint16(4, p.length - 40 + 8);
      return out;
    };
    const frames: [string, Uint8Array, boolean, boolean][] = [
      // name, frame, knockd filter admits it, capture filter admits it (frame i has timestamp i + 1 s)
      ["v4 SYN to a door port", buildEthernet(v4("192.0.2.1", 7000), 4), true, true],
      ["v4 SYN to another port", buildEthernet(v4("192.0.2.1", 7001), 4), false, false],
      // TCP flags are left to the matcher's exact pre-filter.
      [
        "v4 ACK to a door port",
        buildEthernet(v4("192.0.2.1", 7000, TCP_FLAGS.ACK), 4),
        false,
        true,
      ],
      ["v4 SYN to another host", buildEthernet(v4("192.0.2.9", 7000), 4), false, false],
      ["v4 UDP to a door port", buildEthernet(v4("192.0.2.1", 2222, 0, "udp"), 4), true, true],
      ["802.1Q v4 SYN", buildEthernet(v4("192.0.2.1", 7000), 4, { vlan: [100] }), false, true],
      [
        "802.1ad+Q v4 SYN",
        buildEthernet(v4("192.0.2.1", 7000), 4, { vlan: [100, 200] }),
        false,
        true,
      ],
      [
        "802.1Q v4 SYN to another port",
        buildEthernet(v4("192.0.2.1", 7001), 4, { vlan: [100] }),
        false,
        false,
      ],
      ["v6 SYN to a door port", buildEthernet(v6("2001:db8::1", 7000), 6), true, true],
      ["v6 hop-by-hop SYN", buildEthernet(withHopByHop(v6("2001:db8::1", 7000)), 6), false, true],
      [
        "v6 hop-by-hop to another host",
        buildEthernet(withHopByHop(v6("2001:db8::9", 7000)), 6),
        false,
        false,
      ],
      ["802.1Q v6 SYN", buildEthernet(v6("2001:db8::1", 7000), 6, { vlan: [7] }), false, true],
    ];
    const dir = Deno.makeTempDirSync({ prefix: "kt-filter-" });
    try {
      const file = `${dir}/f.pcap`;
      Deno.writeFileSync(
        file,
        writePcap(1, frames.map(([, data], i) => ({ tsSec: i + 1, tsUsec: 0, data }))),
      );
      const matched = (expr: string): Set<number> => {
        const out = new Deno.Command("tcpdump", {
          args: ["-nn", "-tt", "-r", file, expr],
          stdout: "piped",
          stderr: "piped",
        }).outputSync();
        assert(out.success, new TextDecoder().decode(out.stderr));
        return new Set(
          new TextDecoder().decode(out.stdout).split("\n").filter((l) => l !== "").map((l) =>
            parseInt(l)
          ),
        );
      };
      const ds = doors(GDB_CONFIG);
      const byKnockd = matched(knockdFilter(ds, addrs, false));
      const byCapture = matched(captureFilter(ds, addrs, false));
      frames.forEach(([name, , k, c], i) => {
        assert.equal(byKnockd.has(i + 1), k, `knockdFilter, ${name}`);
        assert.equal(byCapture.has(i + 1), c, `captureFilter, ${name}`);
      });
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

/** Config text: `n` doors of `ports` knocks each (alternating TCP/UDP), optionally with Targets. */
function bigConfig(n: number, ports: number, targets: boolean): string {
  let s = "";
  for (let d = 0; d < n; d++) {
    const seq = Array.from(
      { length: ports },
      (_, i) => `${1000 + d * 10 + i}:${i % 2 ? "udp" : "tcp"}`,
    );
    s += `[door${d}]\nsequence = ${seq.join(",")}\ntcpflags = syn\n`;
    if (targets) {
      s += `target = ${d % 2 ? `2001:db8:${d.toString(16)}::1` : `10.${d >> 8}.${d & 255}.1`}\n`;
    }
  }
  return s;
}

Deno.test({
  name:
    "captureFilter compiles through libpcap for EN10MB, LINUX_SLL, LINUX_SLL2, RAW and NULL within 4096 instructions",
  ignore: Deno.env.get("CI") !== "true" && !(() => {
    try {
      withPcap(() => {});
      return true;
    } catch {
      return false;
    }
  })(),
  fn() {
    const addrs = { v4: ["192.0.2.1", "192.0.2.7"], v6: ["2001:db8::1", "fe80::1"] };
    const configs: [string, readonly Door[]][] = [
      ["gdb", doors(GDB_CONFIG)],
      ["15x3", doors(bigConfig(15, 3, false))],
      ["30x8", doors(bigConfig(30, 8, false))],
      ["200x8", doors(bigConfig(200, 8, false))],
      ["2000x8 with targets", doors(bigConfig(2000, 8, true))],
    ];
    withPcap((p) => {
      for (const linkType of [DLT.EN10MB, DLT.LINUX_SLL, DLT.LINUX_SLL2, DLT.RAW, DLT.NULL]) {
        for (const [name, ds] of configs) {
          for (const v4only of [false, true]) {
            for (const c of captureFilters(ds, addrs, v4only, linkType)) {
              const r = compileFilter(p, linkType, c.text);
              const what = `${name}, link type ${linkType}, -4 ${v4only}, ${c.level}`;
              assert(r.ok, `${what}: ${r.ok || r.error}`);
              assert(r.instructions <= 4096, `${what}: ${r.instructions} instructions`);
            }
          }
        }
      }
      // The check has teeth: VLAN on a cooked capture and an oversized program are caught.
      assert.equal(compileFilter(p, DLT.LINUX_SLL, "vlan and ip").ok, false);
      const huge = compileFilter(
        p,
        DLT.RAW,
        knockdFilter(doors(bigConfig(200, 8, false)), addrs, false),
      );
      assert(huge.ok && huge.instructions > 4096, "knockd's own filter for 200 doors is too big");
    });
  },
});

Deno.test({
  name: "filters select the right packets on SLL, SLL2, RAW and NULL captures (tcpdump -r)",
  ignore: !haveTcpdump && Deno.env.get("CI") !== "true",
  async fn() {
    assert(haveTcpdump, "tcpdump is missing");
    const { buildIp, buildLinuxSll, buildLinuxSll2, buildNull } = await import("../wire/build.ts");
    const { writePcap } = await import("../wire/pcapfile.ts");
    const addrs = { v4: ["192.0.2.1"], v6: ["2001:db8::1"] };
    const ip = (family: 4 | 6, dst: string, port: number, protocol: "tcp" | "udp" = "tcp") =>
      buildIp({
        family,
        src: family === 4 ? "198.51.100.7" : "2001:db8::7",
        dst,
        protocol,
        srcPort: 40000,
        dstPort: port,
      });
    const hopByHop = (p: Uint8Array) => {
      const out = new Uint8Array(p.length + 8);
      out.set(p.subarray(0, 40));
      out.set([p[6]!, 0, 1, 4, 0, 0, 0, 0], 40);
      out.set(p.subarray(40), 48);
      out[6] = 0;
      new DataView(out.buffer).setUint16(4, p.length - 40 + 8);
      return out;
    };
    const packets: [string, 4 | 6, Uint8Array, boolean, boolean][] = [
      // name, family, IP packet, knockd filter admits it, capture filter admits it
      ["v4 to a door port", 4, ip(4, "192.0.2.1", 7000), true, true],
      ["v4 UDP to a door port", 4, ip(4, "192.0.2.1", 2222, "udp"), true, true],
      ["v4 to another port", 4, ip(4, "192.0.2.1", 7001), false, false],
      ["v4 to another host", 4, ip(4, "192.0.2.9", 7000), false, false],
      ["v6 to a door port", 6, ip(6, "2001:db8::1", 8000), true, true],
      ["v6 to another port", 6, ip(6, "2001:db8::1", 8001), false, false],
      ["v6 hop-by-hop", 6, hopByHop(ip(6, "2001:db8::1", 9000)), false, true],
      ["v6 hop-by-hop to another host", 6, hopByHop(ip(6, "2001:db8::9", 9000)), false, false],
    ];
    const wrap: [number, (p: Uint8Array, f: 4 | 6) => Uint8Array][] = [
      [DLT.LINUX_SLL, buildLinuxSll],
      [DLT.LINUX_SLL2, (p, f) => buildLinuxSll2(p, f)],
      [DLT.RAW, (p) => p],
      [DLT.NULL, (p, f) => buildNull(p, f)],
    ];
    const dir = Deno.makeTempDirSync({ prefix: "kt-filter-lt-" });
    try {
      for (const [linkType, frame] of wrap) {
        const file = `${dir}/${linkType}.pcap`;
        Deno.writeFileSync(
          file,
          writePcap(
            linkType,
            packets.map(([, f, p], i) => ({ tsSec: i + 1, tsUsec: 0, data: frame(p, f) })),
          ),
        );
        const matched = (expr: string): Set<number> => {
          const out = new Deno.Command("tcpdump", {
            args: ["-nn", "-tt", "-r", file, expr],
            stdout: "piped",
            stderr: "piped",
          }).outputSync();
          assert(out.success, `${linkType}: ${new TextDecoder().decode(out.stderr)}`);
          return new Set(
            new TextDecoder().decode(out.stdout).split("\n").filter((l) => l !== "").map((l) =>
              parseInt(l)
            ),
          );
        };
        const ds = doors(GDB_CONFIG);
        const byKnockd = matched(knockdFilter(ds, addrs, false));
        const byCapture = matched(captureFilter(ds, addrs, false, linkType));
        packets.forEach(([name, , , k, c], i) => {
          assert.equal(byKnockd.has(i + 1), k, `knockdFilter, link type ${linkType}, ${name}`);
          assert.equal(byCapture.has(i + 1), c, `captureFilter, link type ${linkType}, ${name}`);
        });
      }
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "captureFilter checks TCP flags when every TCP door demands the same (tcpdump -r)",
  ignore: !haveTcpdump && Deno.env.get("CI") !== "true",
  async fn() {
    assert(haveTcpdump, "tcpdump is missing");
    const { buildEthernet, buildIp, TCP_FLAGS } = await import("../wire/build.ts");
    const { writePcap } = await import("../wire/pcapfile.ts");
    const same = doors(
      "[a]\nsequence=7000,8000:udp\ntcpflags=syn,!ack\n[b]\nsequence=9000\ntcpflags=!ack,syn\n[u]\nsequence=2222:udp\n",
    );
    const addrs = { v4: ["192.0.2.1"], v6: ["2001:db8::1"] };
    const f = captureFilter(same, addrs, false, DLT.RAW);
    assert(
      f.includes(
        "(tcp dst port 7000 or tcp dst port 9000) and ((ip and tcp[tcpflags] & 18 == 2) or (ip6 and ip6[53] & 18 == 2))",
      ),
      f,
    );
    // Doors that disagree (or a TCP door without flags) leave the flags to the matcher.
    assert(!captureFilter(doors(GDB_CONFIG), addrs, false).includes("tcpflags"));
    assert(
      !captureFilter(doors("[a]\nsequence=1\ntcpflags=syn\n[b]\nsequence=2\n"), addrs, false)
        .includes("tcpflags"),
    );
    const tcp = (family: 4 | 6, flags: number) =>
      buildIp({
        family,
        src: family === 4 ? "198.51.100.7" : "2001:db8::7",
        dst: family === 4 ? "192.0.2.1" : "2001:db8::1",
        protocol: "tcp",
        srcPort: 40000,
        dstPort: 9000,
        tcpFlags: flags,
      });
    const hopByHop = (p: Uint8Array) => {
      const out = new Uint8Array(p.length + 8);
      out.set(p.subarray(0, 40));
      out.set([p[6]!, 0, 1, 4, 0, 0, 0, 0], 40);
      out.set(p.subarray(40), 48);
      out[6] = 0;
      new DataView(out.buffer).setUint16(4, p.length - 40 + 8);
      return out;
    };
    const { SYN, ACK } = TCP_FLAGS;
    const frames: [string, Uint8Array, boolean][] = [
      ["v4 SYN", buildEthernet(tcp(4, SYN), 4), true],
      ["v4 SYN+ACK", buildEthernet(tcp(4, SYN | ACK), 4), false],
      ["v4 ACK", buildEthernet(tcp(4, ACK), 4), false],
      ["v6 SYN", buildEthernet(tcp(6, SYN), 6), true],
      ["v6 ACK", buildEthernet(tcp(6, ACK), 6), false],
      ["v6 hop-by-hop ACK (the matcher decides)", buildEthernet(hopByHop(tcp(6, ACK)), 6), true],
      ["802.1Q v4 SYN", buildEthernet(tcp(4, SYN), 4, { vlan: [5] }), true],
      ["802.1Q v4 ACK", buildEthernet(tcp(4, ACK), 4, { vlan: [5] }), false],
      [
        "UDP door port",
        buildEthernet(
          buildIp({
            family: 4,
            src: "198.51.100.7",
            dst: "192.0.2.1",
            protocol: "udp",
            srcPort: 1,
            dstPort: 2222,
          }),
          4,
        ),
        true,
      ],
    ];
    const dir = Deno.makeTempDirSync({ prefix: "kt-filter-flags-" });
    try {
      const file = `${dir}/f.pcap`;
      Deno.writeFileSync(
        file,
        writePcap(1, frames.map(([, data], i) => ({ tsSec: i + 1, tsUsec: 0, data }))),
      );
      const out = new Deno.Command("tcpdump", {
        args: ["-nn", "-tt", "-r", file, captureFilter(same, addrs, false)],
        stdout: "piped",
        stderr: "piped",
      }).outputSync();
      assert(out.success, new TextDecoder().decode(out.stderr));
      const got = new Set(
        new TextDecoder().decode(out.stdout).split("\n").filter((l) => l !== "").map((l) =>
          parseInt(l)
        ),
      );
      frames.forEach(([name, , want], i) => assert.equal(got.has(i + 1), want, name));
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test("captureFilter leaves TCP flags to the matcher when a door has flag steps", () => {
  const addrs = { v4: ["192.0.2.1"], v6: [] };
  const flagged = doors(
    "[a]\nsequence=7000,8000\ntcpflags=syn\n[b]\nsequence=110:tcp:fin+psh+urg,110:tcp:none\ntcpflags=syn\n",
  );
  assert.equal(
    captureFilter(flagged, addrs, false, DLT.RAW),
    "(dst host 192.0.2.1) and (tcp dst port 110 or tcp dst port 7000 or tcp dst port 8000)",
  );
  // Without the flag steps, both doors demand SYN alike and the kernel checks it.
  const plain = doors("[a]\nsequence=7000,8000\ntcpflags=syn\n[b]\nsequence=110\ntcpflags=syn\n");
  assert.match(captureFilter(plain, addrs, false, DLT.RAW), /tcp\[tcpflags\] & 2 == 2/);
});
