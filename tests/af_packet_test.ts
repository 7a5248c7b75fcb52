import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { PacketSocket, PacketSocketError } from "../testing/af_packet.ts";
import { canUseNetns, ignoreUnlessCi, run, waitUntil, withNetns } from "../testing/netns.ts";
import { buildFrame, injectInNetns } from "../testing/inject.ts";

const hasTcpdump = await run(["tcpdump", "--version"], { check: false }).then(
  (r) => r.code === 0,
  () => false,
);
const available = (await canUseNetns()) && hasTcpdump;
const ignore = ignoreUnlessCi(available);
const PREREQ = "Cannot test frame injection: needs root, ip and tcpdump";

Deno.test({
  name: "PacketSocket.open() names a missing interface in its error",
  ignore: ignoreUnlessCi(Deno.uid() === 0),
  fn() {
    let err: unknown;
    try {
      PacketSocket.open("kt-nosuch0");
    } catch (e) {
      err = e;
    }
    ok(err instanceof PacketSocketError, `Expected a PacketSocketError, got ${err}`);
    strictEqual(err.errno, 19, "ENODEV");
    strictEqual(err.message, 'Cannot find interface "kt-nosuch0": No such device');
  },
});

Deno.test({
  name: "PacketSocket.send() after close() throws",
  ignore: ignoreUnlessCi(Deno.uid() === 0),
  fn() {
    const sock = PacketSocket.open("lo");
    sock.close();
    sock.close(); // idempotent
    throws(() => sock.send(new Uint8Array(60)), {
      message: "Cannot send: the packet socket is closed",
    });
  },
});

Deno.test({
  name: "injected frames with spoofed sources arrive on lo as tcpdump decodes them",
  ignore,
  async fn() {
    if (!available) throw new Error(PREREQ);
    await withNetns(["pkt"], async ([ns]) => {
      const td = ns!.spawn("tcpdump", [
        "tcpdump",
        "-n",
        "-l",
        "-U",
        "-i",
        "lo",
        "dst port 7000 or dst port 8000 or dst port 9000",
      ]);
      await waitUntil(() => td.stderr().includes("listening on lo"), {
        what: "tcpdump",
        context: () => td.describe(),
      });
      const sent = await injectInNetns(ns!.name, {
        iface: "lo",
        frames: [
          { src: "127.0.0.71", dst: "127.0.0.1", proto: "tcp", port: 7000 },
          { src: "127.1.2.3", dst: "127.0.0.1", proto: "udp", port: 8000, srcPort: 5555 },
          { src: "::1", dst: "::1", proto: "tcp", port: 9000, flags: "FIN,ACK" },
        ],
      });
      strictEqual(sent, 3, "frames sent");
      const want = [
        "IP 127.0.0.71.40000 > 127.0.0.1.7000: Flags [S], seq 0, win 64240, length 0",
        "IP 127.1.2.3.5555 > 127.0.0.1.8000: UDP, length 0",
        "IP6 ::1.40002 > ::1.9000: Flags [F.], seq 0, ack 0, win 64240, length 0",
      ];
      await waitUntil(() => td.stdout().split("\n").filter((l) => l !== "").length >= 3, {
        what: "three captured frames",
        context: () => td.describe(),
      });
      const got = td.stdout().split("\n").filter((l) => l !== "").map((l) =>
        l.replace(/^\S+ /, "")
      );
      deepStrictEqual(got, want, "what tcpdump captured");
    });
  },
});

Deno.test({
  name: "a bulk injection sends exactly repeat × frames",
  ignore,
  async fn() {
    if (!available) throw new Error(PREREQ);
    await withNetns(["pkt"], async ([ns]) => {
      const sent = await injectInNetns(ns!.name, {
        iface: "lo",
        repeat: 500,
        frames: [
          { src: "127.0.0.71", dst: "127.0.0.1", proto: "udp", port: 9 },
          { src: "127.0.0.72", dst: "127.0.0.1", proto: "udp", port: 9 },
        ],
      });
      strictEqual(sent, 1000, "frames sent");
    });
  },
});

Deno.test({
  name: "a paced injection sends every frame",
  ignore,
  async fn() {
    if (!available) throw new Error(PREREQ);
    await withNetns(["pkt"], async ([ns]) => {
      const td = ns!.spawn("tcpdump", ["tcpdump", "-n", "-l", "-U", "-i", "lo", "udp dst port 9"]);
      await waitUntil(() => td.stderr().includes("listening on lo"), { what: "tcpdump" });
      const sent = await injectInNetns(ns!.name, {
        iface: "lo",
        repeat: 50,
        ratePps: 1000,
        frames: [{ src: "127.0.0.71", dst: "127.0.0.1", proto: "udp", port: 9 }],
      });
      strictEqual(sent, 50, "frames sent");
      await waitUntil(() => td.stdout().split("\n").filter((l) => l !== "").length >= 50, {
        what: "50 captured frames",
        context: () => td.describe(),
      });
    });
  },
});

Deno.test("buildFrame() rejects mixed address families", () => {
  throws(() => buildFrame({ src: "127.0.0.1", dst: "::1", proto: "tcp", port: 1 }, 0), {
    message: 'Cannot build a frame from "127.0.0.1" to "::1": address families differ',
  });
});
