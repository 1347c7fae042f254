import { reset } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { CRAWL_DEFAULTS } from "../../../src/config";
import { crawlOnce } from "../../../src/crawl/sweep";
import { keys } from "../../../src/store/keys";
import { loadMirrorTable, mirror } from "../helpers/mirrors";
import { fakeMirror, servingGeneration } from "./farm";
import { crawlState, fakeDigest, publishGeneration } from "./world";

const blob = { digest: fakeDigest("d4"), size: 44 };

/** The test namespace, recording the key of every read made through it. */
function recordingReads(kv: KVNamespace, reads: string[]): KVNamespace {
  return new Proxy(kv, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      if (property !== "get" && property !== "getWithMetadata") return value.bind(target);
      return (key: string, ...rest: unknown[]) => {
        reads.push(key);
        return value.call(target, key, ...rest);
      };
    },
  });
}

describe("one crawler run's use of KV", () => {
  beforeEach(() => reset());

  it("Should read crawl:state once per run", async () => {
    await publishGeneration(1, [blob]);
    await loadMirrorTable([mirror("m1", { baseUrl: await fakeMirror(servingGeneration(1, [blob])) })]);
    const reads: string[] = [];
    await crawlOnce(recordingReads(env.REGISTRY, reads), CRAWL_DEFAULTS);
    expect(reads.filter((key) => key === keys.crawlState())).toHaveLength(1);
  });

  it("Should keep the entries of mirrors outside the batch as they were", async () => {
    await publishGeneration(1, [blob]);
    const baseUrl = await fakeMirror(servingGeneration(1, [blob]));
    await loadMirrorTable([mirror("m1", { baseUrl }), mirror("m2", { baseUrl })]);
    await crawlOnce(env.REGISTRY, { ...CRAWL_DEFAULTS, batchSize: 2 });
    const before = await crawlState();
    await crawlOnce(env.REGISTRY, { ...CRAWL_DEFAULTS, batchSize: 1 });
    expect((await crawlState()).m2).toEqual(before.m2);
  });
});
