import assert from "node:assert/strict";
import { OneTimeSequences } from "./onetime.ts";

function withFile(content: string, fn: (path: string) => void): void {
  const dir = Deno.makeTempDirSync({ prefix: "kt-onetime-" });
  try {
    const path = `${dir}/otp.txt`;
    Deno.writeTextFileSync(path, content);
    fn(path);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

function open(path: string): OneTimeSequences {
  const r = OneTimeSequences.open(path, "smtp");
  assert(r instanceof OneTimeSequences, r instanceof OneTimeSequences ? "" : r.message);
  return r;
}

const text = (k: readonly { port: number; protocol: string }[] | null) =>
  k === null ? null : k.map((x) => `${x.port}:${x.protocol}`).join(",");

Deno.test("OneTimeSequences: loads the first valid line, marks used lines like knockd", () => {
  withFile("# used\n\n 3001,3002\n 3003:udp,3004\n", (path) => {
    const o = open(path);
    assert.equal(text(o.current), "3001:tcp,3002:tcp");
    assert.deepEqual(o.consume(), {
      next: [{ port: 3003, protocol: "udp" }, { port: 3004, protocol: "tcp" }],
    });
    assert.equal(Deno.readTextFileSync(path), "# used\n\n#3001,3002\n 3003:udp,3004\n");
    assert.deepEqual(o.consume(), {
      next: null,
      message:
        "no more sequences left in the one time sequences file for door smtp --> disabling the door",
    });
    assert.equal(Deno.readTextFileSync(path), "# used\n\n#3001,3002\n#3003:udp,3004\n");
    assert.equal(o.current, null);
    assert.deepEqual(o.consume(), { next: null });
    o.close();
  });
});

Deno.test("OneTimeSequences: without a leading space the first digit is overwritten (knockd format)", () => {
  withFile("3001,3002\n4001\n", (path) => {
    const o = open(path);
    assert.equal(text(o.consume().next), "4001:tcp");
    assert.equal(Deno.readTextFileSync(path), "#001,3002\n4001\n");
  });
});

Deno.test("OneTimeSequences: invalid lines are skipped and the mark lands on the used line (B4 fixed)", () => {
  withFile(" 1001,1002\n 99999\n 1:icmp\n 2001,2002\n 3001\n", (path) => {
    const o = open(path);
    assert.equal(text(o.consume().next), "2001:tcp,2002:tcp");
    assert.equal(text(o.consume().next), "3001:tcp");
    // knockd 0.8 would have marked " 99999" and served 2001,2002 again.
    assert.equal(Deno.readTextFileSync(path), "#1001,1002\n 99999\n 1:icmp\n#2001,2002\n 3001\n");
  });
});

Deno.test("OneTimeSequences: equal prefixes are compared in full (B4: knockd compared bytes)", () => {
  withFile(" 1,2,3,4\n 1,2,3,5\n", (path) => {
    const o = open(path);
    assert.equal(text(o.consume().next), "1:tcp,2:tcp,3:tcp,5:tcp");
    assert.equal(text(o.consume().next), null);
    assert.equal(Deno.readTextFileSync(path), "#1,2,3,4\n#1,2,3,5\n");
  });
});

Deno.test("OneTimeSequences: an edited file is followed by content, not by stale offsets", () => {
  withFile(" 1001\n 2001\n", (path) => {
    const o = open(path);
    Deno.writeTextFileSync(path, "# new header line\n 1001\n 2001\n");
    assert.equal(text(o.consume().next), "2001:tcp");
    assert.equal(Deno.readTextFileSync(path), "# new header line\n#1001\n 2001\n");
  });
});

Deno.test("OneTimeSequences: open errors carry knockd's texts", () => {
  withFile("#used\n 70000\n", (path) => {
    const r = OneTimeSequences.open(path, "smtp");
    assert(!(r instanceof OneTimeSequences));
    assert.equal(
      r.knockdText,
      "no more sequences left in the one time sequences file for door smtp --> disabling the door",
    );
    assert.equal(
      r.message,
      `Cannot load one-time sequences file "${path}": no unused sequence left for door "smtp"`,
    );
    const dir = path.replace(/\/otp\.txt$/, "");
    const d = OneTimeSequences.open(dir, "smtp");
    assert(!(d instanceof OneTimeSequences));
    assert.equal(d.knockdText, `${dir}: Is a directory`);
    assert.equal(
      d.message,
      `Cannot open one-time sequences file "${dir}" for door "smtp": Is a directory`,
    );
  });
});

Deno.test("OneTimeSequences: the file vanishing at runtime disables the door without throwing", () => {
  withFile(" 1\n 2\n", (path) => {
    const o = open(path);
    Deno.removeSync(path);
    assert.deepEqual(o.consume(), {
      next: null,
      message: "error while disabling used one time sequence for door smtp --> disabling the door",
      cause:
        `Cannot update one-time sequences file "${path}" for door "smtp": No such file or directory`,
    });
    assert.equal(o.current, null);
  });
});

Deno.test("OneTimeSequences: a Sequence that won over the file is used first, then the file (as knockd)", () => {
  withFile(" 1001,1002\n 1003\n", (path) => {
    const r = OneTimeSequences.open(path, "a", [{ port: 5, protocol: "tcp" }]);
    assert(r instanceof OneTimeSequences);
    assert.equal(text(r.current), "5:tcp");
    // knockd 0.8 finds no line for 5 to mark and loads the first unused line (checked with -D).
    assert.equal(text(r.consume().next), "1001:tcp,1002:tcp");
    assert.equal(Deno.readTextFileSync(path), " 1001,1002\n 1003\n");
    assert.equal(text(r.consume().next), "1003:tcp");
    assert.equal(Deno.readTextFileSync(path), "#1001,1002\n 1003\n");
  });
});
