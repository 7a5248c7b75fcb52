import assert from "node:assert/strict";
import { parseConfig } from "./parse.ts";
import { extensionsUsed, notLoadableLine, usesFeature } from "./extensions.ts";
import { cidrsContain } from "./cidr.ts";

function errorOf(text: string) {
  const r = parseConfig(text);
  assert(!r.ok, "accepted");
  return r.error;
}

Deno.test("extensions: the grant directives parse and are listed with their lines", () => {
  const r = parseConfig(
    "[options]\nState_Dir = /tmp/s\nMax_Starts_Per_Minute = 5\n[a]\nsequence=1,2\n" +
      "Nft_Set = inet kt allow4\nnft_set_6 = ip6 t s6\nFrom = 198.51.100.0/24, 2001:db8::/32\n" +
      "cooldown = 30\n",
  );
  assert(r.ok);
  const d = r.config.doors[0]!;
  assert.deepEqual(d.nftSet, { family: "inet", table: "kt", set: "allow4", line: 6 });
  assert.deepEqual(d.nftSet6, { family: "ip6", table: "t", set: "s6", line: 7 });
  assert.deepEqual(d.from?.map((c) => c.text), ["198.51.100.0/24", "2001:db8::/32"]);
  assert.equal(d.cooldown, 30);
  assert.equal(r.config.options.stateDir, "/tmp/s");
  assert.equal(r.config.options.maxStartsPerMinute, 5);
  assert.deepEqual(extensionsUsed(r.config).map((u) => `${u.directive}@${u.line}`), [
    "State_Dir@2",
    "Max_Starts_Per_Minute@3",
    "Nft_Set@6",
    "Nft_Set_6@7",
    "From@8",
    "Cooldown@9",
  ]);
  assert.equal(usesFeature(r.config, "grants"), true);
  assert.equal(
    notLoadableLine(r.config),
    'Not loadable by knockd 0.8: uses the knocktool extensions "State_Dir" (line 2), ' +
      '"Max_Starts_Per_Minute" (line 3), "Nft_Set" (line 6), "Nft_Set_6" (line 7), ' +
      '"From" (line 8), "Cooldown" (line 9)',
  );
  assert(cidrsContain(d.from!, "198.51.100.200"));
  assert(!cidrsContain(d.from!, "198.51.101.1"));
});

Deno.test("extensions: a knockd file uses none and keeps its exact model", () => {
  const r = parseConfig("[a]\nsequence=1\n");
  assert(r.ok);
  assert.equal("extensions" in r.config, false);
  assert.equal(notLoadableLine(r.config), undefined);
  assert.equal(usesFeature(r.config, "grants"), false);
});

Deno.test("extensions: bad values name the line", () => {
  assert.deepEqual(errorOf("[a]\nsequence=1\nNft_Set = inet kt\n"), {
    message:
      'Cannot parse "Nft_Set" at line 3: expected "FAMILY TABLE SET" (FAMILY one of ip, ip6, inet, arp, bridge, netdev; e.g. "inet knock allow4") but found "inet kt"',
    knockdText: "config: line 3: syntax error",
    line: 3,
    section: "a",
  });
  assert.equal(
    errorOf("[a]\nsequence=1\nNft_Set = inet kt {x}\n").message.startsWith(
      'Cannot parse "Nft_Set" at line 3: expected',
    ),
    true,
  );
  assert.equal(
    errorOf("[a]\nsequence=1\nFrom = 192.0.2.0/24,1.2.3.4/33\n").message,
    'Cannot parse "From" at line 3: "1.2.3.4/33" is not an IPv4 or IPv6 address or CIDR block (e.g. "198.51.100.0/24")',
  );
  assert.equal(
    errorOf("[a]\nsequence=1\nCooldown = -1\n").message,
    'Cannot parse "Cooldown" at line 3: "-1" must be a whole number',
  );
  assert.equal(
    errorOf("[options]\nMax_Starts_Per_Minute = lots\n[a]\nsequence=1\n").message,
    'Cannot parse "Max_Starts_Per_Minute" at line 2: "lots" must be a whole number',
  );
  assert.equal(
    errorOf("[options]\nState_Dir =\n[a]\nsequence=1\n").message,
    'Cannot parse line 2: "State_Dir" needs a directory',
  );
  assert.equal(
    errorOf("[a]\nsequence=1\nNft_Set = inet kt s\ncmd_timeout = 0\n").message,
    'Cannot load door "a" at line 4: "Nft_Set" needs a positive "Cmd_Timeout" (the element\'s timeout), got "0"',
  );
});
