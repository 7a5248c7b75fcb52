import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { Outbox, type OutboxEntry } from "./outbox.ts";

const grant = (key: string, expires?: number): OutboxEntry => ({
  bucket: "grants",
  key,
  value: `{"k":"${key}"}`,
  expires,
});
const revoke = (key: string): OutboxEntry => ({
  bucket: "grants",
  key,
  value: undefined,
  expires: undefined,
});
const mark = (key: string): OutboxEntry => ({
  bucket: "used",
  key,
  value: "{}",
  expires: undefined,
});

/** Every entry in the order the pump would send them (each marked done). */
function drain(box: Outbox, now = 0): string[] {
  const out: string[] = [];
  for (let e = box.peek(now); e !== undefined; e = box.peek(now)) {
    out.push(`${e.bucket}:${e.key}:${e.value === undefined ? "del" : "put"}`);
    box.done(e);
  }
  return out;
}

Deno.test("outbox: full of a grant flood, it drops grants and keeps revocations and single-use marks", () => {
  const box = new Outbox(4);
  box.put(revoke("ssh.a"));
  box.put(mark("once.7000"));
  for (let i = 0; i < 1000; i++) box.put(grant(`ssh.flood${i}`));
  strictEqual(box.size, 4);
  strictEqual(box.dropped, 998);
  deepStrictEqual(drain(box), [
    "grants:ssh.a:del",
    "used:once.7000:put",
    "grants:ssh.flood998:put",
    "grants:ssh.flood999:put",
  ]);
});

Deno.test("outbox: with nothing but revocations and marks, the oldest of them makes room", () => {
  const box = new Outbox(2);
  box.put(revoke("ssh.a"));
  box.put(mark("once.1"));
  strictEqual(box.put(revoke("ssh.b")), true);
  deepStrictEqual(drain(box), ["used:once.1:put", "grants:ssh.b:del"]);
});

Deno.test("outbox: a key's newer write replaces the older one across kinds; expired grants are not sent", () => {
  const box = new Outbox(10);
  box.put(grant("ssh.a"));
  box.put(revoke("ssh.a"));
  box.put(grant("ssh.b", 50));
  box.put(grant("ssh.c", 500));
  box.put(revoke("ssh.c"));
  box.put(grant("ssh.c", 600));
  strictEqual(box.size, 3);
  deepStrictEqual(drain(box, 100), ["grants:ssh.a:del", "grants:ssh.c:put"]);
  strictEqual(box.size, 0);
  strictEqual(box.dropped, 0);
});

Deno.test("outbox: done leaves an entry that replaced the one sent", () => {
  const box = new Outbox(10);
  box.put(grant("ssh.a"));
  const sent = box.peek(0)!;
  box.put(revoke("ssh.a"));
  box.done(sent);
  deepStrictEqual(drain(box), ["grants:ssh.a:del"]);
});
