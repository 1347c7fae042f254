import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { computeDigest } from "../../../src/oci/reference";
import { blobPath, LAYOUT_FILES } from "../../../src/publish/layout";
import { applyPlan, planPublication } from "../../../src/publish/plan";
import { keys } from "../../../src/store/keys";
import type { BlobRecord, Publication } from "../../../src/store/records";
import { demo, demoParts } from "./layouts";

const PUBLISHED = "2026-11-27T12:00:00Z";

async function publishDemo(generation = 1, message?: string) {
  const layout = await demo(message === undefined ? {} : { message });
  const plan = await planPublication(layout, { generation, published: PUBLISHED });
  await applyPlan(env.REGISTRY, plan);
  return { layout, plan };
}

function get(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(`http://frontdoor.test${path}`, { redirect: "manual", ...init }));
}

/** A KV namespace that remembers the order of its writes. */
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
    const plan = await planPublication(await demo(), { generation: 1, published: PUBLISHED });
    await applyPlan(kv, plan);
    const firstTag = order.findIndex((key) => key.startsWith("tag:"));
    const lastContent = Math.max(...plan.content.map((write) => order.indexOf(write.key)));
    expect(firstTag).toBeGreaterThan(lastContent);
  });

  it("Should write publication last", async () => {
    const { kv, order } = recordingKv(env.REGISTRY);
    await applyPlan(kv, await planPublication(await demo(), { generation: 1, published: PUBLISHED }));
    expect(order.at(-1)).toBe(keys.publication());
  });

  it("Should keep the first generation of unchanged layers when a second publication changes others", async () => {
    const { layout, plan } = await publishDemo(1);
    const changed = await demo({ message: "second" });
    changed.writeFile(LAYOUT_FILES.firstSeen, JSON.stringify(plan.firstSeen));
    await applyPlan(env.REGISTRY, await planPublication(changed, { generation: 2, published: PUBLISHED }));
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
