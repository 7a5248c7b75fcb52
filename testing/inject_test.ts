import { deepStrictEqual } from "node:assert/strict";
import { inject, inPrivateNetns, MAX_TOTAL_MS } from "./inject.ts";
import { canUseNetns, ignoreUnlessCi, Netns } from "./netns.ts";

async function errorOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  return "no error";
}

const frame = { src: "127.0.0.71", dst: "127.0.0.1", proto: "tcp" as const, port: 7000 };

Deno.test("inject refuses an interface other than lo in the init network namespace", async () => {
  deepStrictEqual(inPrivateNetns(), false); // the test itself runs in the init namespace
  deepStrictEqual(
    await errorOf(inject({ iface: "kt-nosuch0", frames: [frame] })),
    'Cannot inject on "kt-nosuch0": spoofed frames go only to lo or inside a test\'s network namespace',
  );
});

Deno.test("inject refuses a run planned longer than MAX_TOTAL_MS before sending anything", async () => {
  const slow = { ...frame, delayMs: 60_000 };
  deepStrictEqual(
    await errorOf(inject({ iface: "lo", frames: [slow, slow, slow] })),
    `Cannot inject: the run would take "180000" ms, at most ${MAX_TOTAL_MS}`,
  );
  deepStrictEqual(
    await errorOf(inject({ iface: "lo", frames: [frame], repeat: 1000, ratePps: 5 })),
    `Cannot inject: the run would take "200000" ms, at most ${MAX_TOTAL_MS}`,
  );
});

const netns = await canUseNetns();

Deno.test({
  name: "inPrivateNetns is true inside a test's namespace",
  ignore: ignoreUnlessCi(netns),
  async fn() {
    if (!netns) throw new Error("Cannot test inPrivateNetns: needs root and ip netns");
    const ns = await Netns.create("injns");
    try {
      const url = new URL("./inject.ts", import.meta.url).href;
      const r = await ns.exec([
        Deno.execPath(),
        "eval",
        `import { inPrivateNetns } from "${url}"; console.log(inPrivateNetns());`,
      ]);
      deepStrictEqual(r.stdout, "true\n");
    } finally {
      await ns.destroy();
    }
  },
});
