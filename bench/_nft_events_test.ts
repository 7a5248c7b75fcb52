import assert from "node:assert/strict";
import { canUseNetns, ignoreUnlessCi } from "../testing/netns.ts";
import { runInNetns } from "./_netns_self.ts";

const netns = await canUseNetns();

Deno.test({
  name:
    "NftEvents sees a new set element added by another process, and neither a flush nor silence",
  ignore: ignoreUnlessCi(netns),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "kt-nftev-" });
    try {
      const script = `${dir}/inner.ts`;
      const events = new URL("./_nft_events.ts", import.meta.url).href;
      await Deno.writeTextFile(
        script,
        `import { NftEvents } from ${JSON.stringify(events)};
const out = Deno.args[Deno.args.indexOf("--inner") + 1]!;
const nft = (cmd: string) => {
  const o = new Deno.Command("nft", { args: [cmd] }).outputSync();
  if (!o.success) throw new Error(new TextDecoder().decode(o.stderr));
};
nft("add table inet t; add set inet t s { type ipv4_addr; flags timeout; }");
using ev = new NftEvents(300);
const before = Date.now() * 1e6;
nft("add element inet t s { 192.0.2.7 timeout 10s }");
const added = await ev.waitNewElement();
ev.drain();
nft("flush set inet t s");
const flushed = await ev.waitNewElement();
const silent = await ev.waitNewElement();
Deno.writeTextFileSync(out, JSON.stringify({
  added: added === null ? null : Number(added) - before,
  flushed: flushed === null ? null : String(flushed),
  silent: silent === null ? null : String(silent),
}));
`,
      );
      const code = await runInNetns({ name: `kt-nftev-${Deno.pid}`, script, args: [`${dir}/out`] });
      assert.equal(code, 0);
      const r = JSON.parse(await Deno.readTextFile(`${dir}/out`));
      // Stamped after the add was asked for, within the 300 ms wait (plus nft's start).
      assert.equal(typeof r.added, "number");
      assert.ok(r.added > 0 && r.added < 5e9, `added ${r.added} ns after the start`);
      assert.equal(r.flushed, null);
      assert.equal(r.silent, null);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
