import assert from "node:assert/strict";
import { readFirstOneTimeSequence, scanOneTimeFile } from "./onetime_file.ts";

Deno.test("scanOneTimeFile: offsets of line starts, comments and blanks skipped, invalid lines kept", () => {
  const lines = scanOneTimeFile(new TextEncoder().encode("# c\n\n  \n 99999\r\n\t# x\n 1,2:udp\n"));
  assert.deepEqual(lines.map((l) => [l.line, l.offset, l.text, "knocks" in l.result]), [
    [4, 8, "99999", false],
    [6, 21, "1,2:udp", true],
  ]);
});

Deno.test("readFirstOneTimeSequence: first valid line; errors as strerror text", () => {
  const dir = Deno.makeTempDirSync({ prefix: "kt-otf-" });
  try {
    Deno.writeTextFileSync(`${dir}/a`, " 70000\n 5,6\n");
    const r = readFirstOneTimeSequence(`${dir}/a`);
    assert(r.ok);
    assert.deepEqual([r.line.line, r.line.offset, r.knocks.length], [2, 7, 2]);
    assert.deepEqual(readFirstOneTimeSequence(`${dir}/nope`), {
      ok: false,
      reason: "open",
      errno: "No such file or directory",
    });
    Deno.writeTextFileSync(`${dir}/b`, "#1\n");
    assert.deepEqual(readFirstOneTimeSequence(`${dir}/b`), { ok: false, reason: "none-left" });
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
