import { reset } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { fakeMirror, markerBody, requestsTo, servedBlobs, servingGeneration } from "./farm";
import { loadMirrorTable, mirror } from "../helpers/mirrors";
import { blobPathOf, healthOf, publishGeneration, runCrawler, testBlob } from "./world";

const layer = await testBlob("a1", 1234);
const config = await testBlob("c0", 321);

describe("one check of one mirror", () => {
  beforeEach(() => reset());

  it("Should record the marker's generation and a success for a mirror that serves the sample", async () => {
    await publishGeneration(1, [layer, config]);
    await loadMirrorTable([mirror("good", { baseUrl: await fakeMirror(servingGeneration(1, [layer, config])) })]);
    await runCrawler();
    const health = await healthOf("good");
    expect(health).toMatchObject({ announced: 1, verified: 1, down: false, consecutiveFailures: 0, lastFailure: null });
    expect(health?.lastSuccess).toBe(health?.lastChecked);
    expect(health?.responseTime).toBeGreaterThanOrEqual(0);
  });

  it("Should record a timeout when the marker does not answer within the deadline", async () => {
    await publishGeneration(1, [layer]);
    await loadMirrorTable([mirror("slow", { baseUrl: await fakeMirror({ marker: { body: markerBody(1), delayMs: 3000 } }) })]);
    await runCrawler({ CRAWL_TIMEOUT_MS: "200" });
    expect(await healthOf("slow")).toMatchObject({ verified: -1, announced: -1, consecutiveFailures: 1, lastFailureReason: "timeout" });
  });

  it("Should record a bad marker when the marker is not JSON", async () => {
    await loadMirrorTable([mirror("garbled", { baseUrl: await fakeMirror({ marker: { body: "<html>welcome</html>" } }) })]);
    await runCrawler();
    expect(await healthOf("garbled")).toMatchObject({ consecutiveFailures: 1, lastFailureReason: "bad-marker" });
  });

  it("Should record a bad marker when the generation is not an integer", async () => {
    const body = JSON.stringify({ generation: 1.5, published: "2026-11-27T12:00:00Z" });
    await loadMirrorTable([mirror("fractional", { baseUrl: await fakeMirror({ marker: { body } }) })]);
    await runCrawler();
    expect(await healthOf("fractional")).toMatchObject({ consecutiveFailures: 1, lastFailureReason: "bad-marker" });
  });

  it("Should record a bad marker when the marker names generation 0", async () => {
    await loadMirrorTable([mirror("zero", { baseUrl: await fakeMirror({ marker: { body: markerBody(0) } }) })]);
    await runCrawler();
    expect(await healthOf("zero")).toMatchObject({ verified: -1, announced: -1, consecutiveFailures: 1, lastFailureReason: "bad-marker" });
  });

  it("Should record a bad marker, not a pass, when the marker names a generation ahead of every publication", async () => {
    await publishGeneration(1, [layer]);
    const ahead = servingGeneration(999_999, [layer]);
    await loadMirrorTable([mirror("ahead", { baseUrl: await fakeMirror(ahead) })]);
    await runCrawler();
    const health = await healthOf("ahead");
    expect(health).toMatchObject({ verified: -1, announced: -1, consecutiveFailures: 1, lastFailureReason: "bad-marker" });
    expect(health?.lastFailureDetail).toContain("ahead of every publication");
  });

  it("Should stop reading a chunked marker once it passes 1 KiB and record a bad marker, not a timeout", async () => {
    const endless = { marker: { body: " ".repeat(2048), chunked: "hold-open" as const } };
    await loadMirrorTable([mirror("endless", { baseUrl: await fakeMirror(endless) })]);
    await runCrawler({ CRAWL_TIMEOUT_MS: "3000" });
    const health = await healthOf("endless");
    expect(health).toMatchObject({ consecutiveFailures: 1, lastFailureReason: "bad-marker" });
    expect(health?.lastFailureDetail).toContain("larger than 1024 bytes");
  });

  it("Should read a marker sent in chunks without Content-Length", async () => {
    await publishGeneration(1, [layer]);
    const chunked = { ...servingGeneration(1, [layer]), marker: { body: markerBody(1), chunked: "end" as const } };
    await loadMirrorTable([mirror("chunked", { baseUrl: await fakeMirror(chunked) })]);
    await runCrawler();
    expect(await healthOf("chunked")).toMatchObject({ announced: 1, verified: 1, consecutiveFailures: 0 });
  });

  it("Should record the HTTP status when the marker is missing", async () => {
    await loadMirrorTable([mirror("empty", { baseUrl: await fakeMirror({ marker: { status: 404, body: "not found" } }) })]);
    await runCrawler();
    const health = await healthOf("empty");
    expect(health).toMatchObject({ consecutiveFailures: 1, lastFailureReason: "http-status" });
    expect(health?.lastFailureDetail).toContain("404");
  });

  it("Should record a size mismatch and verify nothing when a blob's Content-Length differs from the published size", async () => {
    await publishGeneration(1, [layer]);
    const truncated = { marker: { body: markerBody(1) }, blobs: servedBlobs([layer], { contentLength: layer.size - 1 }) };
    await loadMirrorTable([mirror("truncated", { baseUrl: await fakeMirror(truncated) })]);
    await runCrawler();
    const health = await healthOf("truncated");
    expect(health).toMatchObject({ verified: -1, announced: 1, lastFailureReason: "size-mismatch" });
    expect(health?.recent.at(-1)).toMatchObject({ outcome: "held", failure: { reason: "size-mismatch" } });
  });

  it("Should record the HTTP status and the URL when a blob is missing, and not verify the generation", async () => {
    await publishGeneration(1, [layer, config]);
    const baseUrl = await fakeMirror(servingGeneration(1, [layer]));
    await loadMirrorTable([mirror("partial", { baseUrl })]);
    await runCrawler();
    const health = await healthOf("partial");
    expect(health).toMatchObject({ verified: -1, announced: 1, lastFailureReason: "http-status" });
    expect(health?.lastFailureUrl).toBe(`${baseUrl}${blobPathOf(config.digest)}`);
  });

  it("Should record a network failure when the mirror closes the connection", async () => {
    await loadMirrorTable([mirror("closed", { baseUrl: await fakeMirror({ hangUp: true }) })]);
    await runCrawler();
    expect(await healthOf("closed")).toMatchObject({ consecutiveFailures: 1, lastFailureReason: "network" });
  });

  it("Should GET no more blob paths per run than CRAWL_BLOB_CHECKS, never HEAD, and verify the generation once all were checked", async () => {
    const blobs = [layer, config, await testBlob("e5", 5)];
    await publishGeneration(1, blobs);
    const baseUrl = await fakeMirror(servingGeneration(1, blobs));
    await loadMirrorTable([mirror("paced", { baseUrl })]);
    await runCrawler({ CRAWL_BLOB_CHECKS: "2" });
    expect(await healthOf("paced")).toMatchObject({ announced: 1, verified: -1, progress: { verified: 2, total: 3 } });
    const first = (await requestsTo(baseUrl)).filter((request) => request.path.startsWith("/blobs/"));
    expect(first.map((request) => request.method)).toEqual(["GET", "GET"]);
    await runCrawler({ CRAWL_BLOB_CHECKS: "2" });
    expect(await healthOf("paced")).toMatchObject({ announced: 1, verified: 1, progress: { verified: 3, total: 3 } });
    const checked = new Set((await requestsTo(baseUrl)).filter((request) => request.path.startsWith("/blobs/")).map((request) => request.path));
    expect(checked).toEqual(new Set(blobs.map((blob) => blobPathOf(blob.digest))));
  });
});
