/**
 * Syslog through libc, checked end to end: the test re-runs itself inside a private mount
 * namespace (`unshare -m`) with a tmpfs over /dev, binds a datagram socket at /dev/log there,
 * and reads the frame glibc sends. The host's /dev/log (if any) is never touched.
 */
import { deepStrictEqual } from "node:assert/strict";
import { FACILITIES, parseFacility, Syslog } from "./syslog.ts";

Deno.test("parseFacility accepts knockd's and Debian's facilities", () => {
  deepStrictEqual(parseFacility("daemon"), 24);
  deepStrictEqual(parseFacility("LOG_USER"), 8);
  deepStrictEqual(parseFacility("local7"), FACILITIES.local7);
  deepStrictEqual(parseFacility("nope"), undefined);
});

const CHILD = "KT_SYSLOG_TEST_CHILD";

/** In the namespace: bind /dev/log, log twice, print what arrived as JSON. */
function child(): void {
  const libc = Deno.dlopen(
    "libc.so.6",
    {
      socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
      bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
      recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
      close: { parameters: ["i32"], result: "i32" },
    } as const,
  );
  try {
    const fd = libc.symbols.socket(1, /* AF_UNIX */ 2, /* SOCK_DGRAM */ 0);
    const sa = new Uint8Array(110);
    new DataView(sa.buffer).setUint16(0, 1, true);
    sa.set(new TextEncoder().encode("/dev/log"), 2);
    if (fd < 0 || libc.symbols.bind(fd, sa, sa.length) !== 0) throw new Error("bind /dev/log");
    const log = Syslog.open("knockd", parseFacility(Deno.args[0] ?? "daemon")!);
    log.notice("127.0.0.71: A: sequence timeout (stage 1)\n");
    log.notice("starting up, listening on lo");
    // A config byte that is not UTF-8 (0xE9), kept by the parser as U+DCE9 (src/util/bytes.ts).
    log.notice("caf\udce9");
    log.close();
    const got: string[] = [];
    const buf = new Uint8Array(2048);
    for (let i = 0; i < 3; i++) {
      const n = Number(libc.symbols.recv(fd, buf, BigInt(buf.length), 0x40 /* MSG_DONTWAIT */));
      if (n < 0) break;
      // Latin-1, so that every byte survives JSON as one code unit.
      got.push(String.fromCharCode(...buf.subarray(0, n)));
    }
    libc.symbols.close(fd);
    console.log(JSON.stringify(got));
  } finally {
    libc.close();
  }
}

if (Deno.env.get(CHILD) !== undefined && import.meta.main) child();

Deno.test({
  name: "Syslog sends knockd's frames (ident knockd, no PID, notice, newline kept, raw bytes)",
  ignore: Deno.uid() !== 0 && Deno.env.get("CI") !== "true",
  async fn() {
    for (const [facility, pri] of [["daemon", "<29>"], ["user", "<13>"]]) {
      const out = await new Deno.Command("unshare", {
        args: [
          "-m",
          "sh",
          "-c",
          'mount --make-rprivate / && mount -t tmpfs kt-syslog /dev && exec "$0" run -A "$1" "$2"',
          Deno.execPath(),
          new URL(import.meta.url).pathname,
          facility!,
        ],
        env: { [CHILD]: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      if (!out.success) {
        throw new Error(`child failed: ${new TextDecoder().decode(out.stderr)}`);
      }
      const got = JSON.parse(text) as string[];
      const re = new RegExp(
        `^${pri}[A-Z][a-z]{2} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d knockd: `,
      );
      deepStrictEqual(got.map((g) => g.replace(re, "")), [
        "127.0.0.71: A: sequence timeout (stage 1)\n",
        "starting up, listening on lo",
        "caf\xe9", // the raw byte, not U+FFFD's EF BF BD
      ]);
    }
  },
});
