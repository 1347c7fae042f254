import { reset } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { loadMirrorTable, mirror } from "../helpers/mirrors";
import { fakeMirror, markerBody, requestsTo, servedBlobs } from "../crawl/farm";
import { blobPathOf, healthOf, publishGeneration, runCrawler, testBlobs } from "../crawl/world";

const CHECKS = { CRAWL_BLOB_CHECKS: "20" };

describe("crawling a mirror of content sets", () => {
  beforeEach(() => reset());

  async function world() {
    const amd64 = await testBlobs("amd64", 3, 100);
    const arm64 = await testBlobs("arm64", 3, 100);
    const shared = await testBlobs("shared", 1, 100);
    const setsOf = new Map<string, string[]>([
      ...amd64.map((blob): [string, string[]] => [blob.digest, ["amd64"]]),
      ...arm64.map((blob): [string, string[]] => [blob.digest, ["arm64"]]),
      [shared[0]!.digest, ["amd64", "arm64"]],
    ]);
    await publishGeneration(1, [...amd64, ...arm64, ...shared], { setsOf });
    return { amd64, arm64, shared };
  }

  it("Should verify a mirror carrying one set against that set's entries only, from that set's marker", async () => {
    const { amd64, arm64, shared } = await world();
    const baseUrl = await fakeMirror({ setMarkers: { amd64: markerBody(1) }, blobs: servedBlobs([...amd64, ...shared]) });
    await loadMirrorTable([mirror("amd64-only", { baseUrl, sets: ["amd64"] })]);
    await runCrawler(CHECKS);
    const health = (await healthOf("amd64-only"))!;
    expect(health).toMatchObject({ verified: 1, announced: 1, down: false, badBlobs: [], sets: [{ name: "amd64", announced: 1 }] });
    expect(health.progress).toEqual({ verified: 4, total: 4 });
    const paths = (await requestsTo(baseUrl)).map((request) => request.path);
    expect(paths).toContain("/frontdoor/sets/amd64/generation");
    expect(paths).not.toContain("/frontdoor/generation");
    for (const blob of arm64) expect(paths).not.toContain(blobPathOf(blob.digest));
    for (const blob of [...amd64, ...shared]) expect(paths).toContain(blobPathOf(blob.digest));
  });

  it("Should fail a set mirror whose set marker is missing, though the whole tree's marker answers", async () => {
    const { amd64, shared } = await world();
    const baseUrl = await fakeMirror({ marker: { body: markerBody(1) }, blobs: servedBlobs([...amd64, ...shared]) });
    await loadMirrorTable([mirror("amd64-only", { baseUrl, sets: ["amd64"] })]);
    await runCrawler(CHECKS);
    const health = (await healthOf("amd64-only"))!;
    expect(health.verified).toBe(-1);
    expect(health.lastFailureReason).toBe("http-status");
    expect(health.sets).toEqual([{ name: "amd64", announced: -1 }]);
  });

  it("Should verify a mirror of two sets over both, up to the older of their markers", async () => {
    const { amd64, arm64, shared } = await world();
    const more = await testBlobs("amd64-new", 1, 100);
    await publishGeneration(2, more, { setsOf: new Map([[more[0]!.digest, ["amd64"]]]) });
    const baseUrl = await fakeMirror({ setMarkers: { amd64: markerBody(2), arm64: markerBody(1) }, blobs: servedBlobs([...amd64, ...arm64, ...shared, ...more]) });
    await loadMirrorTable([mirror("both", { baseUrl, sets: ["amd64", "arm64"] })]);
    await runCrawler(CHECKS);
    const health = (await healthOf("both"))!;
    expect(health).toMatchObject({ announced: 1, verified: 1, sets: [{ name: "amd64", announced: 2 }, { name: "arm64", announced: 1 }] });
  });

  it("Should hold back a set mirror missing one of its set's blobs, and never ask it for another set's", async () => {
    const { amd64, arm64, shared } = await world();
    const baseUrl = await fakeMirror({ setMarkers: { arm64: markerBody(1) }, blobs: servedBlobs(arm64) });
    await loadMirrorTable([mirror("arm64-only", { baseUrl, sets: ["arm64"] })]);
    await runCrawler(CHECKS);
    expect((await healthOf("arm64-only"))!.verified).toBe(-1);
    const paths = (await requestsTo(baseUrl)).map((request) => request.path);
    expect(paths).toContain(blobPathOf(shared[0]!.digest));
    for (const blob of amd64) expect(paths).not.toContain(blobPathOf(blob.digest));
  });
});
