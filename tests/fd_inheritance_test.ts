/**
 * docs/COMPATIBILITY.md B17 under the compiled binary's permissions: door commands inherit no
 * descriptor of knocktool's beyond stdin, stdout and stderr, even one knocktool itself inherited (a
 * service manager's socket, a shell's redirection).
 *
 * Runs `serve` exactly as `deno compile` bakes it (tools/permissions.ts), because that is where an
 * earlier sweep failed silently: it listed descriptors through /proc/self/fd with Deno's file API,
 * which Deno refuses without --allow-all, so under the binary's grants fds 7, 10 and 251 reached
 * the commands (found by hand, 2026-11-21). Writing this test then showed that a replayed
 * capture file (libpcap's fopen, no close-on-exec) reached them too.
 *
 * @module
 */
import { permissionFlags } from "../tools/permissions.ts";
import { assertEquals } from "../src/server/_assert.ts";

const ROOT = new URL("../", import.meta.url).pathname;

Deno.test("B17: a command started by serve under the binary's permissions sees fds 0-2 only", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "kt-fds-" });
  try {
    // The replay's UDP door opens (tests/testdata/pcap/make.ts). The command is exec'd bash
    // (dash execs the last command of a list with no redirections of its own), which tests each
    // descriptor number with stat(2) only and prints the open ones on the stdout it inherited
    // from serve: no redirection, no directory handle of its own to tell apart.
    const probe =
      `for i in $(seq 3 1023); do [ -e /proc/$$/fd/$i ] && echo fd:$i; done; echo probed`;
    Deno.writeTextFileSync(
      `${dir}/knockd.conf`,
      `[udp]\n  sequence = 5555:udp\n  command = bash -c '${probe}'\n`,
    );
    const serve = [
      Deno.execPath(),
      "run",
      ...permissionFlags(),
      `${ROOT}main.ts`,
      "serve",
      "--pcap-file",
      `${ROOT}tests/testdata/pcap/knocks.pcap`,
      "-c",
      `${dir}/knockd.conf`,
      "--address",
      "192.0.2.1",
    ];
    // fd 7 is open in serve's process when it starts, as a service manager's extra socket would be.
    const out = await new Deno.Command("bash", {
      args: ["-c", `exec 7>"$1"/held; shift; exec "$@"`, "bash", dir, ...serve],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(out.stderr);
    const stdout = new TextDecoder().decode(out.stdout);
    assertEquals(out.code, 0, `serve exit status (stderr: ${err})`);
    const probes = stdout.split("\n").filter((l) => l === "probed").length;
    assertEquals(probes > 0, true, `a command ran (stdout: ${stdout}, stderr: ${err})`);
    assertEquals(
      stdout.split("\n").filter((l) => l.startsWith("fd:")),
      [],
      "descriptors above 2 open in the command",
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
