import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { treeRefNames } from "../../scripts/lib/stack/demo-tree";
import { BIG_DEMO_REF, DEMO_MIRRORS, ensureDemoTree, mirrorsToml, startLocalStack } from "../../scripts/lib/stack/local-stack";
import { parseMirrorConfig } from "../../scripts/lib/publish/mirrors-config";

const mirrors = DEMO_MIRRORS.map((spec, index) => ({ ...spec, baseUrl: `http://127.0.0.1:${41000 + index}` }));

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "local-stack-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Command lines of the processes on this machine that mention `text`. */
async function processesMentioning(text: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const command = (await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "")).replaceAll("\0", " ");
    if (command.includes(text)) found.push(`${entry}: ${command}`);
  }
  return found;
}

describe("local stack mirrors config", () => {
  it("Should generate a mirrors file that the publisher accepts", async () => {
    const table = await parseMirrorConfig(mirrorsToml("http://127.0.0.1:40999", mirrors));
    expect(table.mirrors.map((mirror) => [mirror.id, mirror.baseUrl, mirror.country, mirror.continent])).toEqual(
      mirrors.map((mirror) => [mirror.id, mirror.baseUrl, mirror.country, mirror.continent]),
    );
  });

  it("Should name the origin in the generated file", async () => {
    const table = await parseMirrorConfig(mirrorsToml("http://127.0.0.1:40999", mirrors));
    expect(table.origin?.baseUrl).toBe("http://127.0.0.1:40999");
  });

  it("Should place the demo mirrors on three continents", () => {
    expect(new Set(DEMO_MIRRORS.map((mirror) => mirror.continent)).size).toBe(3);
  });
});

describe("local stack start", () => {
  it("Should build the demo tree again when an earlier build stopped before index.json", async () => {
    const tree = join(dir, "half-built");
    await mkdir(tree, { recursive: true });
    await writeFile(join(tree, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    await ensureDemoTree(tree);
    const index = JSON.parse(await readFile(join(tree, "index.json"), "utf8")) as { manifests: unknown[] };
    expect(index.manifests.length).toBeGreaterThan(0);
  });

  it("Should add the big demo image, with layers of several MiB, to a tree built before it existed", async () => {
    const tree = join(dir, "without-big");
    await ensureDemoTree(tree);
    const index = join(tree, "index.json");
    await writeFile(index, (await readFile(index, "utf8")).replace(BIG_DEMO_REF, "demo/other:latest"));
    await ensureDemoTree(tree);
    expect(await treeRefNames(tree)).toContain(BIG_DEMO_REF);
    const sizes = await Promise.all((await readdir(join(tree, "blobs", "sha256"))).map(async (hex) => (await stat(join(tree, "blobs", "sha256", hex))).size));
    expect(sizes.filter((size) => size > 3 * 1024 * 1024).length).toBeGreaterThanOrEqual(2);
  });

  it("Should reuse a tree that has every demo image", async () => {
    const tree = join(dir, "complete");
    await ensureDemoTree(tree);
    const before = (await stat(join(tree, "index.json"))).mtimeMs;
    await ensureDemoTree(tree);
    expect((await stat(join(tree, "index.json"))).mtimeMs).toBe(before);
  });

  it("Should refuse a fault for a mirror it does not start", async () => {
    await expect(startLocalStack({ stateDir: join(dir, "unknown-fault"), port: 0, faults: new Map([["xx-yyy", { name: "refused" }]]) })).rejects.toThrow(/xx-yyy/);
  });

  it("Should stop bundling the worker when the start fails early", { timeout: 30_000 }, async () => {
    const stateDir = join(dir, "broken-state");
    await mkdir(stateDir, { recursive: true });
    // A file where the demo tree should be: building it fails while wrangler is bundling.
    await writeFile(join(stateDir, "tree"), "not a directory");
    await expect(startLocalStack({ stateDir, port: 0, mirrors: [] })).rejects.toThrow();
    expect(await processesMentioning(join(stateDir, "worker"))).toEqual([]);
  });
});
