import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import {
  canUseNetns,
  ignoreUnlessCi,
  Netns,
  readText,
  run,
  sleep,
  vethPair,
  waitUntil,
  withNetns,
} from "./netns.ts";

const available = await canUseNetns();
const ignore = ignoreUnlessCi(available);
const PREREQ = "Cannot test the namespace harness: needs root and ip";

async function namespaceExists(name: string): Promise<boolean> {
  const out = await run(["ip", "netns", "list"]);
  return out.stdout.split("\n").some((l) => l.split(" ")[0] === name);
}

function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) Z/.test(stat); // a zombie is as good as dead
  } catch {
    return false;
  }
}

Deno.test("waitUntil() fails with the awaited thing and the deadline in the message", async () => {
  let err: Error | undefined;
  try {
    await waitUntil(() => false, { timeoutMs: 30, intervalMs: 5, what: "a miracle" });
  } catch (e) {
    err = e as Error;
  }
  strictEqual(err?.message, "Cannot wait for a miracle: still false after 30 ms");
});

Deno.test({
  name: "withNetns() kills processes and their children and deletes the namespace on failure",
  ignore,
  async fn() {
    if (!available) throw new Error(PREREQ);
    let name = "";
    let pid = 0;
    let grandchild = 0;
    let thrown: unknown;
    try {
      await withNetns(["libtest"], async ([ns]) => {
        name = ns!.name;
        const p = ns!.spawn("sh", ["sh", "-c", "sleep 100 & echo $!; wait"]);
        pid = p.pid;
        await waitUntil(() => /^\d+\n/.test(p.stdout()), { what: "the background sleep" });
        grandchild = Number(p.stdout().trim());
        throw new Error("body failed");
      });
    } catch (e) {
      thrown = e;
    }
    ok(thrown instanceof Error, `Expected the body's error to propagate, got ${thrown}`);
    strictEqual(thrown.message, "body failed", "the body's error propagates");
    ok(name !== "" && !(await namespaceExists(name)), `Expected namespace "${name}" to be deleted`);
    await waitUntil(() => !alive(pid) && !alive(grandchild), {
      timeoutMs: 3000,
      what: `processes ${pid} and ${grandchild} to be gone`,
    });
  },
});

Deno.test({
  name: "Netns: commands run inside, lo is up, background output is captured",
  ignore,
  async fn() {
    if (!available) throw new Error(PREREQ);
    const ns = await Netns.create("libtest");
    try {
      const addr = await ns.exec(["ip", "-o", "addr", "show", "dev", "lo"]);
      match(addr.stdout, /127\.0\.0\.1\/8/, "lo has 127.0.0.1/8");
      match(addr.stdout, /::1\/128/, "lo has ::1/128");
      const links = await ns.exec(["ip", "-o", "link"]);
      strictEqual(
        links.stdout.trim().split("\n").length,
        1,
        `Expected a private namespace with lo only:\n${links.stdout}`,
      );
      const p = ns.spawn("echo", ["sh", "-c", "echo out; echo err >&2; exit 3"]);
      const st = await p.status;
      deepStrictEqual(
        { code: st.code, stdout: p.stdout(), stderr: p.stderr() },
        { code: 3, stdout: "out\n", stderr: "err\n" },
        p.describe(),
      );
      const failed = await ns.exec(["false"], { check: false });
      strictEqual(failed.code, 1, "the status of false");
    } finally {
      await ns.destroy();
    }
    strictEqual(await namespaceExists(ns.name), false, `Expected "${ns.name}" to be deleted`);
  },
});

Deno.test({
  name: "vethPair() joins two namespaces with usable IPv4 and IPv6 (nodad) addresses",
  ignore,
  async fn() {
    if (!available) throw new Error(PREREQ);
    await withNetns(["libtest", "libtest"], async ([a, b]) => {
      const [ia, ib] = await vethPair(a!, b!, {
        addrsA: ["192.0.2.1/24", "2001:db8::1/64"],
        addrsB: ["192.0.2.2/24", "2001:db8::2/64"],
      });
      ok(ia.length <= 15 && ib.length <= 15, `Names too long: ${ia} ${ib}`);
      const listener = b!.spawn("listen", [
        Deno.execPath(),
        "eval",
        `const l = Deno.listen({ hostname: "::", port: 8080 }); console.log("up");
         for await (const c of l) { await c.write(new TextEncoder().encode("hi")); c.close(); }`,
      ]);
      await waitUntil(() => listener.stdout().includes("up"), {
        what: "the listener",
        context: () => listener.describe(),
      });
      for (const host of ["192.0.2.2", "2001:db8::2"]) {
        const r = await a!.exec(
          ["timeout", "3", "bash", "-c", `exec 3<>/dev/tcp/${host}/8080; cat <&3`],
          { check: false },
        );
        deepStrictEqual(
          { code: r.code, stdout: r.stdout },
          { code: 0, stdout: "hi" },
          `Cannot reach "${host}" over the veth: ${r.stderr}`,
        );
      }
      await sleep(0);
      strictEqual(readText(`${b!.dir}/nonexistent`), "", "readText of a missing file");
    });
  },
});
