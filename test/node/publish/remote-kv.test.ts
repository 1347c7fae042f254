import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { writeDemoTree } from "../../../scripts/lib/stack/demo-tree";
import { publishTree } from "../../../scripts/lib/publish/publish-tree";
import { RemoteKvTarget } from "../../../scripts/lib/kv/remote-kv";
import { wranglerAt } from "../../../scripts/lib/kv/wrangler";
import { REF_NAME_ANNOTATION } from "../../../src/oci/layout";
import { keys } from "../../../src/store/keys";
import { withTempDir } from "./run-cli";
import { stubWrangler, type StubWrangler } from "./stub-wrangler";

// Every stub call starts a Node process.
vi.setConfig({ testTimeout: 60_000 });

const NAMESPACE_ID = "0123456789abcdef0123456789abcdef";
const PUBLICATION = { generation: 4, published: "2026-11-27T00:00:00Z", sample: [] };

let dir: Awaited<ReturnType<typeof withTempDir>>;
let tree: string;
beforeEach(async () => {
  dir = await withTempDir();
  tree = join(dir.path, "tree");
});
afterEach(async () => {
  await dir.remove();
});

function target(stub: StubWrangler): RemoteKvTarget {
  return new RemoteKvTarget({ namespaceId: NAMESPACE_ID, wrangler: wranglerAt(stub.path) });
}

/** Removes one ref from the tree's index.json; its blobs stay on disk, as after `skopeo delete`. */
async function dropRef(ref: string): Promise<void> {
  const file = join(tree, "index.json");
  const index = JSON.parse(await readFile(file, "utf8"));
  index.manifests = index.manifests.filter((entry: { annotations?: Record<string, string> }) => entry.annotations?.[REF_NAME_ANNOTATION] !== ref);
  await writeFile(file, JSON.stringify(index));
}

/** Publishes demo/hello:latest and demo/hello:old, then the tree without :old. */
async function publishThenDropOld(stub: StubWrangler): Promise<void> {
  await writeDemoTree(tree);
  await writeDemoTree(tree, { tag: "old", message: "old" });
  await publishTree(tree, target(stub));
  await dropRef("demo/hello:old");
  await publishTree(tree, target(stub));
}

describe("RemoteKvTarget", () => {
  it("Should read no publication from a fresh namespace, where getting a missing key fails with 404", async () => {
    const stub = await stubWrangler(dir.path);
    expect(await target(stub).readPublication()).toBeNull();
  });

  it("Should read the publication the namespace holds", async () => {
    const stub = await stubWrangler(dir.path, { [keys.publication()]: JSON.stringify(PUBLICATION) });
    expect(await target(stub).readPublication()).toEqual(PUBLICATION);
  });

  it("Should publish a tree into a fresh namespace", async () => {
    const stub = await stubWrangler(dir.path);
    await writeDemoTree(tree);
    await publishTree(tree, target(stub));
    expect(JSON.parse((await stub.kv())[keys.publication()]!).generation).toBe(1);
  });

  it("Should delete the keys of a tag dropped from the tree", async () => {
    const stub = await stubWrangler(dir.path);
    await publishThenDropOld(stub);
    const held = Object.keys(await stub.kv());
    expect(held).toContain(keys.tag("demo/hello", "latest"));
    expect(held).not.toContain(keys.tag("demo/hello", "old"));
  });

  it("Should run the bulk deletions with --force after every bulk put", async () => {
    const stub = await stubWrangler(dir.path);
    await publishThenDropOld(stub);
    const calls = (await stub.calls()).map((args) => args.slice(0, 3).join(" "));
    const firstDelete = calls.indexOf("kv bulk delete");
    expect(firstDelete).toBeGreaterThan(calls.lastIndexOf("kv bulk put"));
    expect((await stub.calls())[firstDelete]).toContain("--force");
  });
});
