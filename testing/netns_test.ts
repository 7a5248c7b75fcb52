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
  if (err?.message !== "Cannot wait for a miracle: still false after 30 ms") {
    throw new Error(`Unexpected error: ${err?.message}`);
  }
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
    if (!(thrown instanceof Error) || thrown.message !== "body failed") {
      throw new Error(`Expected the body's error to propagate, got ${thrown}`);
    }
    if (name === "" || await namespaceExists(name)) {
      throw new Error(`Expected namespace "${name}" to be deleted`);
    }
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
      if (!addr.stdout.includes("127.0.0.1/8") || !addr.stdout.includes("::1/128")) {
        throw new Error(`Expected lo to have 127.0.0.1/8 and ::1:\n${addr.stdout}`);
      }
      const links = await ns.exec(["ip", "-o", "link"]);
      if (links.stdout.trim().split("\n").length !== 1) {
        throw new Error(`Expected a private namespace with lo only:\n${links.stdout}`);
      }
      const p = ns.spawn("echo", ["sh", "-c", "echo out; echo err >&2; exit 3"]);
      const st = await p.status;
      if (st.code !== 3 || p.stdout() !== "out\n" || p.stderr() !== "err\n") {
        throw new Error(`Unexpected result:\n${p.describe()}`);
      }
      const failed = await ns.exec(["false"], { check: false });
      if (failed.code !== 1) throw new Error(`Expected status 1, got ${failed.code}`);
    } finally {
      await ns.destroy();
    }
    if (await namespaceExists(ns.name)) throw new Error(`Expected "${ns.name}" to be deleted`);
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
      if (ia.length > 15 || ib.length > 15) throw new Error(`Names too long: ${ia} ${ib}`);
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
        if (r.code !== 0 || r.stdout !== "hi") {
          throw new Error(`Cannot reach "${host}" over the veth: ${r.code} ${r.stderr}`);
        }
      }
      await sleep(0);
      if (readText(`${b!.dir}/nonexistent`) !== "") throw new Error("readText of a missing file");
    });
  },
});
