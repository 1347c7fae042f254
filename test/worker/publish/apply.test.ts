import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { computeDigest } from "../../../src/oci/reference";
import { blobPath, LAYOUT_FILES } from "../../../src/oci/layout";
import { MemoryLayout } from "../../../src/publish/layout";
import { planPublication } from "../../../src/publish/plan";
import { applyPlan, listPublished, listPublishedKeys, publishedHashes } from "../../../src/store/publication-store";
import { keys } from "../../../src/store/keys";
import type { BlobRecord, Publication } from "../../../src/store/records";
import { demo, demoParts, rootDescriptor, writeIndex } from "./layouts";

const PUBLISHED = "2026-11-27T12:00:00Z";

/** Plans a layout against what the test's namespace holds now and applies it. */
async function publish(layout: MemoryLayout, generation: number) {
  const plan = await planPublication(layout, { generation, published: PUBLISHED, currentKeys: await listPublishedKeys(env.REGISTRY) });
  await applyPlan(env.REGISTRY, plan);
  return plan;
}

async function publishDemo(generation = 1, message?: string) {
  const layout = await demo(message === undefined ? {} : { message });
  return { layout, plan: await publish(layout, generation) };
}

/** One tree holding each of these demo images, each under its own ref. */
async function treeOf(...images: Array<Parameters<typeof demo>[0]>): Promise<MemoryLayout> {
  const layouts = await Promise.all(images.map((image) => demo(image)));
  const tree = layouts[0]!;
  for (const other of layouts.slice(1)) for (const [path, content] of other.files()) if (path.startsWith("blobs/")) tree.writeFile(path, content);
  writeIndex(tree, await Promise.all(layouts.map(rootDescriptor)));
  return tree;
}

async function errorCode(response: Response): Promise<[number, string | undefined]> {
  const body = (await response.json()) as { errors?: Array<{ code: string }> };
  return [response.status, body.errors?.[0]?.code];
}

function get(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(`http://frontdoor.test${path}`, { redirect: "manual", ...init }));
}

/** A KV namespace that remembers the order of its writes (`key`) and deletions (`-key`). */
function recordingKv(kv: KVNamespace): { kv: KVNamespace; order: string[] } {
  const order: string[] = [];
  const recording = new Proxy(kv, {
    get(target, property) {
      if (property === "put") {
        return async (key: string, ...rest: Parameters<KVNamespace["put"]> extends [string, ...infer R] ? R : never) => {
          await target.put(key, ...rest);
          order.push(key);
        };
      }
      if (property === "delete") {
        return async (key: string) => {
          await target.delete(key);
          order.push(`-${key}`);
        };
      }
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { kv: recording, order };
}

describe("applyPlan", () => {
  it("Should make GET /v2/demo/hello/manifests/latest return the index bytes with their digest", async () => {
    const { layout } = await publishDemo();
    const { root } = await demoParts(layout);
    const response = await get("/v2/demo/hello/manifests/latest");
    expect(response.status).toBe(200);
    const body = new Uint8Array(await response.arrayBuffer());
    expect(body).toEqual(await layout.readFile(blobPath(root.digest)));
    expect(await computeDigest(body)).toBe(root.digest);
    expect(response.headers.get("Docker-Content-Digest")).toBe(root.digest);
    expect(response.headers.get("Content-Type")).toBe(root.mediaType);
  });

  it("Should make a platform manifest available by digest", async () => {
    const { layout } = await publishDemo();
    const { manifests } = await demoParts(layout);
    const response = await get(`/v2/demo/hello/manifests/${manifests[1]!.digest}`);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(await layout.readFile(blobPath(manifests[1]!.digest)));
  });

  it("Should make HEAD on a published layer answer its size", async () => {
    const { layout } = await publishDemo();
    const { layers } = await demoParts(layout);
    const response = await get(`/v2/demo/hello/blobs/${layers[0]!.digest}`, { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Length")).toBe(String(layers[0]!.size));
  });

  it("Should make the tag appear in the repository's tag list", async () => {
    await publishDemo();
    expect(await (await get("/v2/demo/hello/tags/list")).json()).toEqual({ name: "demo/hello", tags: ["latest"] });
  });

  it("Should write every content entry before the first tag", async () => {
    const { kv, order } = recordingKv(env.REGISTRY);
    const plan = await planPublication(await demo(), { generation: 1, published: PUBLISHED, currentKeys: [] });
    await applyPlan(kv, plan);
    const firstTag = order.findIndex((key) => key.startsWith("tag:"));
    const lastContent = Math.max(...plan.content.map((write) => order.indexOf(write.key)));
    expect(firstTag).toBeGreaterThan(lastContent);
  });

  it("Should write publication last", async () => {
    const { kv, order } = recordingKv(env.REGISTRY);
    await applyPlan(kv, await planPublication(await demo(), { generation: 1, published: PUBLISHED, currentKeys: [] }));
    expect(order.at(-1)).toBe(keys.publication());
  });

  it("Should keep the first generation of unchanged layers when a second publication changes others", async () => {
    const { layout, plan } = await publishDemo(1);
    const changed = await demo({ message: "second" });
    changed.writeFile(LAYOUT_FILES.firstSeen, JSON.stringify(plan.firstSeen));
    await publish(changed, 2);
    const [before, after] = await Promise.all([demoParts(layout), demoParts(changed)]);
    const shared = await env.REGISTRY.get<BlobRecord>(keys.blob("demo/hello", after.layers[0]!.digest), "json");
    const own = await env.REGISTRY.get<BlobRecord>(keys.blob("demo/hello", after.layers[1]!.digest), "json");
    expect(after.layers[0]!.digest).toBe(before.layers[0]!.digest);
    expect([shared?.generation, own?.generation]).toEqual([1, 2]);
  });

  it("Should point publication at the newest generation and keep the older generation record", async () => {
    await publishDemo(1);
    await publishDemo(2, "second");
    const publication = await env.REGISTRY.get<Publication>(keys.publication(), "json");
    const first = await env.REGISTRY.get<Publication>(keys.generation(1), "json");
    expect([publication?.generation, first?.generation]).toEqual([2, 1]);
  });
});

describe("applyPlan of a tree that dropped content", () => {
  const LATEST = { tag: "latest" };
  const OLD = { tag: "old", message: "old" };

  it("Should answer MANIFEST_UNKNOWN for a tag dropped from index.json", async () => {
    await publish(await treeOf(LATEST, OLD), 1);
    await publish(await treeOf(LATEST), 2);
    expect(await errorCode(await get("/v2/demo/hello/manifests/old"))).toEqual([404, "MANIFEST_UNKNOWN"]);
  });

  it("Should answer BLOB_UNKNOWN for a layer only the dropped tag used", async () => {
    const before = await treeOf(LATEST, OLD);
    const { layers } = await demoParts(await demo(OLD));
    await publish(before, 1);
    await publish(await treeOf(LATEST), 2);
    expect(await errorCode(await get(`/v2/demo/hello/blobs/${layers[1]!.digest}`))).toEqual([404, "BLOB_UNKNOWN"]);
  });

  it("Should answer MANIFEST_UNKNOWN by digest for a manifest only the dropped tag used", async () => {
    const { root } = await demoParts(await demo(OLD));
    await publish(await treeOf(LATEST, OLD), 1);
    await publish(await treeOf(LATEST), 2);
    expect(await errorCode(await get(`/v2/demo/hello/manifests/${root.digest}`))).toEqual([404, "MANIFEST_UNKNOWN"]);
  });

  it("Should keep serving a layer the dropped tag shared with a kept one", async () => {
    const kept = await demoParts(await demo(LATEST));
    const dropped = await demoParts(await demo(OLD));
    expect(dropped.layers[0]!.digest).toBe(kept.layers[0]!.digest);
    await publish(await treeOf(LATEST, OLD), 1);
    await publish(await treeOf(LATEST), 2);
    const response = await get(`/v2/demo/hello/blobs/${kept.layers[0]!.digest}`, { method: "HEAD" });
    expect([response.status, response.headers.get("Content-Length")]).toEqual([200, String(kept.layers[0]!.size)]);
  });

  it("Should answer NAME_UNKNOWN for the tag list of a repository removed from the tree", async () => {
    await publish(await treeOf(LATEST, { repository: "demo/other", tag: "v1" }), 1);
    await publish(await treeOf(LATEST), 2);
    expect(await errorCode(await get("/v2/demo/other/tags/list"))).toEqual([404, "NAME_UNKNOWN"]);
  });

  it("Should answer NAME_UNKNOWN for a blob of a repository removed from the tree", async () => {
    const { layers } = await demoParts(await demo(LATEST));
    await publish(await treeOf(LATEST, { repository: "demo/other", tag: "v1" }), 1);
    await publish(await treeOf(LATEST), 2);
    expect(await errorCode(await get(`/v2/demo/other/blobs/${layers[0]!.digest}`))).toEqual([404, "NAME_UNKNOWN"]);
  });

  it("Should delete after publication, stale tags and tag lists before stale content", async () => {
    await publish(await treeOf(LATEST, OLD, { repository: "demo/other", tag: "v1" }), 1);
    const { kv, order } = recordingKv(env.REGISTRY);
    const plan = await planPublication(await treeOf(LATEST), { generation: 2, published: PUBLISHED, currentKeys: await listPublishedKeys(env.REGISTRY) });
    await applyPlan(kv, plan);
    const deletions = order.filter((entry) => entry.startsWith("-")).map((entry) => entry.slice(1));
    const pointer = (key: string) => key.startsWith("tag:") || key.startsWith("tags:");
    expect(order.indexOf(keys.publication())).toBeLessThan(order.findIndex((entry) => entry.startsWith("-")));
    expect(deletions).toEqual([...deletions.filter(pointer), ...deletions.filter((key) => !pointer(key))]);
    expect(deletions).toEqual(expect.arrayContaining([keys.tag("demo/hello", "old"), keys.tagList("demo/other"), keys.tag("demo/other", "v1")]));
  });
});

describe("applyPlan of a plan made against what is published", () => {
  /** Plans `layout` against the namespace (`listPublished`) as the publisher does, applies it through `kv`, and says what it wrote. */
  async function republish(layout: MemoryLayout, kv: KVNamespace, generation: number) {
    const listed = await listPublished(env.REGISTRY);
    const current = await env.REGISTRY.get<Publication>(keys.publication(), "json");
    const plan = await planPublication(layout, { generation, published: `2026-11-2${generation}T12:00:00Z`, currentKeys: listed.keys(), currentHashes: publishedHashes(listed), current });
    await applyPlan(kv, plan);
    if (!plan.unchanged) layout.writeFile(LAYOUT_FILES.firstSeen, JSON.stringify(plan.firstSeen));
    return plan;
  }

  it("Should write nothing and keep the generation for the same tree, and only what changed for one changed tag", async () => {
    const layout = await treeOf({ message: "hello" }, { tag: "v2", message: "second" });
    const first = recordingKv(env.REGISTRY);
    await republish(layout, first.kv, 1);
    const written = first.order.length;
    expect(written).toBeGreaterThan(10);

    const again = recordingKv(env.REGISTRY);
    const same = await republish(layout, again.kv, 2);
    expect(same.unchanged).toBe(true);
    expect(again.order).toEqual([]);
    expect((await env.REGISTRY.get<Publication>(keys.publication(), "json"))?.generation).toBe(1);

    const changed = await treeOf({ message: "hello" }, { tag: "v2", message: "changed" });
    changed.writeFile(LAYOUT_FILES.firstSeen, (await layout.readFile(LAYOUT_FILES.firstSeen))!);
    const third = recordingKv(env.REGISTRY);
    const next = await republish(changed, third.kv, 2);
    expect(next.generation).toBe(2);
    const puts = third.order.filter((key) => !key.startsWith("-"));
    expect(puts).toContain(keys.tag("demo/hello", "v2"));
    expect(puts).not.toContain(keys.tag("demo/hello", "latest"));
    expect(puts.at(-1)).toBe(keys.publication());
    // Neither the unchanged image's manifests nor the tag list and catalog, which did not change.
    const latest = await demoParts(layout);
    for (const descriptor of [latest.root, ...latest.manifests]) expect(puts).not.toContain(keys.manifest("demo/hello", descriptor.digest));
    expect(puts).not.toContain(keys.tagList("demo/hello"));
    expect(puts).not.toContain(keys.catalog());
    expect(puts.length).toBeLessThan(written);
    const index = JSON.parse(new TextDecoder().decode((await changed.readFile(LAYOUT_FILES.index))!)) as { manifests: Array<{ digest: string }> };
    const response = await get("/v2/demo/hello/manifests/v2");
    expect(response.status).toBe(200);
    expect(response.headers.get("Docker-Content-Digest")).toBe(index.manifests[1]!.digest);
    expect((await get("/v2/demo/hello/manifests/latest")).status).toBe(200);
  });
});
