/**
 * `knocktool keygen` and `knocktool sequence` in process: files, modes, refusals and the test
 * vectors of docs/SECRET-SEQUENCES.md §8 through the command line.
 */
import assert from "node:assert/strict";
import { main } from "../main.ts";
import { captureIo } from "../src/util/io.ts";
import { SECRET_VECTORS, VECTOR_KEY } from "../testing/secret_vectors.ts";

async function cli(args: string[]): Promise<{ status: number; out: string; err: string }> {
  const io = captureIo();
  const status = await main(args, io);
  return { status, out: io.out, err: io.err };
}

Deno.test("keygen: writes 64 hex digits with mode 0600 and never overwrites", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const f = `${dir}/secret`;
    assert.deepEqual(await cli(["keygen", f]), { status: 0, out: "", err: "" });
    assert.match(await Deno.readTextFile(f), /^[0-9a-f]{64}\n$/);
    assert.equal((await Deno.stat(f)).mode! & 0o777, 0o600);
    const before = await Deno.readTextFile(f);
    assert.deepEqual(await cli(["keygen", f]), {
      status: 1,
      out: "",
      err:
        `Cannot write secret file "${f}": it already exists (remove it first, or choose another name)\n`,
    });
    assert.equal(await Deno.readTextFile(f), before);
    assert.deepEqual(await cli(["keygen", `${dir}/no/such`]), {
      status: 1,
      out: "",
      err: `Cannot write secret file "${dir}/no/such": no such directory\n`,
    });
    const printed = await cli(["keygen"]);
    assert.equal(printed.status, 0);
    assert.match(printed.out, /^[0-9a-f]{64}\n$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sequence: prints the test vectors as PORT:PROTO words", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const f = `${dir}/secret`;
    await Deno.writeTextFile(f, VECTOR_KEY + "\n", { mode: 0o600 });
    await Deno.chmod(f, 0o600);
    for (const v of SECRET_VECTORS) {
      const p = v.params;
      // Any second of the step gives the step's sequence.
      const at = v.step * p.step + p.step - 1;
      const r = await cli([
        "sequence",
        "--secret-file",
        f,
        "--door",
        v.door,
        "--at",
        String(at),
        "--slot",
        String(v.slot),
        "--length",
        String(p.length),
        "--ports",
        `${p.low}-${p.high}`,
        "--step",
        String(p.step),
        "--protocols",
        p.protocols,
      ]);
      assert.deepEqual(r, { status: 0, out: v.sequence + "\n", err: "" });
    }
    const verbose = await cli(["sequence", "--secret-file", f, "--door", "ssh", "-v"]);
    assert.equal(verbose.status, 0);
    assert.match(verbose.err, /^step \d+, slot [0-7]\n$/);
    assert.match(verbose.out, /^(\d+:tcp ){3}\d+:tcp\n$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sequence: refuses a missing option, a bad range and a group-readable secret", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const f = `${dir}/secret`;
    await Deno.writeTextFile(f, VECTOR_KEY + "\n");
    await Deno.chmod(f, 0o644);
    assert.deepEqual(await cli(["sequence", "--door", "ssh"]), {
      status: 1,
      out: "",
      err: "Cannot derive a sequence: give the secret with --secret-file\n",
    });
    assert.deepEqual(await cli(["sequence", "--secret-file", f]), {
      status: 1,
      out: "",
      err: "Cannot derive a sequence: give the door with --door\n",
    });
    assert.deepEqual(await cli(["sequence", "--secret-file", f, "--door", "a", "--ports", "9-3"]), {
      status: 1,
      out: "",
      err: `Cannot use --ports "9-3": expected "LOW-HIGH" with 1 <= LOW <= HIGH <= 65535\n`,
    });
    assert.deepEqual(
      await cli(["sequence", "--secret-file", f, "--door", "a", "--ports", "9-10"]),
      {
        status: 1,
        out: "",
        err: `Cannot derive a sequence: port range "9-10" has fewer than 4 ports\n`,
      },
    );
    assert.deepEqual(await cli(["sequence", "--secret-file", f, "--door", "a"]), {
      status: 1,
      out: "",
      err: `Cannot use secret file "${f}" of door "a": mode 0644 lets group or others access ` +
        `it (run "chmod 600 ${f}")\n`,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("knock --secret-file: sends the derived sequence (UDP on loopback, in order)", async () => {
  const dgram = await import("node:dgram");
  const dir = await Deno.makeTempDir();
  const sockets: import("node:dgram").Socket[] = [];
  try {
    const f = `${dir}/secret`;
    await Deno.writeTextFile(f, VECTOR_KEY + "\n", { mode: 0o600 });
    await Deno.chmod(f, 0o600);
    const v = SECRET_VECTORS[2]!; // udp, 7000-7009, step 30
    const at = String(v.step * 30 + 7);
    const want = v.sequence.split(" ").map((w) => Number(w.split(":")[0]));
    const got: number[] = [];
    for (const port of want) {
      const s = dgram.createSocket("udp4");
      sockets.push(s);
      s.on("message", () => got.push(port));
      await new Promise<void>((resolve) => s.bind(port, "127.0.0.1", () => resolve()));
    }
    const common = ["--secret-file", f, "--door", "ssh", "--at", at, "--slot", "3"];
    const range = ["--length", "8", "--ports", "7000-7009", "--protocols", "udp"];
    const r = await cli(["knock", ...common, ...range, "-v", "127.0.0.1"]);
    assert.equal(r.status, 0, r.err);
    assert.ok(r.out.startsWith(`secret sequence for door "ssh": step ${v.step}, slot 3\n`), r.out);
    const deadline = Date.now() + 5000;
    while (got.length < want.length && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 20));
    }
    assert.deepEqual(got, want);
  } finally {
    for (const s of sockets) s.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("knock --secret-file: refuses ports, -u, a missing door and --door alone", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const f = `${dir}/secret`;
    await Deno.writeTextFile(f, VECTOR_KEY + "\n", { mode: 0o600 });
    await Deno.chmod(f, 0o600);
    assert.deepEqual(await cli(["knock", "--secret-file", f, "--door", "a", "h", "7000"]), {
      status: 1,
      out: "",
      err: "Cannot knock with --secret-file and ports: the sequence is derived from the secret\n",
    });
    assert.deepEqual(await cli(["knock", "--secret-file", f, "--door", "a", "-u", "h"]), {
      status: 1,
      out: "",
      err: "Cannot use -u with --secret-file: give the door's --protocols instead\n",
    });
    assert.deepEqual(await cli(["knock", "--secret-file", f, "h"]), {
      status: 1,
      out: "",
      err: "Cannot derive a sequence: give the door with --door\n",
    });
    assert.deepEqual(await cli(["knock", "--door", "a", "h"]), {
      status: 1,
      out: "",
      err: 'Cannot knock door "a": give its secret with --secret-file\n',
    });
    assert.deepEqual(await cli(["knock", "h"]), {
      status: 1,
      out: "",
      err: "Cannot knock: give a host and at least one port\n",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serve refuses an unsafe secret file, naming the door and the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const f = `${dir}/secret`;
    await Deno.writeTextFile(f, VECTOR_KEY + "\n");
    await Deno.chmod(f, 0o640);
    const conf = `${dir}/knockd.conf`;
    await Deno.writeTextFile(
      conf,
      `[options]\n State_Dir = ${dir}/state\n[ssh]\n Secret_File = ${f}\n Command = true\n`,
    );
    const pcap = new URL("./testdata/pcap/knocks.pcap", import.meta.url).pathname;
    const r = await cli(["serve", "-c", conf, "--pcap-file", pcap, "--dry-run"]);
    assert.equal(r.status, 1);
    assert.equal(
      r.err,
      `knocktool serve: Cannot use secret file "${f}" of door "ssh": mode 0640 lets group or ` +
        `others access it (run "chmod 600 ${f}")\n`,
    );
    await Deno.chmod(f, 0o600);
    const ok = await cli(["serve", "-c", conf, "--pcap-file", pcap, "--dry-run"]);
    assert.equal(ok.status, 0, ok.err);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir}/state/secret-used.json`)), {
      version: 1,
      used: {},
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
