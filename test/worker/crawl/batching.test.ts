import { env } from "cloudflare:workers";
import { reset } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { keys } from "../../../src/store/keys";
import { fakeMirror, servingGeneration } from "./farm";
import { loadMirrorTable, mirror } from "../helpers/mirrors";
import { crawlState, publishGeneration, runCrawler, testBlob } from "./world";

const blob = await testBlob("b7", 77);

async function healthyMirrors(ids: string[]) {
  await publishGeneration(1, [blob]);
  const baseUrl = await fakeMirror(servingGeneration(1, [blob]));
  return ids.map((id) => mirror(id, { baseUrl }));
}

async function storedCursor(): Promise<unknown> {
  return env.REGISTRY.get(keys.crawlCursor(), "json");
}

describe("batches and the cursor", () => {
  beforeEach(() => reset());

  it("Should check one batch of mirrors per invocation, in id order, and store where to go on", async () => {
    await loadMirrorTable(await healthyMirrors(["m5", "m1", "m4", "m2", "m3"]));
    await runCrawler({ CRAWL_BATCH_SIZE: "2" });
    expect(Object.keys(await crawlState()).sort()).toEqual(["m1", "m2"]);
    expect(await storedCursor()).toEqual({ next: 2 });
  });

  it("Should continue from the stored cursor on the next invocation", async () => {
    await loadMirrorTable(await healthyMirrors(["m1", "m2", "m3", "m4", "m5"]));
    await runCrawler({ CRAWL_BATCH_SIZE: "2" });
    await runCrawler({ CRAWL_BATCH_SIZE: "2" });
    expect(Object.keys(await crawlState()).sort()).toEqual(["m1", "m2", "m3", "m4"]);
  });

  it("Should wrap the cursor around the end of the mirror list", async () => {
    const [, m2, m3] = await healthyMirrors(["m1", "m2", "m3"]);
    // m1 fails every check, so its failure count tells how often it was checked.
    await loadMirrorTable([mirror("m1", { baseUrl: await fakeMirror({ hangUp: true }) }), m2!, m3!]);
    await runCrawler({ CRAWL_BATCH_SIZE: "2" });
    await runCrawler({ CRAWL_BATCH_SIZE: "2" });
    const state = await crawlState();
    expect(state.m3?.lastChecked).toEqual(expect.any(String));
    expect(state.m1?.consecutiveFailures).toBe(2);
    expect(await storedCursor()).toEqual({ next: 1 });
  });

  it("Should check every mirror exactly once when the list is shorter than a batch", async () => {
    await loadMirrorTable(await healthyMirrors(["m1", "m2"]));
    await runCrawler({ CRAWL_BATCH_SIZE: "5" });
    expect(Object.keys(await crawlState()).sort()).toEqual(["m1", "m2"]);
    expect(await storedCursor()).toEqual({ next: 0 });
  });

  it("Should shrink the batch so the marker and blob requests stay within the subrequest limit", async () => {
    await loadMirrorTable(await healthyMirrors(["m1", "m2", "m3", "m4"]));
    await runCrawler({ CRAWL_BATCH_SIZE: "4", CRAWL_BLOB_CHECKS: "3", CRAWL_SUBREQUEST_LIMIT: "9" });
    expect(Object.keys(await crawlState()).sort()).toEqual(["m1", "m2"]);
  });

  it("Should fail the invocation when one mirror's check alone exceeds the subrequest limit", async () => {
    await loadMirrorTable(await healthyMirrors(["m1"]));
    await expect(runCrawler({ CRAWL_BLOB_CHECKS: "3", CRAWL_SUBREQUEST_LIMIT: "3" })).rejects.toThrow(/CRAWL_SUBREQUEST_LIMIT/);
  });

  it("Should not check disabled mirrors", async () => {
    const [on, off] = await healthyMirrors(["on", "off"]);
    await loadMirrorTable([on!, { ...off!, enabled: false }]);
    await runCrawler();
    expect(Object.keys(await crawlState())).toEqual(["on"]);
  });

  it("Should drop mirrors removed from the config from the crawl state", async () => {
    const mirrors = await healthyMirrors(["kept", "removed"]);
    await loadMirrorTable(mirrors);
    await runCrawler();
    await loadMirrorTable(mirrors.filter((entry) => entry.id === "kept"));
    await runCrawler();
    expect(Object.keys(await crawlState())).toEqual(["kept"]);
  });

  it("Should carry each mirror's health across a reload of the mirror config", async () => {
    const [healthy] = await healthyMirrors(["healthy"]);
    const broken = mirror("broken", { baseUrl: await fakeMirror({ hangUp: true }) });
    await loadMirrorTable([healthy!, broken]);
    await runCrawler({ CRAWL_FAILURES_BEFORE_DOWN: "2" });
    await loadMirrorTable([mirror("added", { baseUrl: healthy!.baseUrl }), broken, healthy!]);
    await runCrawler({ CRAWL_FAILURES_BEFORE_DOWN: "2" });
    expect((await crawlState()).broken).toMatchObject({ consecutiveFailures: 2, down: true });
  });

  it("Should store the crawl state under a new version on every write", async () => {
    await loadMirrorTable(await healthyMirrors(["m1"]));
    await runCrawler();
    const first = await env.REGISTRY.getWithMetadata<unknown, { version: string }>(keys.crawlState(), "json");
    await runCrawler();
    const second = await env.REGISTRY.getWithMetadata<unknown, { version: string }>(keys.crawlState(), "json");
    expect(second.metadata?.version).toMatch(/^[0-9a-f-]{36}$/);
    expect(second.metadata?.version).not.toBe(first.metadata?.version);
  });
});
