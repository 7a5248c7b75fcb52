import assert from "node:assert/strict";
import { canUseNetns, ignoreUnlessCi } from "../testing/netns.ts";
import { runInNetns } from "./_netns_self.ts";

const netns = await canUseNetns();

Deno.test({
  name:
    "runInNetns runs the script inside, passes its exit code on, leaves no process or namespace",
  ignore: ignoreUnlessCi(netns),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "kt-netns-self-" });
    const name = `kt-nsself-${Deno.pid}`;
    try {
      const script = `${dir}/inner.ts`;
      // Inside: record the namespace and lo's state, leave a child behind, exit 3.
      await Deno.writeTextFile(
        script,
        `const out = Deno.args[Deno.args.indexOf("--inner") + 1]!;
const lo = new TextDecoder().decode(new Deno.Command("ip", { args: ["-o", "link", "show", "lo"] }).outputSync().stdout);
const sleeper = new Deno.Command("sleep", { args: ["60"] }).spawn();
Deno.writeTextFileSync(out, JSON.stringify({ ns: Deno.readLinkSync("/proc/self/ns/net"), up: lo.includes("UP"), sleeper: sleeper.pid }));
Deno.exit(3);
`,
      );
      const code = await runInNetns({ name, script, args: [`${dir}/out.json`], loUp: true });
      assert.equal(code, 3);
      const r = JSON.parse(await Deno.readTextFile(`${dir}/out.json`));
      assert.notEqual(r.ns, Deno.readLinkSync("/proc/self/ns/net"));
      assert.equal(r.up, true);
      // The child left behind was killed: gone, or a zombie until init reaps it.
      const state = () => {
        try {
          return Deno.readTextFileSync(`/proc/${r.sleeper}/stat`).split(") ")[1]![0];
        } catch {
          return "gone";
        }
      };
      for (let i = 0; i < 100 && state() !== "gone" && state() !== "Z"; i++) {
        await new Promise((res) => setTimeout(res, 20));
      }
      assert.match(state()!, /^(gone|Z)$/);
      const list = new TextDecoder().decode(
        (await new Deno.Command("ip", { args: ["netns", "list"] }).output()).stdout,
      );
      assert.equal(list.split("\n").some((l) => l.split(" ")[0] === name), false);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
