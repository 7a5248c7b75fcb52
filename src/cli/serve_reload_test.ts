import { deepStrictEqual } from "node:assert/strict";
import { parseConfig } from "../config/parse.ts";
import type { ClusterOptions } from "../config/model.ts";
import { clusterReload } from "./serve_reload.ts";

const RUNNING: ClusterOptions = {
  servers: ["nats://192.0.2.10:4222"],
  name: "edge",
  node: "a",
  line: 2,
};

Deno.test("serve reload: Cluster added, removed or changed is logged as not applied; the running settings stay", () => {
  const added = clusterReload(
    undefined,
    parseConfig("[options]\n  Cluster = nats://192.0.2.10:4222\n[d]\nsequence = 7000\n"),
  );
  deepStrictEqual(added.notes, [
    'Cannot apply "Cluster = nats://192.0.2.10:4222" (line 2) on reload: the server started ' +
    "without cluster mode; restart it to join the fleet",
  ]);
  deepStrictEqual(added.result.ok && added.result.config.options.cluster, undefined);
  deepStrictEqual(added.result.ok && added.result.config.doors.length, 1);

  const removed = clusterReload(RUNNING, parseConfig("[options]\n[d]\nsequence = 7000\n"));
  deepStrictEqual(removed.notes, [
    'Cannot remove "Cluster" on reload: this node stays in fleet "edge" until a restart',
  ]);
  deepStrictEqual(removed.result.ok && removed.result.config.options.cluster, RUNNING);

  const changed = clusterReload(
    RUNNING,
    parseConfig(
      "[options]\n  Cluster = nats://192.0.2.11:4222, nats://192.0.2.12:4222\n" +
        "  Cluster_Node = b\n  Cluster_CA = /etc/ca.pem\n[d]\nsequence = 7000\n",
    ),
  );
  deepStrictEqual(changed.notes, [
    'Cannot apply "Cluster = nats://192.0.2.11:4222, nats://192.0.2.12:4222" (line 2) on ' +
    'reload: the node keeps "nats://192.0.2.10:4222" until a restart',
    'Cannot apply the removal of "Cluster_Name" on reload: the node keeps "edge" until a restart',
    'Cannot apply "Cluster_Node = b" (line 3) on reload: the node keeps "a" until a restart',
    'Cannot apply "Cluster_CA = /etc/ca.pem" (line 4) on reload: the node keeps the default ' +
    "until a restart",
  ]);
  deepStrictEqual(changed.result.ok && changed.result.config.options.cluster, RUNNING);

  const same = parseConfig(
    "[options]\n  Cluster = nats://192.0.2.10:4222\n  Cluster_Name = edge\n  Cluster_Node = a\n",
  );
  deepStrictEqual(clusterReload({ ...RUNNING, line: 7 }, same), { result: same, notes: [] });
  const broken = parseConfig("[options]\n  bogus = 1\n");
  deepStrictEqual(clusterReload(RUNNING, broken), { result: broken, notes: [] });
});

Deno.test("serve reload: a changed Cluster password is a change, and is never shown", () => {
  const running: ClusterOptions = { ...RUNNING, servers: ["nats://gw:old-pw@192.0.2.10:4222"] };
  const r = clusterReload(
    running,
    parseConfig(
      "[options]\n  Cluster = nats://gw:new-pw@192.0.2.10:4222\n  Cluster_Name = edge\n" +
        "  Cluster_Node = a\n",
    ),
  );
  deepStrictEqual(r.notes, [
    'Cannot apply "Cluster = nats://***@192.0.2.10:4222" (line 2) on reload: the node keeps ' +
    '"nats://***@192.0.2.10:4222" until a restart',
  ]);
  const added = clusterReload(undefined, parseConfig("[options]\n  Cluster = tls://tok@gw\n"));
  deepStrictEqual(added.notes, [
    'Cannot apply "Cluster = tls://***@gw" (line 2) on reload: the server started without ' +
    "cluster mode; restart it to join the fleet",
  ]);
});
