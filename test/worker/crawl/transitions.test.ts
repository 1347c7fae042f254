import { reset } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { changeMirror, fakeMirror, servingGeneration } from "./farm";
import { loadMirrorTable, mirror } from "../helpers/mirrors";
import { fakeDigest, healthOf, publishGeneration, runCrawler } from "./world";

const first = { digest: fakeDigest("1a"), size: 100 };
const second = { digest: fakeDigest("2b"), size: 200 };

async function crawlTimes(times: number, variables: Parameters<typeof runCrawler>[0] = {}): Promise<void> {
  for (let run = 0; run < times; run++) await runCrawler(variables);
}

describe("mirror health over several sweeps", () => {
  beforeEach(() => reset());

  it("Should keep a failing mirror in rotation until the configured number of failures in a row", async () => {
    await publishGeneration(1, [first]);
    const baseUrl = await fakeMirror(servingGeneration(1, [first]));
    await loadMirrorTable([mirror("flaky", { baseUrl })]);
    await runCrawler();
    await changeMirror(baseUrl, { hangUp: true });
    await crawlTimes(2, { CRAWL_FAILURES_BEFORE_DOWN: "3" });
    expect(await healthOf("flaky")).toMatchObject({ down: false, consecutiveFailures: 2, generation: 1 });
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

  it("Should bring a down mirror back after one passing check", async () => {
    await publishGeneration(1, [first]);
    const baseUrl = await fakeMirror({ hangUp: true });
    await loadMirrorTable([mirror("phoenix", { baseUrl })]);
    await crawlTimes(2, { CRAWL_FAILURES_BEFORE_DOWN: "2" });
    expect(await healthOf("phoenix")).toMatchObject({ down: true });
    await changeMirror(baseUrl, servingGeneration(1, [first]));
    await runCrawler({ CRAWL_FAILURES_BEFORE_DOWN: "2" });
    expect(await healthOf("phoenix")).toMatchObject({ down: false, consecutiveFailures: 0, generation: 1, lastFailureReason: "network" });
  });

  it("Should record the older generation of a mirror whose marker is behind", async () => {
    await publishGeneration(1, [first]);
    await publishGeneration(2, [second]);
    await loadMirrorTable([mirror("lagging", { baseUrl: await fakeMirror(servingGeneration(1, [first])) })]);
    await runCrawler();
    expect(await healthOf("lagging")).toMatchObject({ generation: 1, down: false, consecutiveFailures: 0 });
  });

  it("Should advance a mirror's generation once its marker catches up", async () => {
    await publishGeneration(1, [first]);
    await publishGeneration(2, [second]);
    const baseUrl = await fakeMirror(servingGeneration(1, [first]));
    await loadMirrorTable([mirror("catching-up", { baseUrl })]);
    await runCrawler();
    await changeMirror(baseUrl, servingGeneration(2, [first, second]));
    await runCrawler();
    expect(await healthOf("catching-up")).toMatchObject({ generation: 2, down: false });
  });

  it("Should keep the last generation seen when a marker claims a generation whose sample is missing", async () => {
    await publishGeneration(1, [first]);
    await publishGeneration(2, [second]);
    const baseUrl = await fakeMirror(servingGeneration(1, [first]));
    await loadMirrorTable([mirror("mid-sync", { baseUrl })]);
    await runCrawler();
    await changeMirror(baseUrl, servingGeneration(2, [first]));
    await runCrawler();
    expect(await healthOf("mid-sync")).toMatchObject({ generation: 1, consecutiveFailures: 1, lastFailureReason: "http-status" });
  });

  it("Should keep the last generation seen when a marker jumps ahead of every publication", async () => {
    await publishGeneration(1, [first]);
    const baseUrl = await fakeMirror(servingGeneration(1, [first]));
    await loadMirrorTable([mirror("leaping", { baseUrl })]);
    await runCrawler();
    await changeMirror(baseUrl, servingGeneration(999_999, [first]));
    await runCrawler();
    expect(await healthOf("leaping")).toMatchObject({ generation: 1, consecutiveFailures: 1, lastFailureReason: "bad-marker" });
  });
});
