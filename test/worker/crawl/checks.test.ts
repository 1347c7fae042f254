import { reset } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { fakeMirror, markerBody, servingGeneration } from "./farm";
import { loadMirrorTable, mirror } from "../helpers/mirrors";
import { fakeDigest, healthOf, publishGeneration, runCrawler } from "./world";

const layer = { digest: fakeDigest("a1"), size: 1234 };
const config = { digest: fakeDigest("c0"), size: 321 };

describe("one check of one mirror", () => {
  beforeEach(() => reset());

  it("Should record the marker's generation and a success for a mirror that serves the sample", async () => {
    await publishGeneration(1, [layer, config]);
    await loadMirrorTable([mirror("good", { baseUrl: await fakeMirror(servingGeneration(1, [layer, config])) })]);
    await runCrawler();
    const health = await healthOf("good");
    expect(health).toMatchObject({ generation: 1, down: false, consecutiveFailures: 0, lastFailure: null });
    expect(health?.lastSuccess).toBe(health?.lastChecked);
    expect(health?.responseTime).toBeGreaterThanOrEqual(0);
  });

  it("Should record a timeout when the marker does not answer within the deadline", async () => {
    await publishGeneration(1, [layer]);
    await loadMirrorTable([mirror("slow", { baseUrl: await fakeMirror({ marker: { body: markerBody(1), delayMs: 3000 } }) })]);
    await runCrawler({ CRAWL_TIMEOUT_MS: "200" });
    expect(await healthOf("slow")).toMatchObject({ generation: -1, consecutiveFailures: 1, lastFailureReason: "timeout" });
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
    expect(await healthOf("zero")).toMatchObject({ generation: -1, consecutiveFailures: 1, lastFailureReason: "bad-marker" });
  });

  it("Should record a bad marker, not a pass, when the marker names a generation ahead of every publication", async () => {
    await publishGeneration(1, [layer]);
    const ahead = { marker: { body: markerBody(999_999) }, blobs: { [layer.digest]: { contentLength: layer.size } } };
    await loadMirrorTable([mirror("ahead", { baseUrl: await fakeMirror(ahead) })]);
    await runCrawler();
    const health = await healthOf("ahead");
    expect(health).toMatchObject({ generation: -1, consecutiveFailures: 1, lastFailureReason: "bad-marker" });
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
    expect(await healthOf("chunked")).toMatchObject({ generation: 1, consecutiveFailures: 0 });
  });

  it("Should record the HTTP status when the marker is missing", async () => {
    await loadMirrorTable([mirror("empty", { baseUrl: await fakeMirror({ marker: { status: 404, body: "not found" } }) })]);
    await runCrawler();
    const health = await healthOf("empty");
    expect(health).toMatchObject({ consecutiveFailures: 1, lastFailureReason: "http-status" });
    expect(health?.lastFailureDetail).toContain("404");
  });

  it("Should record a size mismatch when a sampled blob's Content-Length differs from the published size", async () => {
    await publishGeneration(1, [layer]);
    const truncated = { marker: { body: markerBody(1) }, blobs: { [layer.digest]: { contentLength: layer.size - 1 } } };
    await loadMirrorTable([mirror("truncated", { baseUrl: await fakeMirror(truncated) })]);
    await runCrawler();
    expect(await healthOf("truncated")).toMatchObject({ generation: -1, consecutiveFailures: 1, lastFailureReason: "size-mismatch" });
  });

  it("Should record the HTTP status when a sampled blob is missing", async () => {
    await publishGeneration(1, [layer, config]);
    await loadMirrorTable([mirror("partial", { baseUrl: await fakeMirror(servingGeneration(1, [layer])) })]);
    await runCrawler();
    expect(await healthOf("partial")).toMatchObject({ consecutiveFailures: 1, lastFailureReason: "http-status" });
  });

  it("Should record a network failure when the mirror closes the connection", async () => {
    await loadMirrorTable([mirror("closed", { baseUrl: await fakeMirror({ hangUp: true }) })]);
    await runCrawler();
    expect(await healthOf("closed")).toMatchObject({ consecutiveFailures: 1, lastFailureReason: "network" });
  });

  it("Should send a HEAD to no more blobs than the sample size", async () => {
    const sample = [layer, config, { digest: fakeDigest("e5"), size: 5 }];
    await publishGeneration(1, sample);
    await loadMirrorTable([mirror("two-of-three", { baseUrl: await fakeMirror(servingGeneration(1, sample.slice(0, 2))) })]);
    await runCrawler({ CRAWL_SAMPLE_SIZE: "2" });
    expect(await healthOf("two-of-three")).toMatchObject({ generation: 1, consecutiveFailures: 0 });
  });
});
