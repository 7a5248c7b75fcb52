import { deepStrictEqual } from "node:assert/strict";
import { NssLookup } from "./lookup.ts";

/** The name /etc/hosts gives 127.0.0.1, read the way NSS would find it first. */
function hostsName(ip: string): string | undefined {
  for (const line of Deno.readTextFileSync("/etc/hosts").split("\n")) {
    const f = line.replace(/#.*/, "").trim().split(/\s+/);
    if (f[0] === ip && f[1] !== undefined) return f[1];
  }
  return undefined;
}

Deno.test("NssLookup resolves through NSS (/etc/hosts) in the background and caches", async () => {
  const l = new NssLookup();
  l.request("127.0.0.1");
  deepStrictEqual(l.cached("127.0.0.1"), undefined); // never synchronous
  await l.close();
  deepStrictEqual(l.cached("127.0.0.1"), hostsName("127.0.0.1"));
});

Deno.test("NssLookup: an address without a name stays unnamed", async () => {
  const l = new NssLookup();
  l.request("not an address");
  l.request("192.0.2.250");
  await l.close();
  deepStrictEqual(l.cached("not an address"), undefined);
});

Deno.test("NssLookup: bounded concurrency, queue and cache", async () => {
  const pending = new Map<string, (name: string | null) => void>();
  const started: string[] = [];
  const l = new NssLookup({
    cacheSize: 2,
    concurrency: 1,
    queueSize: 1,
    resolve: (ip) => {
      started.push(ip);
      return new Promise((r) => pending.set(ip, r));
    },
  });
  l.request("192.0.2.1"); // runs
  l.request("192.0.2.2"); // queued
  l.request("192.0.2.3"); // dropped: queue full
  l.request("192.0.2.1"); // already running: ignored
  deepStrictEqual(started, ["192.0.2.1"]);
  pending.get("192.0.2.1")!("one");
  await new Promise((r) => setTimeout(r, 0));
  deepStrictEqual(started, ["192.0.2.1", "192.0.2.2"]);
  deepStrictEqual(l.cached("192.0.2.1"), "one");
  pending.get("192.0.2.2")!("two");
  await new Promise((r) => setTimeout(r, 0));
  l.request("192.0.2.4");
  pending.get("192.0.2.4")!("four");
  await l.close();
  // Cache of 2: the oldest (192.0.2.1) was evicted.
  deepStrictEqual(
    ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"].map((ip) => l.cached(ip)),
    [undefined, "two", undefined, "four"],
  );
  deepStrictEqual(started, ["192.0.2.1", "192.0.2.2", "192.0.2.4"]);
  l.request("192.0.2.9"); // after close: ignored
  deepStrictEqual(started.length, 3);
});

Deno.test("NssLookup: a resolver that throws means no name, not an unhandled rejection", async () => {
  const l = new NssLookup({ resolve: () => Promise.reject(new Error("resolver down")) });
  l.request("192.0.2.7");
  l.request("192.0.2.8");
  await new Promise((r) => setTimeout(r, 0));
  await l.close();
  deepStrictEqual([l.cached("192.0.2.7"), l.cached("192.0.2.8")], [undefined, undefined]);
  l.request("192.0.2.7"); // cached as "no name": not asked again (would be ignored anyway: closed)
});

Deno.test("NssLookup: close waits a bounded time for a slow resolver", async () => {
  let finish: ((name: string | null) => void) | undefined;
  const l = new NssLookup({
    closeWaitMs: 20,
    resolve: () => new Promise((r) => (finish = r)),
  });
  l.request("192.0.2.7");
  const closed = l.close().then(() => "closed");
  // The resolver never answers by itself: close() must return on its own.
  deepStrictEqual(await closed, "closed");
  deepStrictEqual(l.cached("192.0.2.7"), undefined);
  finish!("late"); // the lookup settles later without harm
  await new Promise((r) => setTimeout(r, 0));
});
