import { reset } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { changeMirror, fakeMirror, markerBody, servedBlobs, servingGeneration } from "./farm";
import { loadMirrorTable, mirror } from "../helpers/mirrors";
import { crawlTimes, healthOf, publishGeneration, runCrawler, testBlob } from "./world";

const first = await testBlob("1a", 100);
const second = await testBlob("2b", 200);

describe("mirror health over several sweeps", () => {
  beforeEach(() => reset());

  it("Should keep a failing mirror in rotation until the configured number of failed checks", async () => {
    await publishGeneration(1, [first]);
    const baseUrl = await fakeMirror(servingGeneration(1, [first]));
    await loadMirrorTable([mirror("flaky", { baseUrl })]);
    await runCrawler();
    await changeMirror(baseUrl, { hangUp: true });
    await crawlTimes(2, { CRAWL_FAILURES_BEFORE_DOWN: "3" });
    expect(await healthOf("flaky")).toMatchObject({ down: false, consecutiveFailures: 2, verified: 1, outcomes: "PFF" });
  });

  it("Should mark a mirror down at the configured number of failures in a row", async () => {
    await publishGeneration(1, [first]);
    const baseUrl = await fakeMirror(servingGeneration(1, [first]));
    await loadMirrorTable([mirror("dying", { baseUrl })]);
    await runCrawler();
    await changeMirror(baseUrl, { hangUp: true });
    await crawlTimes(3, { CRAWL_FAILURES_BEFORE_DOWN: "3" });
    expect(await healthOf("dying")).toMatchObject({ down: true, consecutiveFailures: 3, lastFailureReason: "network" });
  });

  it("Should mark down a mirror that refuses two sweeps in three, though it never fails three in a row", async () => {
    await publishGeneration(1, [first]);
    const baseUrl = await fakeMirror(servingGeneration(1, [first]));
    await loadMirrorTable([mirror("flapping", { baseUrl })]);
    const settings = { CRAWL_FAILURES_BEFORE_DOWN: "3", CRAWL_FAILURE_WINDOW: "5" };
    const downAfter: boolean[] = [];
    for (const refuses of [false, true, true, false, true, true]) {
      await changeMirror(baseUrl, refuses ? { hangUp: true } : servingGeneration(1, [first]));
      await runCrawler(settings);
      downAfter.push((await healthOf("flapping"))!.down);
    }
    expect(downAfter).toEqual([false, false, false, false, true, true]);
  });

  it("Should keep a down mirror down until it passed the configured checks in a row", async () => {
    await publishGeneration(1, [first]);
    const baseUrl = await fakeMirror({ hangUp: true });
    const settings = { CRAWL_FAILURES_BEFORE_DOWN: "2", CRAWL_PASSES_BEFORE_UP: "3" };
    await loadMirrorTable([mirror("phoenix", { baseUrl })]);
    await crawlTimes(2, settings);
    expect(await healthOf("phoenix")).toMatchObject({ down: true });
    await changeMirror(baseUrl, servingGeneration(1, [first]));
    const downAfter: boolean[] = [];
    for (let run = 0; run < 3; run++) {
      await runCrawler(settings);
      downAfter.push((await healthOf("phoenix"))!.down);
    }
    expect(downAfter).toEqual([true, true, false]);
    expect(await healthOf("phoenix")).toMatchObject({ verified: 1, consecutivePasses: 3, lastFailureReason: "network" });
  });

  it("Should start counting passes again when a down mirror fails before it is back", async () => {
    await publishGeneration(1, [first]);
    const baseUrl = await fakeMirror({ hangUp: true });
    const settings = { CRAWL_FAILURES_BEFORE_DOWN: "1", CRAWL_PASSES_BEFORE_UP: "2" };
    await loadMirrorTable([mirror("relapse", { baseUrl })]);
    await runCrawler(settings);
    await changeMirror(baseUrl, servingGeneration(1, [first]));
    await runCrawler(settings);
    await changeMirror(baseUrl, { hangUp: true });
    await runCrawler(settings);
    await changeMirror(baseUrl, servingGeneration(1, [first]));
    await runCrawler(settings);
    expect(await healthOf("relapse")).toMatchObject({ down: true, consecutivePasses: 1 });
    await runCrawler(settings);
    expect(await healthOf("relapse")).toMatchObject({ down: false });
  });

  it("Should record the older generation of a mirror whose marker is behind", async () => {
    await publishGeneration(1, [first]);
    await publishGeneration(2, [second]);
    await loadMirrorTable([mirror("lagging", { baseUrl: await fakeMirror(servingGeneration(1, [first])) })]);
    await runCrawler();
    expect(await healthOf("lagging")).toMatchObject({ announced: 1, verified: 1, down: false, consecutiveFailures: 0 });
  });

  it("Should advance a mirror's verified generation once its marker catches up and the new blobs pass", async () => {
    await publishGeneration(1, [first]);
    await publishGeneration(2, [second]);
    const baseUrl = await fakeMirror(servingGeneration(1, [first]));
    await loadMirrorTable([mirror("catching-up", { baseUrl })]);
    await runCrawler();
    await changeMirror(baseUrl, servingGeneration(2, [first, second]));
    await runCrawler();
    expect(await healthOf("catching-up")).toMatchObject({ announced: 2, verified: 2, down: false });
  });

  it("Should hold a mirror whose marker runs ahead of its blobs at its verified generation, never down", async () => {
    await publishGeneration(1, [first]);
    await publishGeneration(2, [second]);
    const baseUrl = await fakeMirror(servingGeneration(1, [first]));
    await loadMirrorTable([mirror("mid-sync", { baseUrl })]);
    await runCrawler();
    await changeMirror(baseUrl, servingGeneration(2, [first]));
    await crawlTimes(4, { CRAWL_FAILURES_BEFORE_DOWN: "2" });
    const health = await healthOf("mid-sync");
    expect(health).toMatchObject({ announced: 2, verified: 1, down: false, consecutiveFailures: 0, badBlobs: [], lastFailureReason: "http-status" });
    expect(health?.recent.at(-1)?.outcome).toBe("held");
  });

  it("Should keep the verified generation when a marker jumps ahead of every publication", async () => {
    await publishGeneration(1, [first]);
    const baseUrl = await fakeMirror(servingGeneration(1, [first]));
    await loadMirrorTable([mirror("leaping", { baseUrl })]);
    await runCrawler();
    await changeMirror(baseUrl, servingGeneration(999_999, [first]));
    await runCrawler();
    expect(await healthOf("leaping")).toMatchObject({ verified: 1, consecutiveFailures: 1, lastFailureReason: "bad-marker" });
  });

  it("Should exclude a verified blob that fails a content check at once, and clear it once it passes again", async () => {
    await publishGeneration(1, [first, second]);
    const baseUrl = await fakeMirror(servingGeneration(1, [first, second]));
    await loadMirrorTable([mirror("patchy", { baseUrl })]);
    await runCrawler();
    await changeMirror(baseUrl, { marker: { body: markerBody(1) }, blobs: servedBlobs([first]) });
    await runCrawler();
    expect(await healthOf("patchy")).toMatchObject({ down: false, verified: 1, badBlobs: [expect.objectContaining({ digest: second.digest })] });
    await changeMirror(baseUrl, servingGeneration(1, [first, second]));
    await runCrawler();
    expect(await healthOf("patchy")).toMatchObject({ badBlobs: [] });
  });

  it("Should mark a mirror down when more verified blobs fail than the bound allows", async () => {
    await publishGeneration(1, [first, second]);
    const baseUrl = await fakeMirror(servingGeneration(1, [first, second]));
    await loadMirrorTable([mirror("gutted", { baseUrl })]);
    await runCrawler();
    await changeMirror(baseUrl, { marker: { body: markerBody(1) } });
    await runCrawler({ CRAWL_MAX_BAD_BLOBS: "1" });
    expect(await healthOf("gutted")).toMatchObject({ down: true, badBlobs: [expect.anything(), expect.anything()] });
  });
});
