import assert from "node:assert/strict";
import { ControlServer, parseRequest, requestControl } from "./control.ts";

Deno.test("control: requests are checked before anything is done", () => {
  assert.deepEqual(parseRequest({ cmd: "revoke", address: "192.0.2.2" }), {
    cmd: "revoke",
    address: "192.0.2.2",
  });
  assert.deepEqual(parseRequest({ cmd: "grant", address: "192.0.2.2", door: "d", for: 5 }), {
    cmd: "grant",
    address: "192.0.2.2",
    door: "d",
    for: 5,
  });
  assert.equal(parseRequest([]), 'Cannot serve request: unknown "cmd" undefined');
  assert.equal(parseRequest(null), "Cannot serve request: not a JSON object");
  assert.equal(
    parseRequest({ cmd: "revoke" }),
    'Cannot serve request: "revoke" needs an "address"',
  );
  assert.equal(
    parseRequest({ cmd: "grant", address: "192.0.2.2" }),
    'Cannot serve request: "grant" needs a "door"',
  );
  assert.equal(
    parseRequest({ cmd: "grant", address: "192.0.2.2", door: "d", for: -1 }),
    'Cannot serve request: "for" must be a positive whole number of seconds, got -1',
  );
});

Deno.test("control: a socket with mode 0600 answers one request per connection", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/c.sock`;
  const seen: string[] = [];
  const server = await ControlServer.listen(path, (req) => {
    seen.push(req.cmd);
    if (req.cmd === "revoke") throw new Error(`Cannot revoke "${req.address}": no grant`);
    return { status: { pid: 1 } };
  });
  try {
    assert.equal(Deno.statSync(path).mode! & 0o777, 0o600);
    assert.deepEqual(await requestControl(path, { cmd: "status" }), {
      ok: true,
      status: { pid: 1 },
    });
    assert.deepEqual(await requestControl(path, { cmd: "revoke", address: "192.0.2.9" }), {
      ok: false,
      error: 'Cannot revoke "192.0.2.9": no grant',
    });
    // Not JSON: refused before the handler.
    const conn = await Deno.connect({ transport: "unix", path });
    await conn.write(new TextEncoder().encode("hello\n"));
    const buf = new Uint8Array(1000);
    const n = await conn.read(buf);
    conn.close();
    assert.equal(
      new TextDecoder().decode(buf.subarray(0, n ?? 0)),
      '{"ok":false,"error":"Cannot serve request: not JSON"}\n',
    );
    assert.deepEqual(seen, ["status", "revoke"]);
    await assert.rejects(
      ControlServer.listen(path, () => ({})),
      new Error(`Cannot listen on control socket "${path}": another server answers on it`),
    );
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
  await assert.rejects(
    requestControl(path, { cmd: "status" }),
    new Error(
      `Cannot connect to control socket "${path}": no such socket (is knocktool serve running, with this --control path?)`,
    ),
  );
});
