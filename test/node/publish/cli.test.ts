import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { writeBigDemoTree, writeDemoTree } from "../../../scripts/lib/stack/demo-tree";
import { LocalKvTarget } from "../../../scripts/lib/kv/local-kv";
import { publishTree } from "../../../scripts/lib/publish/publish-tree";
import { localNamespaceId } from "../../../scripts/lib/kv/wrangler-config";
import { REF_NAME_ANNOTATION } from "../../../src/oci/layout";
import { MAX_GENERATION } from "../../../src/oci/marker";
import type { CrawlState } from "../../../src/mirrors/types";
import { crawlStateEntry, publishingEntry, putEntry } from "../../../src/store/encode";
import { keys } from "../../../src/store/keys";
import { PROJECT, run, runCli, withTempDir } from "./run-cli";
import { stubWrangler, type StubWrangler } from "./stub-wrangler";

// Each CLI run starts Node, tsx and often workerd: seconds on a busy machine.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 30_000 });

const NAMESPACE_ID = "0123456789abcdef0123456789abcdef";
const WRANGLER = join(PROJECT, "node_modules", ".bin", "wrangler");

let dir: Awaited<ReturnType<typeof withTempDir>>;
let tree: string;
let persist: string;
let stub: StubWrangler;
beforeEach(async () => {
  dir = await withTempDir();
  tree = join(dir.path, "tree");
  persist = join(dir.path, "state");
  stub = await stubWrangler(dir.path);
});
afterEach(async () => {
  await dir.remove();
});

async function demoTree(): Promise<void> {
  await writeDemoTree(tree);
}

/** Publishes the tree to the local persist dir in-process, as `frontdoor publish --local` does. */
async function publishLocally(): Promise<number> {
  const target = new LocalKvTarget(persist, await localNamespaceId());
  try {
    return (await publishTree(tree, target)).generation;
  } finally {
    await target.close();
  }
}

/** `frontdoor publish <tree> --remote --dry-run <bulk>` against the stub wrangler's namespace. */
function dryRun(bulk: string) {
  return runCli(["publish", tree, "--remote", "--namespace-id", NAMESPACE_ID, "--dry-run", bulk], { FRONTDOOR_WRANGLER: stub.path });
}

/** Opens the local KV the CLI wrote, for one look. */
async function withLocalKv<T>(look: (kv: KVNamespace) => Promise<T>): Promise<T> {
  const target = new LocalKvTarget(persist, await localNamespaceId());
  try {
    return await look(await target.kv());
  } finally {
    await target.close();
  }
}

/** Removes one ref from the tree's index.json; its blobs stay on disk. */
async function dropRef(ref: string): Promise<void> {
  const file = join(tree, "index.json");
  const index = await readJson(file);
  index.manifests = index.manifests.filter((entry: { annotations?: Record<string, string> }) => entry.annotations?.[REF_NAME_ANNOTATION] !== ref);
  await writeFile(file, JSON.stringify(index));
}

async function readJson(path: string) {
  return JSON.parse(await readFile(path, "utf8"));
}

async function rootDigest(): Promise<string> {
  return (await readJson(join(tree, "index.json"))).manifests[0].digest;
}

describe("frontdoor CLI: usage", () => {
  it("Should print the commands for --help and exit 0", async () => {
    const result = await runCli(["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("publish <tree>");
  });

  it("Should print a command's help for <command> --help", async () => {
    const result = await runCli(["mirrors", "load", "--help"]);
    expect([result.code, result.stdout]).toEqual([0, expect.stringContaining("Usage: frontdoor mirrors load")]);
  });

  it("Should say in each command's help what its own --dry-run does", async () => {
    const mirrors = (await runCli(["mirrors", "load", "--help"])).stdout;
    const publish = (await runCli(["publish", "--help"])).stdout;
    expect([mirrors.includes("the namespace is only read\n                            for its switches"), mirrors.includes("publish"), publish.includes("publish still reads the namespace")]).toEqual([true, false, true]);
  });

  it("Should exit 2 and say what is missing when publish gets no target", async () => {
    const result = await runCli(["publish", tree]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("give --local <persist-dir> or --remote --namespace-id <id>");
  });

  it("Should exit 2 for an unknown option", async () => {
    const result = await runCli(["publish", tree, "--locale", persist]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--locale");
  });
});

describe("frontdoor demo", () => {
  it("Should write a tree that skopeo copies with all its platforms", async () => {
    expect((await runCli(["demo", tree])).code).toBe(0);
    const result = await run("skopeo", ["copy", "--all", `oci:${tree}:demo/hello:latest`, `oci:${join(dir.path, "copy")}:demo/hello:latest`]);
    expect(result.code, result.stderr).toBe(0);
    expect((await readdir(join(dir.path, "copy", "blobs", "sha256"))).sort()).toEqual((await readdir(join(tree, "blobs", "sha256"))).sort());
  });

  it("Should keep the other refs of an existing index.json", async () => {
    await demoTree();
    expect((await runCli(["demo", tree, "--repository", "demo/other", "--tag", "v1"])).code).toBe(0);
    const refs = (await readJson(join(tree, "index.json"))).manifests.map((m: { annotations: Record<string, string> }) => m.annotations["org.opencontainers.image.ref.name"]);
    expect(refs).toEqual(["demo/hello:latest", "demo/other:v1"]);
  });
});

describe("frontdoor publish", () => {
  it("Should exit 1 naming the missing layer and leave the tree without a marker", async () => {
    await demoTree();
    const blobs = await readdir(join(tree, "blobs", "sha256"));
    const largest = (await Promise.all(blobs.map(async (name) => ({ name, size: (await readFile(join(tree, "blobs", "sha256", name))).byteLength })))).sort(
      (a, b) => b.size - a.size,
    )[0]!.name;
    await rm(join(tree, "blobs", "sha256", largest));
    const result = await dryRun(join(dir.path, "bulk"));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`BLOB_MISSING`);
    expect(result.stderr).toContain(`blobs/sha256/${largest}`);
    await expect(readdir(join(tree, "frontdoor"))).rejects.toThrow();
  });

  it("Should exit 1 in one line for a tree path that is a file", async () => {
    const file = join(dir.path, "a-file");
    await writeFile(file, "not a tree");
    const result = await runCli(["publish", file, "--local", persist]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(`frontdoor publish: LAYOUT_INVALID: ${file} is a file, not a folder: an OCI image layout is a folder`);
  });

  it("Should exit 1 for a folder that is not an image layout", async () => {
    const result = await runCli(["publish", dir.path, "--local", persist]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("oci-layout is missing");
  });

  it("Should write KV that wrangler's own local commands read", async () => {
    await demoTree();
    const published = await runCli(["publish", tree, "--local", persist]);
    expect(published.stdout).toContain("Published generation 1");
    const result = await run(WRANGLER, ["kv", "key", "get", keys.tag("demo/hello", "latest"), "--binding", "REGISTRY", "--local", "--persist-to", persist]);
    expect(result.stdout).toBe(await readFile(join(tree, "blobs", "sha256", (await rootDigest()).slice("sha256:".length)), "latin1"));
  });

  it("Should write the marker and first-seen.json into the tree after publishing", async () => {
    await demoTree();
    await publishLocally();
    expect((await readJson(join(tree, "frontdoor", "generation"))).generation).toBe(1);
    expect((await readJson(join(tree, "frontdoor", "first-seen.json")))[await rootDigest()]).toBe(1);
  });

  it("Should keep the generation of an unchanged tree, leave its marker alone, and give a changed tree the next one", async () => {
    await demoTree();
    await publishLocally();
    const marker = await stat(join(tree, "frontdoor", "generation"));
    expect(await publishLocally()).toBe(1);
    expect((await stat(join(tree, "frontdoor", "generation"))).mtimeMs).toBe(marker.mtimeMs);
    await writeDemoTree(tree, { tag: "v2", message: "v2" });
    expect(await publishLocally()).toBe(2);
    expect((await readJson(join(tree, "frontdoor", "first-seen.json")))[await rootDigest()]).toBe(1);
  });

  it("Should say that an unchanged tree is unchanged, and write nothing", async () => {
    await demoTree();
    expect((await runCli(["publish", tree, "--local", persist])).code).toBe(0);
    const again = await runCli(["publish", tree, "--local", persist]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`Unchanged: ${tree} is generation 1`);
    expect(again.stdout).toContain("0 KV writes, 0 deletions");
  });

  it("Should keep the namespace's generation, and write the marker back, when the tree lost its marker but not its content", async () => {
    await demoTree();
    await publishLocally();
    await rm(join(tree, "frontdoor"), { recursive: true });
    expect(await publishLocally()).toBe(1);
    expect((await readJson(join(tree, "frontdoor", "generation"))).generation).toBe(1);
  });

  it("Should keep each blob's first-seen generation, from the namespace's inventory, for a tree that lost first-seen.json", async () => {
    await demoTree();
    await publishLocally();
    await writeBigDemoTree(tree);
    expect(await publishLocally()).toBe(2);
    const firstSeen = await readJson(join(tree, "frontdoor", "first-seen.json"));
    expect(new Set(Object.values(firstSeen))).toEqual(new Set([1, 2]));
    await rm(join(tree, "frontdoor"), { recursive: true });
    expect(await publishLocally()).toBe(2);
    expect(await readJson(join(tree, "frontdoor", "first-seen.json"))).toEqual(firstSeen);
  });

  it("Should continue from the tree's marker when the namespace is behind", async () => {
    await demoTree();
    await publishLocally();
    await writeFile(join(tree, "frontdoor", "generation"), '{"generation":7,"published":"2026-11-27T00:00:00Z"}\n');
    expect(await publishLocally()).toBe(8);
  });

  it("Should refuse a tree marker past the highest generation, which would leave no generation to follow it", async () => {
    await demoTree();
    await publishLocally();
    await writeFile(join(tree, "frontdoor", "generation"), '{"generation":9007199254740990,"published":"2026-11-27T00:00:00Z"}\n');
    await expect(publishLocally()).rejects.toThrow(`frontdoor/generation is not a marker {"generation": N, "published": "<RFC 3339>"} with N from 1 to ${MAX_GENERATION}`);
    await writeFile(join(tree, "frontdoor", "generation"), `{"generation":${MAX_GENERATION},"published":"2026-11-27T00:00:00Z"}\n`);
    await expect(publishLocally()).rejects.toThrow(`the tree or the namespace is at generation ${MAX_GENERATION}: no publication can follow`);
    expect(await withLocalKv(async (kv) => (await kv.get<{ generation: number }>(keys.publication(), "json"))?.generation)).toBe(1);
  });

  it("Should refuse, before writing KV, a tree whose set marker could not be written", async () => {
    await demoTree();
    await publishLocally();
    await mkdir(join(tree, "frontdoor", "sets", "amd64", "generation"), { recursive: true });
    const target = new LocalKvTarget(persist, await localNamespaceId());
    try {
      const [before, started] = [await target.readPublication(), await target.readText(keys.publishing())];
      const sets = [{ name: "amd64", repositories: ["*"], platforms: [{ os: "linux", architecture: "amd64" }] }];
      await expect(publishTree(tree, target, { sets })).rejects.toThrow("frontdoor/sets/amd64/generation is a directory");
      expect(await target.readPublication()).toEqual(before);
      expect(await target.readText(keys.publishing())).toBe(started);
    } finally {
      await target.close();
    }
  });

  it("Should write dry-run bulk files that wrangler kv bulk put loads into the same entries", async () => {
    await demoTree();
    const bulk = join(dir.path, "bulk");
    const result = await dryRun(bulk);
    expect(result.code, result.stderr).toBe(0);
    expect(await readdir(bulk)).toEqual(["1-content.json", "2-pointers.json", "3-publication.json", "4-deletions-pointers.json", "5-deletions-content.json"]);
    for (const file of ["1-content.json", "2-pointers.json", "3-publication.json"]) {
      const result = await run(WRANGLER, ["kv", "bulk", "put", join(bulk, file), "--binding", "REGISTRY", "--local", "--persist-to", persist]);
      expect(result.code, result.stderr).toBe(0);
    }
    const target = new LocalKvTarget(persist, await localNamespaceId());
    try {
      const kv = await target.kv();
      const { value, metadata } = await kv.getWithMetadata(keys.tag("demo/hello", "latest"), "arrayBuffer");
      expect(Buffer.from(value!)).toEqual(await readFile(join(tree, "blobs", "sha256", (await rootDigest()).slice("sha256:".length))));
      expect(metadata).toMatchObject({ digest: await rootDigest() });
    } finally {
      await target.close();
    }
  });

  it("Should leave the tree untouched on a dry run", async () => {
    await demoTree();
    expect((await dryRun(join(dir.path, "bulk"))).code).toBe(0);
    await expect(readdir(join(tree, "frontdoor"))).rejects.toThrow();
  });

  it("Should say a dry run would publish the generation after the namespace's", async () => {
    await demoTree();
    stub = await stubWrangler(dir.path, { [keys.publication()]: JSON.stringify({ generation: 4, published: "2026-11-27T00:00:00Z", sample: [] }) });
    const result = await dryRun(join(dir.path, "bulk"));
    expect(result.stdout).toContain(`Dry run: would publish generation 5 of ${tree} to remote KV namespace ${NAMESPACE_ID}; the tree marker is not written.`);
    expect(result.stdout).not.toContain("Published");
  });

  it("Should write nothing into the namespace on a dry run", async () => {
    await demoTree();
    expect((await dryRun(join(dir.path, "bulk"))).code).toBe(0);
    expect((await stub.calls()).map((args) => args.slice(0, 3).join(" ")).filter((call) => !call.startsWith("kv key"))).toEqual([]);
  });

  it("Should list the namespace's tag that the tree lacks in the dry run's deletion file", async () => {
    await demoTree();
    stub = await stubWrangler(dir.path, { [keys.tag("demo/hello", "old")]: "{}", [keys.tag("demo/hello", "latest")]: "{}" });
    const bulk = join(dir.path, "bulk");
    expect((await dryRun(bulk)).code).toBe(0);
    expect(await readJson(join(bulk, "4-deletions-pointers.json"))).toEqual([keys.tag("demo/hello", "old")]);
  });

  it("Should delete a dropped tag and its own layers from local KV on the next publish", async () => {
    await demoTree();
    await writeDemoTree(tree, { tag: "old", message: "old" });
    const oldRoot = (await readJson(join(tree, "index.json"))).manifests[1].digest;
    expect((await runCli(["publish", tree, "--local", persist])).code).toBe(0);
    await dropRef("demo/hello:old");
    const result = await runCli(["publish", tree, "--local", persist]);
    expect(result.code, result.stderr).toBe(0);
    const held = await withLocalKv(async (kv) => (await kv.list()).keys.map((key) => key.name));
    expect(held).toContain(keys.tag("demo/hello", "latest"));
    expect(held.filter((key) => key === keys.tag("demo/hello", "old") || key.endsWith(`@${oldRoot}`))).toEqual([]);
  });
});

describe("frontdoor publish after a publication that was cut off", () => {
  it("Should say so, take the next generation and complete it", async () => {
    await demoTree();
    expect((await runCli(["publish", tree, "--local", persist])).code).toBe(0);
    await withLocalKv((kv) => putEntry(kv, publishingEntry({ generation: 2, started: "2026-12-01T08:00:00Z" })));
    await writeDemoTree(tree, { tag: "next", message: "next" });
    const result = await runCli(["publish", tree, "--local", persist]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("generation 2, started 2026-12-01T08:00:00Z, never finished");
    expect(result.stdout).toContain("Published generation 3");
    const [publication, publishing] = await withLocalKv(async (kv) => [await kv.get<{ generation: number }>(keys.publication(), "json"), await kv.get<{ generation: number }>(keys.publishing(), "json")]);
    expect(publication?.generation).toBe(3);
    expect(publishing?.generation).toBe(3);
  });
});

describe("frontdoor publish refuses what would empty the registry", () => {
  async function emptyIndex(): Promise<void> {
    const index = await readJson(join(tree, "index.json"));
    await writeFile(join(tree, "index.json"), JSON.stringify({ ...index, manifests: [] }));
  }

  it("Should exit 1 and keep every tag when index.json names no refs any more, and publish it with --allow-drop", async () => {
    await demoTree();
    expect((await runCli(["publish", tree, "--local", persist])).code).toBe(0);
    await emptyIndex();
    const refused = await runCli(["publish", tree, "--local", persist]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("DROPS_TOO_MUCH: this publication would stop serving 1 of the 1 image tags served now");
    expect(refused.stderr).toContain("--allow-drop");
    expect(await withLocalKv(async (kv) => kv.get(keys.tag("demo/hello", "latest")))).not.toBeNull();
    const allowed = await runCli(["publish", tree, "--local", persist, "--allow-drop"]);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(await withLocalKv(async (kv) => kv.get(keys.tag("demo/hello", "latest")))).toBeNull();
  });

  it("Should refuse a first publication of a tree that names no refs", async () => {
    await demoTree();
    await emptyIndex();
    const refused = await runCli(["publish", tree, "--local", persist]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("index.json names no refs: there is nothing to publish");
  });
});

describe("frontdoor mirrors load", () => {
  it("Should exit 1 naming the file and line of a bad entry and write nothing", async () => {
    const file = join(dir.path, "mirrors.toml");
    const example = await readFile(join(PROJECT, "mirrors.example.toml"), "utf8");
    await writeFile(file, example.replace('netblocks = ["192.0.2.0/24"', 'netblocks = ["192.0.2.9/24"'));
    const bulk = join(dir.path, "bulk");
    const result = await runCli(["mirrors", "load", file, "--remote", "--namespace-id", NAMESPACE_ID, "--dry-run", bulk]);
    const line = example.split("\n").findIndex((text) => text.startsWith('netblocks = ["192.0.2.0/24"')) + 1;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file}:${line}: mirror[0].netblocks[0]`);
    await expect(readdir(bulk)).rejects.toThrow();
  });

  it("Should refuse a table over KV's value limit before any write, on a remote dry run too", async () => {
    const file = join(dir.path, "mirrors.toml");
    const netblocks = JSON.stringify(Array.from({ length: 10_000 }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`));
    const mirror = (i: number) => `[[mirror]]\nid = "m${i}"\nbase_url = "https://m${i}.example.net/oci"\ncountry = "DE"\ncontinent = "EU"\nbandwidth = 1\nnetblocks = ${netblocks}\n`;
    await writeFile(file, Array.from({ length: 200 }, (_, i) => mirror(i)).join(""));
    const bulk = join(dir.path, "bulk");
    const result = await runCli(["mirrors", "load", file, "--remote", "--namespace-id", NAMESPACE_ID, "--dry-run", bulk], { FRONTDOOR_WRANGLER: stub.path });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/TOO_LARGE: mirrors is \d+ bytes \(\d+\.\d MiB\), over KV's value limit of 26214400 bytes/);
    await expect(readdir(bulk)).rejects.toThrow();
  });

  it("Should write the mirror table with its version as metadata to local KV", async () => {
    const result = await runCli(["mirrors", "load", join(PROJECT, "mirrors.example.toml"), "--local", persist]);
    expect(result.code, result.stderr).toBe(0);
    const target = new LocalKvTarget(persist, await localNamespaceId());
    try {
      const kv = await target.kv();
      const { value, metadata } = await kv.getWithMetadata<{ version: string; mirrors: unknown[] }, { version: string }>(keys.mirrors(), "json");
      expect(metadata).toEqual({ version: value?.version });
      expect(value?.mirrors).toHaveLength(4);
    } finally {
      await target.close();
    }
  });

  async function storedTable(): Promise<{ version: string; bandwidths: number[] } | null> {
    return withLocalKv(async (kv) => {
      const table = await kv.get<{ version: string; mirrors: Array<{ bandwidth: number }> }>(keys.mirrors(), "json");
      return table === null ? null : { version: table.version, bandwidths: table.mirrors.map((mirror) => mirror.bandwidth) };
    });
  }

  async function loadLocally(text: string) {
    const file = join(dir.path, "mirrors.toml");
    await writeFile(file, text);
    return runCli(["mirrors", "load", file, "--local", persist]);
  }

  it("Should keep the stored table when a bad file is loaded", async () => {
    const example = await readFile(join(PROJECT, "mirrors.example.toml"), "utf8");
    expect((await loadLocally(example)).code).toBe(0);
    const before = await storedTable();
    const result = await loadLocally(example.replace('netblocks = ["192.0.2.0/24"', 'netblocks = ["192.0.2.9/24"'));
    expect(result.code).toBe(1);
    expect(await storedTable()).toEqual(before);
  });

  it("Should keep the stored table when an empty file is loaded", async () => {
    expect((await loadLocally(await readFile(join(PROJECT, "mirrors.example.toml"), "utf8"))).code).toBe(0);
    const before = await storedTable();
    const result = await loadLocally("");
    expect([result.code, result.stderr]).toEqual([1, expect.stringContaining("no [origin] and no enabled [[mirror]]")]);
    expect(await storedTable()).toEqual(before);
  });

  it("Should keep the crawler's state when a changed file replaces the table", async () => {
    const example = await readFile(join(PROJECT, "mirrors.example.toml"), "utf8");
    expect((await loadLocally(example)).code).toBe(0);
    const crawl = crawlStateEntry({ "fra-1": { status: "up" } } as unknown as CrawlState, "crawl-1");
    await withLocalKv((kv) => putEntry(kv, crawl));
    const before = await storedTable();
    const changed = example.replace(/^bandwidth = 10$/m, "bandwidth = 11");
    expect(changed).not.toBe(example);
    expect((await loadLocally(changed)).code).toBe(0);
    const after = await storedTable();
    expect(after?.version).not.toBe(before?.version);
    expect(after?.bandwidths[0]).toBe(11);
    expect(await withLocalKv((kv) => kv.getWithMetadata(keys.crawlState(), "text"))).toMatchObject({ value: crawl.value, metadata: { version: "crawl-1" } });
  });
});
