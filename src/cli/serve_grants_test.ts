import { deepStrictEqual } from "node:assert/strict";
import { parseConfig } from "../config/parse.ts";
import type { GrantKeeper } from "../server/grant_keeper.ts";
import { checkReload, NO_GRANTS } from "./serve_grants.ts";

const DOOR = "[options]\n[d]\n  sequence = 7000\n  command = true\n";

Deno.test("serve grants: a reload that needs a restart for grants names each directive and line", () => {
  const grantless = checkReload(
    NO_GRANTS,
    parseConfig(DOOR + "  Cooldown = 5\n  Nft_Set = inet kt allow4\n"),
  );
  deepStrictEqual(
    grantless.ok ? "" : grantless.error.knockdText,
    [
      'Cannot apply "Cooldown" (line 5) on reload: the server started without the grant ' +
      "extensions; restart it",
      'Cannot apply "Nft_Set" (line 6) on reload: the server started without the grant ' +
      "extensions; restart it",
    ].join("\n"),
  );
  // A keeper but no libnftables: the first set needs a restart.
  const keeper = { keeper: {} as GrantKeeper, sets: undefined, close() {} };
  const setless = checkReload(keeper, parseConfig(DOOR + "  Nft_Set_6 = inet kt allow6\n"));
  deepStrictEqual(
    setless.ok ? "" : setless.error.knockdText,
    'Cannot apply "Nft_Set_6" (line 5) on reload: libnftables is loaded only when the starting ' +
      "config names a set; restart the server",
  );
  const plain = parseConfig(DOOR);
  deepStrictEqual(checkReload(NO_GRANTS, plain), plain);
});
