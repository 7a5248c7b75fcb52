/**
 * Live capture (`src/server/capture_live.ts`) against real interfaces in network namespaces:
 * needs root (skipped outside CI without it, failed under `CI=true`).
 *
 * @module
 */
import { deepStrictEqual, ok } from "node:assert/strict";
import { CaptureControl, captureLive } from "../src/server/capture_live.ts";
import type { Frame, LocalAddresses, StatusLevel } from "../src/server/capture_events.ts";
import { PcapError } from "../ffi/libpcap.ts";
import { captureFilters } from "../src/config/filter.ts";
import { decodeFrame } from "../src/wire/decode.ts";
import { injectInNetns } from "../testing/inject.ts";
import { canUseNetns, ignoreUnlessCi, Netns, sleep, waitUntil } from "../testing/netns.ts";

const netnsOk = await canUseNetns();
const ignore = ignoreUnlessCi(netnsOk);

/** UDP/TCP destination port of an Ethernet + IPv4 frame. */
function dstPort(data: Uint8Array): number {
  const ihl = ((data[14] ?? 0) & 0x0f) * 4;
  return ((data[14 + ihl + 2] ?? 0) << 8) | (data[14 + ihl + 3] ?? 0);
}

const CLONE_NEWNET = 0x40000000;
const O_RDONLY_CLOEXEC = 0x80000;

/**
 * Runs `fn` with this thread (the JS thread, where every sync FFI call runs) inside namespace
 * `ns`, so the in-process capture opens and lists the namespace's interfaces; restores the
 * original namespace afterwards. Commands are still run with explicit `ip netns exec`.
 */
async function inNetns<T>(ns: Netns, fn: () => Promise<T>): Promise<T> {
  const libc = Deno.dlopen("libc.so.6", {
    open: { parameters: ["buffer", "i32"], result: "i32" },
    setns: { parameters: ["i32", "i32"], result: "i32" },
    close: { parameters: ["i32"], result: "i32" },
  });
  const path = (s: string) => new TextEncoder().encode(s + "\0");
  const orig = libc.symbols.open(path("/proc/self/ns/net"), O_RDONLY_CLOEXEC);
  const target = libc.symbols.open(path(`/run/netns/${ns.name}`), O_RDONLY_CLOEXEC);
  try {
    ok(orig >= 0 && target >= 0, "namespace files open");
    ok(libc.symbols.setns(target, CLONE_NEWNET) === 0, `setns into "${ns.name}"`);
    const back = () => {
      if (libc.symbols.setns(orig, CLONE_NEWNET) !== 0) {
        throw new Error("Cannot return to the original network namespace");
      }
    };
    let out: T;
    try {
      out = await fn();
    } catch (e) {
      back();
      throw e;
    }
    back();
    return out;
  } finally {
    if (orig >= 0) libc.symbols.close(orig);
    if (target >= 0) libc.symbols.close(target);
    libc.close();
  }
}

/** Records everything a capture reports. */
class Recorder {
  frames: { port: number; len: number; linkType: number; at: number }[] = [];
  statuses: { msg: string; level: string }[] = [];
  addresses: LocalAddresses[] = [];
  filters: LocalAddresses[] = [];
  events = {
    onFrame: (f: Frame) => {
      this.frames.push({
        port: dstPort(f.data),
        len: f.caplen,
        linkType: f.linkType,
        at: Date.now(),
      });
    },
    onStatus: (msg: string, level: StatusLevel) => {
      this.statuses.push({ msg, level });
    },
    onAddresses: (a: LocalAddresses) => {
      this.addresses.push(a);
    },
  };
  filter(text: string): (a: LocalAddresses) => string {
    return (a) => {
      this.filters.push(a);
      return text;
    };
  }
  count(prefix: string): number {
    return this.statuses.filter((s) => s.msg.startsWith(prefix)).length;
  }
}

Deno.test("captureLive: load error lists the library names tried", async () => {
  const before = Deno.env.get("KNOCKTOOL_LIBPCAP");
  Deno.env.set("KNOCKTOOL_LIBPCAP", "/nonexistent/kt-libpcap.so");
  try {
    const r = new Recorder();
    let error: unknown;
    try {
      await captureLive({ iface: "lo", filter: () => "" }, r.events, new AbortController().signal);
    } catch (e) {
      error = e;
    }
    ok(error instanceof PcapError, "a PcapError");
    ok(
      error.message.startsWith(`Cannot load libpcap: tried "/nonexistent/kt-libpcap.so" (`),
      `message names the library tried: ${error.message}`,
    );
  } finally {
    if (before === undefined) Deno.env.delete("KNOCKTOOL_LIBPCAP");
    else Deno.env.set("KNOCKTOOL_LIBPCAP", before);
  }
});

Deno.test({
  name:
    "captureLive: lo in a namespace delivers exactly the filtered frames; timers run while idle",
  ignore,
  async fn() {
    const ns = await Netns.create("cap");
    const ac = new AbortController();
    let done: Promise<void> | undefined;
    let interval: ReturnType<typeof setInterval> | undefined;
    try {
      const r = new Recorder();
      await inNetns(ns, async () => {
        done = captureLive(
          { iface: "lo", filter: r.filter("udp dst port 7001"), addressPollMs: 200 },
          r.events,
          ac.signal,
        );
        await waitUntil(() => r.count("Listening on") === 1, { what: "capture started" });
        // Idle second: timers must fire while the capture waits for packets.
        let ticks = 0;
        interval = setInterval(() => ticks++, 20);
        await sleep(1000);
        clearInterval(interval);
        interval = undefined;
        ok(ticks > 0, `timers fire during an idle capture (ticks ${ticks})`);
        deepStrictEqual(r.frames.length, 0, "no frames while idle");

        const frames = [
          ...[1, 2, 3, 4, 5].map(() => ({
            src: "127.0.0.71",
            dst: "127.0.0.1",
            proto: "udp" as const,
            port: 7001,
          })),
          ...[1, 2, 3].map(() => ({
            src: "127.0.0.71",
            dst: "127.0.0.1",
            proto: "udp" as const,
            port: 7002,
          })),
        ];
        deepStrictEqual(await injectInNetns(ns.name, { iface: "lo", frames }), 8, "frames sent");
        await waitUntil(() => r.frames.length >= 5, { what: "five frames" });
        await sleep(300); // anything extra would arrive within the 50 ms read timeout
        deepStrictEqual(r.frames.map((f) => f.port), [7001, 7001, 7001, 7001, 7001], "ports");
        deepStrictEqual(r.frames.map((f) => f.linkType), [1, 1, 1, 1, 1], "link types");
        deepStrictEqual(r.frames.map((f) => f.len), [42, 42, 42, 42, 42], "caplen of 14+20+8");
        deepStrictEqual(r.addresses, [{ v4: ["127.0.0.1"], v6: ["::1"] }], "addresses of lo");
        deepStrictEqual(r.filters, r.addresses, "filter built from the addresses");
        deepStrictEqual(r.statuses, [
          { msg: 'Listening on interface "lo" (link type EN10MB)', level: "info" },
        ], "statuses");
        ac.abort();
        await done;
      });
    } finally {
      if (interval !== undefined) clearInterval(interval);
      ac.abort();
      await done?.catch(() => {});
      await ns.destroy();
    }
  },
});

Deno.test({
  name: "captureLive: timers keep firing during a 50k-frame flood",
  ignore,
  async fn() {
    const ns = await Netns.create("capf");
    const ac = new AbortController();
    let done: Promise<void> | undefined;
    let interval: ReturnType<typeof setInterval> | undefined;
    try {
      const r = new Recorder();
      let received = 0;
      let first = 0;
      let last = 0;
      const ticks: number[] = [];
      await inNetns(ns, async () => {
        done = captureLive({ iface: "lo", filter: () => "udp dst port 7003" }, {
          ...r.events,
          onFrame: () => {
            const now = performance.now();
            if (received++ === 0) first = now;
            last = now;
          },
        }, ac.signal);
        await waitUntil(() => r.count("Listening on") === 1, { what: "capture started" });
        interval = setInterval(() => ticks.push(performance.now()), 2);
        const frame = { src: "127.0.0.72", dst: "127.0.0.1", proto: "udp" as const, port: 7003 };
        const sent = await injectInNetns(ns.name, { iface: "lo", frames: [frame], repeat: 50_000 });
        deepStrictEqual(sent, 50_000, "frames sent");
        await sleep(300);
        clearInterval(interval);
        interval = undefined;
        ac.abort();
        await done;
      });
      const during = ticks.filter((t) => t > first && t < last).length;
      ok(received > 0, "frames received");
      ok(received <= 50_000, `no more frames than sent (${received})`);
      // Ticks over the whole capture window (interval start to abort), not only between the
      // first and the last frame: how many land inside the flood depends on scheduling on a
      // loaded machine, while a capture that never yielded would leave none at all.
      ok(
        ticks.length > 0,
        `timer ticks during the capture (${ticks.length}, ${during} within the flood)`,
      );
      console.log(
        `flood: ${received} of 50000 frames, ${during} ticks during ${
          (last - first).toFixed(0)
        } ms`,
      );
    } finally {
      if (interval !== undefined) clearInterval(interval);
      ac.abort();
      await done?.catch(() => {});
      await ns.destroy();
    }
  },
});

Deno.test({
  name: "captureLive: waits for a down interface, follows addresses, survives deletion",
  ignore,
  async fn() {
    const ns = await Netns.create("capl");
    const ac = new AbortController();
    let done: Promise<void> | undefined;
    const a = "ktcapa";
    const b = "ktcapb";
    const mkPair = async () => {
      await ns.exec(["ip", "link", "add", a, "type", "veth", "peer", "name", b]);
      await ns.exec(["ip", "link", "set", b, "up"]);
    };
    const send = (port: number, n: number) =>
      injectInNetns(ns.name, {
        iface: b,
        frames: [{ src: "198.51.100.2", dst: "198.51.100.1", proto: "udp", port }],
        repeat: n,
      });
    try {
      const r = new Recorder();
      const control = new CaptureControl();
      await mkPair(); // `a` stays down for now
      await inNetns(ns, async () => {
        done = captureLive(
          {
            iface: a,
            filter: r.filter("udp dst port 7004"),
            retryMs: 200,
            addressPollMs: 200,
            control,
          },
          r.events,
          ac.signal,
        );
        await waitUntil(() => r.statuses.length >= 1, { what: "first status" });
        deepStrictEqual(r.statuses[0], {
          msg: `Cannot open interface "${a}", retrying every 0.2 s: ${a}: That device is not up`,
          level: "warning",
        }, "down at start");
        await ns.exec(["ip", "link", "set", a, "up"]);
        await waitUntil(() => r.count("Listening on") === 1, { what: "opened once up" });
        await send(7004, 3);
        await send(7005, 2);
        await waitUntil(() => r.frames.length >= 3, { what: "three frames" });

        await ns.exec(["ip", "addr", "add", "198.51.100.7/24", "dev", a]);
        await waitUntil(() => r.addresses.some((x) => x.v4.includes("198.51.100.7")), {
          what: "new address reported",
        });
        await waitUntil(() => r.filters.some((x) => x.v4.includes("198.51.100.7")), {
          what: "filter rebuilt for the new address",
        });
        const ll = r.addresses.at(-1)?.v6 ?? [];
        ok(ll.every((x) => !x.includes("%")), `no zone in link-local addresses: ${ll}`);

        const builds = r.filters.length;
        control.reinstallFilter();
        await waitUntil(() => r.filters.length > builds, { what: "filter re-installed on demand" });

        await ns.exec(["ip", "link", "del", a]);
        await waitUntil(() => r.count(`Lost interface "${a}", reopening: `) === 1, {
          what: "loss reported",
        });
        await waitUntil(
          () =>
            r.statuses.some((s) =>
              s.msg ===
                `Cannot open interface "${a}", retrying every 0.2 s: ${a}: No such device exists (No such device exists)`
            ),
          { what: "missing interface reported" },
        );
        await mkPair();
        await ns.exec(["ip", "link", "set", a, "up"]);
        await waitUntil(() => r.count("Listening on") === 2, { what: "reopened" });
        deepStrictEqual(
          r.statuses.filter((s) => s.msg.startsWith("Listening on")).map((s) => s.level),
          ["notice", "notice"],
          "opening once the interface is up, and reopening after its loss, follow warnings: notices",
        );
        await send(7004, 3);
        await waitUntil(() => r.frames.length >= 6, { what: "frames after the reopen" });
        await sleep(200);
        deepStrictEqual(r.frames.map((f) => f.port), [7004, 7004, 7004, 7004, 7004, 7004], "ports");
        deepStrictEqual(control.stats().frames, 6, "frames counted");
        deepStrictEqual(control.stats().opens, 2, "opens counted");
        ac.abort();
        await done;
      });
      ok(!r.statuses.some((s) => s.level === "error"), JSON.stringify(r.statuses));
    } finally {
      ac.abort();
      await done?.catch(() => {});
      await ns.destroy();
    }
  },
});

Deno.test({
  name: "captureLive: -i any captures with a cooked link type and the union of addresses",
  ignore,
  async fn() {
    const ns = await Netns.create("capa");
    const ac = new AbortController();
    let done: Promise<void> | undefined;
    try {
      const r = new Recorder();
      await ns.addAddress("lo", "127.0.0.9/8");
      await inNetns(ns, async () => {
        done = captureLive(
          { iface: "any", filter: r.filter("udp port 7006") },
          r.events,
          ac.signal,
        );
        await waitUntil(() => r.count("Listening on") === 1, { what: "capture started" });
        await injectInNetns(ns.name, {
          iface: "lo",
          frames: [{ src: "127.0.0.73", dst: "127.0.0.1", proto: "udp", port: 7006 }],
        });
        await waitUntil(() => r.frames.length >= 1, { what: "a frame" });
        ac.abort();
        await done;
      });
      const lt = r.frames[0]?.linkType;
      ok(lt === 113 || lt === 276, `LINUX_SLL or SLL2 (got ${lt})`);
      deepStrictEqual(r.addresses, [{ v4: ["127.0.0.9", "127.0.0.1"], v6: ["::1"] }], "union");
    } finally {
      ac.abort();
      await done?.catch(() => {});
      await ns.destroy();
    }
  },
});

Deno.test({
  name: "captureLive: immediate mode (pcap_create … pcap_activate) delivers frames",
  ignore,
  async fn() {
    const ns = await Netns.create("capi");
    const ac = new AbortController();
    let done: Promise<void> | undefined;
    try {
      const r = new Recorder();
      await inNetns(ns, async () => {
        done = captureLive(
          { iface: "lo", immediate: true, snaplen: 128, filter: r.filter("udp dst port 7007") },
          r.events,
          ac.signal,
        );
        await waitUntil(() => r.count("Listening on") === 1, { what: "capture started" });
        const frame = { src: "127.0.0.75", dst: "127.0.0.1", proto: "udp" as const, port: 7007 };
        await injectInNetns(ns.name, {
          iface: "lo",
          frames: [frame, { ...frame, port: 7008 }, frame],
        });
        await waitUntil(() => r.frames.length >= 2, { what: "two frames" });
        await sleep(200);
        ac.abort();
        await done;
      });
      deepStrictEqual(r.frames.map((f) => f.port), [7007, 7007], "ports");
    } finally {
      ac.abort();
      await done?.catch(() => {});
      await ns.destroy();
    }
  },
});

Deno.test({
  name: "captureLive: the capture socket is not inherited by child processes (FD_CLOEXEC)",
  ignore,
  async fn() {
    const ns = await Netns.create("capx");
    const ac = new AbortController();
    let done: Promise<void> | undefined;
    try {
      const r = new Recorder();
      let links: string[] = [];
      await inNetns(ns, async () => {
        done = captureLive({ iface: "lo", filter: r.filter("udp port 7009") }, r.events, ac.signal);
        await waitUntil(() => r.count("Listening on") === 1, { what: "capture started" });
        const out = await new Deno.Command("sh", {
          args: ["-c", 'for f in /proc/self/fd/*; do readlink "$f"; done'],
          stdout: "piped",
        }).output();
        links = new TextDecoder().decode(out.stdout).split("\n");
        ac.abort();
        await done;
      });
      const leaked = links.filter((l) => l.startsWith("socket:") || l.startsWith("anon_inode:"));
      deepStrictEqual(leaked, [], "descriptors a child inherits");
    } finally {
      ac.abort();
      await done?.catch(() => {});
      await ns.destroy();
    }
  },
});

Deno.test({
  name: "captureLive: a filter libpcap rejects is reported with libpcap's text; capture goes on",
  ignore,
  async fn() {
    const ns = await Netns.create("capb");
    const ac = new AbortController();
    let done: Promise<void> | undefined;
    try {
      const r = new Recorder();
      await inNetns(ns, async () => {
        done = captureLive({ iface: "lo", filter: r.filter("udp port") }, r.events, ac.signal);
        await waitUntil(() => r.count("Listening on") === 1, { what: "capture started" });
        ac.abort();
        await done;
      });
      deepStrictEqual(r.statuses, [
        {
          msg:
            `Cannot compile filter "udp port" for interface "lo": can't parse filter expression: syntax error`,
          level: "error",
        },
        { msg: 'Listening on interface "lo" (link type EN10MB)', level: "info" },
      ], "statuses");
    } finally {
      ac.abort();
      await done?.catch(() => {});
      await ns.destroy();
    }
  },
});

Deno.test({
  name:
    "captureLive: -i any installs the link-type-specific capture filter (no VLAN), falling back once with a warning",
  ignore,
  async fn() {
    const ns = await Netns.create("capf");
    const ac = new AbortController();
    let done: Promise<void> | undefined;
    try {
      const r = new Recorder();
      const door = {
        name: "d",
        line: 1,
        sequence: [{ port: 7010, protocol: "udp" as const }],
        seqTimeout: 25,
        cmdTimeout: 10,
        tcpFlags: {},
      };
      const linkTypes: number[] = [];
      const ports: number[] = [];
      const events = {
        ...r.events,
        onFrame: (f: Frame) => {
          r.events.onFrame(f);
          const d = decodeFrame(f.linkType, f.data, f.wireLen, f.tsSec, f.tsUsec);
          ports.push(d.ok ? d.packet.dstPort : -1);
        },
      };
      const control = new CaptureControl();
      await inNetns(ns, async () => {
        done = captureLive(
          {
            iface: "any",
            control,
            // A first candidate libpcap rejects, then the real capture filter for the link type.
            filter: (a, linkType) => {
              linkTypes.push(linkType);
              return ["udp port", ...captureFilters([door], a, false, linkType).map((c) => c.text)];
            },
          },
          events,
          ac.signal,
        );
        await waitUntil(() => r.count("Listening on") === 1, { what: "capture started" });
        await injectInNetns(ns.name, {
          iface: "lo",
          frames: [
            { src: "127.0.0.73", dst: "127.0.0.1", proto: "udp", port: 7011 },
            { src: "127.0.0.73", dst: "127.0.0.1", proto: "udp", port: 7010 },
          ],
        });
        await waitUntil(() => r.frames.length >= 1, { what: "a frame" });
        await sleep(200);
        control.reinstallFilter();
        await waitUntil(() => linkTypes.length >= 2, { what: "filter re-installed" });
        ac.abort();
        await done;
      });
      ok(linkTypes.every((lt) => lt === 113 || lt === 276), `cooked link type: ${linkTypes}`);
      deepStrictEqual([...new Set(ports)], [7010], "only the door port");
      deepStrictEqual(r.statuses.filter((s) => s.level === "error"), [], "no filter error");
      const warnings = r.statuses.filter((s) => s.level === "warning").map((s) => s.msg);
      deepStrictEqual(warnings.length, 1, warnings.join("\n"));
      ok(
        warnings[0] !== undefined &&
          warnings[0]!.startsWith(
            `Cannot compile filter "udp port" for interface "any": can't parse filter expression: syntax error: using the coarser filter "((dst host 127.0.0.1 or dst host ::1) and (udp dst port 7010"... (`,
          ),
        String(warnings[0]),
      );
    } finally {
      ac.abort();
      await done?.catch(() => {});
      await ns.destroy();
    }
  },
});
