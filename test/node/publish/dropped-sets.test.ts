import { mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { writeDemoTree } from "../../../scripts/lib/stack/demo-tree";
import { LocalKvTarget } from "../../../scripts/lib/kv/local-kv";
import { publishTree, type PublishTreeOptions } from "../../../scripts/lib/publish/publish-tree";
import { localNamespaceId } from "../../../scripts/lib/kv/wrangler-config";
import type { ContentSet } from "../../../src/publish/content-sets";
import { withTempDir } from "./run-cli";

// Each publication opens local KV through workerd: seconds on a busy machine.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 30_000 });

const AA: ContentSet = { name: "aa", repositories: ["*"], platforms: [] };
const BB: ContentSet = { name: "bb", repositories: ["demo/*"], platforms: [{ os: "linux", architecture: "arm64" }] };

let dir: Awaited<ReturnType<typeof withTempDir>>;
let tree: string;
let warnings: string[];
beforeEach(async () => {
  dir = await withTempDir();
  tree = join(dir.path, "tree");
  warnings = [];
  await writeDemoTree(tree);
});
afterEach(async () => {
  await dir.remove();
});

/** Publishes the tree to local KV in-process, as `frontdoor publish --local [--sets]` does, collecting its warnings. */
async function publish(sets: ContentSet[] | undefined, options: PublishTreeOptions = {}) {
  const target = new LocalKvTarget(join(dir.path, "state"), await localNamespaceId());
  try {
    return await publishTree(tree, target, { warn: (message) => warnings.push(message), ...(sets === undefined ? {} : { sets }), ...options });
  } finally {
    await target.close();
  }
}

function setsFolder(...names: string[]): string {
  return join(tree, "frontdoor", "sets", ...names);
}

async function generationOf(path: string): Promise<number> {
  return (JSON.parse(await readFile(path, "utf8")) as { generation: number }).generation;
}

describe("frontdoor publish removes the folders of sets it no longer has", () => {
  it("Should remove a dropped set's folder, its writer's leftovers with it, and keep the other set current", async () => {
    await publish([AA, BB]);
    await writeFile(setsFolder("bb", "files.tmp-4242"), "cut off");
    const result = await publish([AA]);
    expect(result.removedSets).toEqual(["bb"]);
    expect(await readdir(setsFolder())).toEqual(["aa"]);
    expect(await generationOf(setsFolder("aa", "generation"))).toBe(result.generation);
    expect(await generationOf(join(tree, "frontdoor", "generation"))).toBe(result.generation);
    const written = new Map([...result.setFiles, ...result.setMarkers].map((file) => [file.path, new TextDecoder().decode(file.bytes)]));
    for (const name of ["index.json", "files", "generation"]) expect(await readFile(setsFolder("aa", name), "utf8")).toBe(written.get(`frontdoor/sets/aa/${name}`));
    expect(warnings).toEqual([]);
  });

  it("Should remove every set's folder when published without sets, which leaves no mirror a set to carry", async () => {
    await publish([AA, BB]);
    expect((await publish(undefined)).removedSets).toEqual(["aa", "bb"]);
    expect(await readdir(setsFolder())).toEqual([]);
  });

  it("Should leave a dropped set's folder that holds a file of someone else's alone, and say so", async () => {
    await publish([AA, BB]);
    await writeFile(setsFolder("bb", "notes.txt"), "mine");
    const result = await publish([AA]);
    expect(result.removedSets).toEqual([]);
    expect((await readdir(setsFolder("bb"))).sort()).toEqual(["files", "generation", "index.json", "notes.txt"]);
    expect(warnings).toEqual([expect.stringContaining("frontdoor/sets/bb holds notes.txt: not a set folder the publisher wrote, left in place")]);
  });

  it("Should not follow a set folder that links out of the tree", async () => {
    const outside = await withTempDir();
    try {
      for (const name of ["index.json", "files", "generation"]) await writeFile(join(outside.path, name), "outside");
      await publish([AA]);
      await symlink(outside.path, setsFolder("bb"));
      expect((await publish([AA])).removedSets).toEqual([]);
      expect((await readdir(outside.path)).sort()).toEqual(["files", "generation", "index.json"]);
      expect((await readdir(setsFolder())).sort()).toEqual(["aa", "bb"]);
      expect(warnings).toEqual([expect.stringContaining("frontdoor/sets/bb is a link")]);
    } finally {
      await outside.remove();
    }
  });

  it("Should remove nothing when it does not write the tree, as on a dry run", async () => {
    await publish([AA, BB]);
    await mkdir(setsFolder("zz"));
    const result = await publish([AA], { writeTree: false });
    expect(result.removedSets).toEqual([]);
    expect((await readdir(setsFolder())).sort()).toEqual(["aa", "bb", "zz"]);
    expect(warnings).toEqual([]);
  });
});
