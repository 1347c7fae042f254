import { reset } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { buildApp } from "../../../src/app";
import { settingsFrom } from "../../../src/config";
import type { Env } from "../../../src/env";
import type { MirrorTable } from "../../../src/mirrors/types";
import { CompositionRoot } from "../../../src/services";
import { blobEntry, crawlStateEntry, mirrorsEntry, putEntry, tagEntry } from "../../../src/store/encode";
import { keys } from "../../../src/store/keys";
import { MirrorStore } from "../../../src/store/mirror-store";
import { IMMUTABLE_RECORD_MS, RecordCache } from "../../../src/store/record-cache";
import { recordFreshness, RegistryStore } from "../../../src/store/registry-store";
import { VersionedCache } from "../../../src/store/versioned-cache";

const kv = (env as unknown as Env).REGISTRY;
const DIGEST = `sha256:${"ab".repeat(32)}` as const;
const OTHER = `sha256:${"cd".repeat(32)}` as const;

function table(version: string, origin: string): MirrorTable {
  return { version, origin: { baseUrl: origin }, mirrors: [] };
}

/** KV that counts the reads it is asked for. */
function counting(namespace: KVNamespace): { kv: KVNamespace; reads: () => number } {
  let reads = 0;
  const proxy = new Proxy(namespace, {
    get(target, property) {
      const value = Reflect.get(target, property) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (property === "get" || property === "getWithMetadata") reads++;
        return (value as (...args: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { kv: proxy, reads: () => reads };
}

beforeEach(() => reset());

describe("VersionedCache with a maximum age", () => {
  it("Should answer from its copy without a KV read until the age passes, then see a new version", async () => {
    let now = 1_000;
    const { kv: counted, reads } = counting(kv);
    const store = new MirrorStore(counted, new VersionedCache(() => now), 5_000);
    await putEntry(kv, mirrorsEntry(table("v1", "https://one.test")));
    expect((await store.table()).origin).toEqual({ baseUrl: "https://one.test" });
    await putEntry(kv, mirrorsEntry(table("v2", "https://two.test")));
    now += 4_999;
    expect((await store.table()).origin).toEqual({ baseUrl: "https://one.test" });
    expect(reads()).toBe(1);
    now += 1;
    expect((await store.table()).origin).toEqual({ baseUrl: "https://two.test" });
    expect(reads()).toBe(2);
  });

  it("Should ask KV on every read with a maximum age of 0", async () => {
    const { kv: counted, reads } = counting(kv);
    const store = new MirrorStore(counted, new VersionedCache(() => 0), 0);
    await putEntry(kv, crawlStateEntry({}, "c1"));
    await store.crawlSnapshot();
    await putEntry(kv, crawlStateEntry({}, "c2"));
    expect((await store.crawlSnapshot()).version).toBe("c2");
    expect(reads()).toBe(2);
  });

  it("Should ask KV again after a failed read instead of trusting its old copy's age", async () => {
    let now = 0;
    let fail = false;
    const flaky = new Proxy(kv, {
      get(target, property) {
        const value = Reflect.get(target, property) as unknown;
        if (property === "getWithMetadata" && fail) return () => Promise.reject(new Error("KV down"));
        return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const store = new MirrorStore(flaky, new VersionedCache(() => now), 1_000);
    await putEntry(kv, mirrorsEntry(table("v1", "https://one.test")));
    await store.table();
    now = 1_000;
    fail = true;
    await expect(store.table()).rejects.toThrow("KV down");
    fail = false;
    await putEntry(kv, mirrorsEntry(table("v2", "https://two.test")));
    expect((await store.table()).origin).toEqual({ baseUrl: "https://two.test" });
  });
});

describe("RecordCache", () => {
  it("Should forget the least recently used record past its entry bound", () => {
    const cache = new RecordCache(() => 0, { entries: 2, bytes: 1_000, maxRecordBytes: 1_000 });
    cache.set("a", 1, 10, 1_000);
    cache.set("b", 2, 10, 1_000);
    expect(cache.get("a")).toBe(1);
    cache.set("c", 3, 10, 1_000);
    expect([cache.get("a"), cache.get("b"), cache.get("c")]).toEqual([1, undefined, 3]);
    expect(cache.size).toBe(2);
  });

  it("Should keep its bytes under the bound and never hold a record larger than the largest allowed", () => {
    const cache = new RecordCache(() => 0, { entries: 100, bytes: 100, maxRecordBytes: 60 });
    cache.set("a", "a", 50, 1_000);
    cache.set("b", "b", 50, 1_000);
    cache.set("c", "c", 50, 1_000);
    expect(cache.bytes).toBeLessThanOrEqual(100);
    expect(cache.get("a")).toBeUndefined();
    cache.set("huge", "h", 61, 1_000);
    expect(cache.get("huge")).toBeUndefined();
  });

  it("Should drop a record once its time is up", () => {
    let now = 0;
    const cache = new RecordCache(() => now);
    cache.set("a", 1, 10, 100);
    now = 99;
    expect(cache.get("a")).toBe(1);
    now = 100;
    expect(cache.get("a")).toBeUndefined();
    expect(cache.bytes).toBe(0);
  });
});

describe("RegistryStore over the isolate's record cache", () => {
  it("Should hold a tag for the mutable bound and a blob record for the immutable one, and never hold a miss", async () => {
    let now = 0;
    const { kv: counted, reads } = counting(kv);
    const store = new RegistryStore(counted, new RecordCache(() => now), recordFreshness(5_000));
    const bytes = new TextEncoder().encode("{}");
    await putEntry(kv, tagEntry("library/x", "latest", { digest: DIGEST, mediaType: "application/vnd.oci.image.manifest.v1+json", generation: 1 }, bytes));
    await putEntry(kv, blobEntry("library/x", DIGEST, { size: 3, generation: 1 }));
    expect((await store.manifestByTag("library/x", "latest"))?.digest).toBe(DIGEST);
    expect((await store.blob("library/x", DIGEST))?.size).toBe(3);
    expect(await store.blob("library/x", OTHER)).toBeNull();
    await putEntry(kv, tagEntry("library/x", "latest", { digest: OTHER, mediaType: "application/vnd.oci.image.manifest.v1+json", generation: 2 }, bytes));
    await putEntry(kv, blobEntry("library/x", OTHER, { size: 5, generation: 2 }));
    expect((await store.manifestByTag("library/x", "latest"))?.digest).toBe(DIGEST);
    expect((await store.blob("library/x", OTHER))?.size).toBe(5);
    expect(reads()).toBe(4);
    now = 5_000;
    expect((await store.manifestByTag("library/x", "latest"))?.digest).toBe(OTHER);
    expect((await store.blob("library/x", DIGEST))?.size).toBe(3);
    expect(reads()).toBe(5);
    now = IMMUTABLE_RECORD_MS;
    await store.blob("library/x", DIGEST);
    expect(reads()).toBe(6);
  });

  it("Should read KV every time when ISOLATE_CACHE_MS is 0", async () => {
    const settings = settingsFrom({ ...(env as unknown as Env), ISOLATE_CACHE_MS: "0" });
    const { kv: counted, reads } = counting(kv);
    const store = new RegistryStore(counted, new RecordCache(), recordFreshness(settings.isolateCacheMs));
    await putEntry(kv, blobEntry("library/x", DIGEST, { size: 3, generation: 1 }));
    await store.blob("library/x", DIGEST);
    await store.blob("library/x", DIGEST);
    expect(reads()).toBe(2);
  });

  it("Should refuse an ISOLATE_CACHE_MS that is not an integer from 0 to 60000", () => {
    for (const value of ["-1", "60001", "5s", "1.5"]) expect(() => settingsFrom({ ...(env as unknown as Env), ISOLATE_CACHE_MS: value })).toThrow(/ISOLATE_CACHE_MS/);
    expect(settingsFrom({ ...(env as unknown as Env), ISOLATE_CACHE_MS: undefined }).isolateCacheMs).toBe(5_000);
  });
});

describe("The isolate cache through the routes", () => {
  it("Should serve a hot manifest and blob without KV reads, and the same bytes every time", async () => {
    const { kv: counted, reads } = counting(kv);
    const bindings: Env = { ...(env as unknown as Env), REGISTRY: counted, ISOLATE_CACHE_MS: "5000" };
    const app = buildApp({ root: new CompositionRoot(), log: () => undefined });
    const bytes = new TextEncoder().encode('{"schemaVersion":2}');
    await putEntry(kv, tagEntry("library/x", "latest", { digest: DIGEST, mediaType: "application/vnd.oci.image.manifest.v1+json", generation: 1 }, bytes));
    await putEntry(kv, blobEntry("library/x", OTHER, { size: 3, generation: 1 }));
    await putEntry(kv, mirrorsEntry(table("v1", "https://origin.test")));
    const answers: string[] = [];
    for (let i = 0; i < 3; i++) {
      const manifest = await app.request("/v2/library/x/manifests/latest", {}, bindings);
      answers.push(await manifest.text());
      const blob = await app.request(`/v2/library/x/blobs/${OTHER}`, { redirect: "manual" }, bindings);
      expect(blob.status).toBe(307);
      expect(blob.headers.get("Location")).toBe(`https://origin.test/blobs/sha256/${"cd".repeat(32)}`);
    }
    expect(answers).toEqual(Array(3).fill('{"schemaVersion":2}'));
    // The tag, the blob record, the table and the crawl state: each read once.
    expect(reads()).toBe(4);
  });

  it("Should render the status page once per crawl state version", async () => {
    const bindings: Env = { ...(env as unknown as Env), ISOLATE_CACHE_MS: "1" };
    const app = buildApp({ root: new CompositionRoot(), log: () => undefined });
    await putEntry(kv, mirrorsEntry(table("v1", "https://origin.test")));
    await putEntry(kv, crawlStateEntry({}, "c1"));
    const first = await (await app.request("/status.json", {}, bindings)).json<{ generated: string }>();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const again = await (await app.request("/status.json", {}, bindings)).json<{ generated: string }>();
    expect(again.generated).toBe(first.generated);
    await putEntry(kv, crawlStateEntry({}, "c2"));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const changed = await (await app.request("/status.json", {}, bindings)).json<{ generated: string }>();
    expect(changed.generated).not.toBe(first.generated);
  });
});
