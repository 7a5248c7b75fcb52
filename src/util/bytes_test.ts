import assert from "node:assert/strict";
import { decodeRawText, encodeRawText, hasRawBytes, shellArgs } from "./bytes.ts";

Deno.test("decodeRawText/encodeRawText: every byte string round-trips; valid UTF-8 decodes as usual", () => {
  const cases: number[][] = [
    [],
    [0x63, 0x61, 0x66, 0xe9],
    [0xc3, 0xa9], // é
    [0xef, 0xbb, 0xbf, 0x41], // BOM kept
    [0xc0, 0x80], // overlong NUL
    [0xed, 0xa0, 0x80], // encoded surrogate
    [0xf4, 0x90, 0x80, 0x80], // beyond U+10FFFF
    [0xf0, 0x9f, 0x92, 0x80], // U+1F480, whose low surrogate is U+DC80
    [0xe2, 0x82], // truncated
    [0xff, 0xfe, 0x80, 0x41],
  ];
  let seed = 7;
  for (let n = 0; n < 200; n++) {
    const len = n % 13;
    const b: number[] = [];
    for (let i = 0; i < len; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      b.push(seed & 0xff);
    }
    cases.push(b);
  }
  for (const c of cases) {
    const bytes = Uint8Array.from(c);
    const text = decodeRawText(bytes);
    assert.deepEqual([...encodeRawText(text)], c, c.join());
  }
  assert.equal(decodeRawText(Uint8Array.from([0xc3, 0xa9])), "é");
  assert.equal(decodeRawText(Uint8Array.from([0xef, 0xbb, 0xbf])), "\ufeff");
  assert.equal(decodeRawText(Uint8Array.from([0xe2, 0x82, 0x41])), "\udce2\udc82A");
  assert.equal(hasRawBytes(decodeRawText(Uint8Array.from([0xf0, 0x9f, 0x92, 0x80]))), false);
});

Deno.test("shellArgs: /bin/sh runs the command's exact bytes", () => {
  const dir = Deno.makeTempDirSync({ prefix: "kt-bytes-" });
  try {
    const name = decodeRawText(Uint8Array.from([0x63, 0x61, 0x66, 0xe9, 0x25, 0x27]));
    const cmd = `printf '%s' "${name}" > "${dir}/out" && printf x >> "${dir}/out"`;
    const r = new Deno.Command("/bin/sh", { args: shellArgs(cmd) }).outputSync();
    assert(r.success, new TextDecoder().decode(r.stderr));
    assert.deepEqual([...Deno.readFileSync(`${dir}/out`)], [
      0x63,
      0x61,
      0x66,
      0xe9,
      0x25,
      0x27,
      0x78,
    ]);
    assert.deepEqual(shellArgs("echo %IP%"), ["-c", "echo %IP%"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
