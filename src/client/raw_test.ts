import { deepStrictEqual, throws } from "node:assert/strict";
import { makeSockAddr, SocketError, type SocketLib } from "../../ffi/socket.ts";
import { probeDoor } from "./probe.ts";
import { RawSender, RawSocketError } from "./raw.ts";

const EMFILE = 24;
const ENOBUFS = 105;

/** A libc stand-in whose `socket()` fails like glibc's with `errno`. */
function failingLib(errno: number, text: string): SocketLib {
  const dst = makeSockAddr(new Uint8Array([127, 0, 0, 1]), 22);
  const fake = {
    socket(): number {
      throw new SocketError("socket", errno, text);
    },
    resolve: () => ({ ok: true, addr: dst, socktype: 1 }),
    numericHost: () => "127.0.0.1",
    closeFd(): void {
      throw new Error("Cannot close: no descriptor was opened");
    },
  };
  return fake as unknown as SocketLib;
}

Deno.test("raw: a failing socket() for the source probe is a std-voice error", () => {
  const sender = new RawSender(failingLib(EMFILE, "Too many open files"), {});
  throws(
    () => sender.sourceFor(makeSockAddr(new Uint8Array([127, 0, 0, 1]), 7000)),
    new RawSocketError("Cannot open socket: too many open files"),
  );
});

Deno.test("check: a failing socket() ends the check with status 1 and a message", async () => {
  const r = await probeDoor(
    { host: "localhost", port: "22", family: 0, attempts: 3, intervalMs: 10 },
    failingLib(ENOBUFS, "No buffer space available"),
  );
  deepStrictEqual(r, {
    ok: false,
    status: 1,
    error: "Cannot open socket: no buffer space available",
  });
});
