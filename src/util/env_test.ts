import { strictEqual, throws } from "node:assert/strict";
import { readEnv, takeEnv } from "./env.ts";

Deno.test("readEnv: a variable that may not be read counts as unset", async () => {
  const url = new URL("./env.ts", import.meta.url).href;
  const script = `import { readEnv, takeEnv } from ${JSON.stringify(url)};
console.log(JSON.stringify([readEnv("HOME") ?? null, takeEnv("HOME") ?? null]));`;
  const dir = await Deno.makeTempDir({ prefix: "kt-env-" });
  try {
    await Deno.writeTextFile(`${dir}/probe.ts`, script);
    // Read permission for the module only: no env permission, and never a prompt.
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--no-lock", "--no-config", `${dir}/probe.ts`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    strictEqual(new TextDecoder().decode(out.stderr), "");
    strictEqual(new TextDecoder().decode(out.stdout), "[null,null]\n");
    strictEqual(out.code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readEnv: an invalid name is a bug and throws", () => {
  throws(() => readEnv("A=B"), TypeError);
  throws(() => takeEnv(""), TypeError);
});
