import { reset } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { SMALL_BLOB_BYTES } from "../../../src/crawl/settings";
import { keys } from "../../../src/store/keys";
import { loadMirrorTable, mirror } from "../helpers/mirrors";
import { changeMirror, fakeMirror, markerBody, requestsTo, servedBlobs, servingGeneration } from "./farm";
import type { FakeBlob } from "./mirror-farm.setup";
import { blobPathOf, crawlTimes, healthOf, publishGeneration, runCrawler, testBlob, testBlobs, type TestBlob } from "./world";

const small = await testBlob("small", 2000);
const large = await testBlob("large", SMALL_BLOB_BYTES + 4096);

/** Publishes `blobs` as generation 1, verifies a faithful mirror for it, then gives the mirror `fault` on `faulty`. */
async function verifiedThenFaulty(blobs: TestBlob[], faulty: TestBlob, fault: Omit<FakeBlob, "seed" | "size">, variables = {}) {
  await publishGeneration(1, blobs);
  const baseUrl = await fakeMirror(servingGeneration(1, blobs));
  await loadMirrorTable([mirror("m", { baseUrl })]);
  await runCrawler(variables);
  expect(await healthOf("m")).toMatchObject({ verified: 1, badBlobs: [] });
  await changeMirror(baseUrl, { marker: { body: markerBody(1) }, blobs: { ...servedBlobs(blobs), ...servedBlobs([faulty], fault) } });
  await runCrawler(variables);
  return { baseUrl, health: (await healthOf("m"))! };
}

describe("what a blob check catches on a verified mirror", () => {
  beforeEach(() => reset());

  it("Should exclude a blob the mirror 404s though no sample ever named it", async () => {
    const blobs = await testBlobs("many", 6, 100);
    const { health } = await verifiedThenFaulty(blobs, blobs[4]!, { status: 404 }, { CRAWL_BLOB_CHECKS: "8" });
    expect(health.badBlobs.map((blob) => blob.digest)).toEqual([blobs[4]!.digest]);
    expect(health.lastFailureReason).toBe("http-status");
  });

  it("Should exclude every blob of an older generation that the mirror pruned", async () => {
    const old = await testBlobs("old", 2, 100);
    const fresh = await testBlobs("fresh", 2, 100);
    await publishGeneration(1, old);
    await publishGeneration(2, fresh);
    const baseUrl = await fakeMirror(servingGeneration(2, [...old, ...fresh]));
    await loadMirrorTable([mirror("pruned", { baseUrl })]);
    await runCrawler({ CRAWL_BLOB_CHECKS: "8" });
    expect(await healthOf("pruned")).toMatchObject({ verified: 2 });
    await changeMirror(baseUrl, servingGeneration(2, fresh));
    await runCrawler({ CRAWL_BLOB_CHECKS: "8" });
    const bad = (await healthOf("pruned"))!.badBlobs.map((blob) => blob.digest).sort();
    expect(bad).toEqual(old.map((blob) => blob.digest).sort());
  });

  it("Should catch wrong bytes of the right length in a small blob by its digest", async () => {
    const { health } = await verifiedThenFaulty([small], small, { corrupt: true });
    expect(health).toMatchObject({ lastFailureReason: "digest-mismatch", badBlobs: [expect.objectContaining({ digest: small.digest })] });
  });

  it("Should catch wrong bytes of the right length in a large blob downloaded whole within the byte budget", async () => {
    const { health } = await verifiedThenFaulty([large], large, { corrupt: true }, { CRAWL_HASH_BYTES: String(1024 * 1024) });
    expect(health).toMatchObject({ lastFailureReason: "digest-mismatch", badBlobs: [expect.objectContaining({ digest: large.digest })] });
  });

  it("Should probe a large blob with a Range read when the byte budget is spent, and fail a mirror that ignores Range", async () => {
    const { baseUrl, health } = await verifiedThenFaulty([large], large, { ignoreRange: true }, { CRAWL_HASH_BYTES: "1" });
    expect(health.lastFailureReason).toBe("no-range");
    const ranges = (await requestsTo(baseUrl)).filter((request) => request.path === blobPathOf(large.digest)).map((request) => request.range);
    expect(ranges[0]).toBe("bytes=0-65535");
  });

  it("Should fail a Content-Encoding label on the unchanged bytes", async () => {
    const { health } = await verifiedThenFaulty([small], small, { gzipLabel: true });
    expect(health.lastFailureReason).toBe("content-encoding");
  });

  it("Should fail a mirror that answers 500 to GET while HEAD is fine", async () => {
    const { health } = await verifiedThenFaulty([small], small, { getStatus: 500 });
    expect(health).toMatchObject({ lastFailureReason: "http-status", badBlobs: [expect.objectContaining({ digest: small.digest })] });
    expect(health.lastFailureDetail).toContain("500");
  });

  it("Should fail a blob GET that never answers within the deadline", async () => {
    const { health } = await verifiedThenFaulty([small], small, { hang: true }, { CRAWL_TIMEOUT_MS: "300" });
    expect(health.lastFailureReason).toBe("timeout");
  });

  it("Should stop checking a mirror for the run after one blob GET hangs, not wait out every blob", async () => {
    const blobs = await testBlobs("hung", 6, 100);
    await publishGeneration(1, blobs);
    const baseUrl = await fakeMirror(servingGeneration(1, blobs));
    await loadMirrorTable([mirror("m", { baseUrl })]);
    await runCrawler({ CRAWL_BLOB_CHECKS: "8" });
    await changeMirror(baseUrl, { marker: { body: markerBody(1) }, blobs: servedBlobs(blobs, { hang: true }) });
    const before = (await requestsTo(baseUrl)).length;
    await runCrawler({ CRAWL_BLOB_CHECKS: "8", CRAWL_TIMEOUT_MS: "300" });
    const blobGets = (await requestsTo(baseUrl)).slice(before).filter((entry) => entry.path.includes("/blobs/"));
    expect(blobGets).toHaveLength(1);
    expect(await healthOf("m")).toMatchObject({ lastFailureReason: "timeout", down: true });
  });

  it("Should fail a blob whose body stops half-way and is held open, within the body's deadline", async () => {
    const { health } = await verifiedThenFaulty([small], small, { stall: true });
    expect(health.lastFailureReason).toBe("slow");
    expect(health.badBlobs.map((blob) => blob.digest)).toEqual([small.digest]);
  });

  it("Should fail a blob that trickles below the rate floor", async () => {
    const { health } = await verifiedThenFaulty([large], large, { trickle: 10_000 }, { CRAWL_HASH_BYTES: "1" });
    expect(health.lastFailureReason).toBe("slow");
  });

  it("Should fail a redirect with its own reason, without following it", async () => {
    const elsewhere = await fakeMirror(servingGeneration(1, [small]));
    const { health } = await verifiedThenFaulty([small], small, { redirect: `${elsewhere}${blobPathOf(small.digest)}` });
    expect(health.lastFailureReason).toBe("redirect");
    expect((await requestsTo(elsewhere)).length).toBe(0);
  });
});

describe("the verification cursor", () => {
  beforeEach(() => reset());

  it("Should resume across runs and across inventory pages, checking every entry once before the mirror is eligible", async () => {
    const blobs = await testBlobs("paged", 7, 50);
    await publishGeneration(1, blobs, { pageSize: 3 });
    const baseUrl = await fakeMirror(servingGeneration(1, blobs));
    await loadMirrorTable([mirror("paged", { baseUrl })]);
    const verifiedAfter: number[] = [];
    for (let run = 0; run < 4; run++) {
      await runCrawler({ CRAWL_BLOB_CHECKS: "2" });
      verifiedAfter.push((await healthOf("paged"))!.verified);
    }
    expect(verifiedAfter).toEqual([-1, -1, -1, 1]);
    // Seven checks for the pass, each entry once; the last run's spare check starts the re-verification.
    const gets = (await requestsTo(baseUrl)).filter((request) => request.path.startsWith("/blobs/")).map((request) => request.path);
    expect(gets).toHaveLength(8);
    expect(gets.slice(0, 7).sort()).toEqual(blobs.map((blob) => blobPathOf(blob.digest)).sort());
  });

  it("Should keep its place when a new publication adds and prunes entries mid-pass", async () => {
    const blobs = await testBlobs("mid", 4, 50);
    await publishGeneration(1, blobs);
    const baseUrl = await fakeMirror(servingGeneration(1, blobs));
    await loadMirrorTable([mirror("mid", { baseUrl })]);
    await runCrawler({ CRAWL_BLOB_CHECKS: "2" });
    const added = await testBlob("mid-new", 50);
    const sorted = [...blobs].sort((a, b) => (a.digest < b.digest ? -1 : 1));
    await publishGeneration(2, [added], { dropping: [sorted[3]!.digest] });
    await changeMirror(baseUrl, servingGeneration(1, sorted.slice(0, 3)));
    await runCrawler({ CRAWL_BLOB_CHECKS: "2" });
    expect(await healthOf("mid")).toMatchObject({ verified: 1, badBlobs: [] });
    const checked = (await requestsTo(baseUrl)).filter((request) => request.path.startsWith("/blobs/")).map((request) => request.path);
    expect(checked.slice(0, 3).sort()).toEqual(sorted.slice(0, 3).map((blob) => blobPathOf(blob.digest)).sort());
  });

  it("Should keep re-verifying verified blobs on a rolling schedule, so a file lost later is caught", async () => {
    const blobs = await testBlobs("roll", 5, 50);
    await publishGeneration(1, blobs);
    const baseUrl = await fakeMirror(servingGeneration(1, blobs));
    await loadMirrorTable([mirror("roll", { baseUrl })]);
    await runCrawler({ CRAWL_BLOB_CHECKS: "5" });
    const lost = blobs[2]!;
    await changeMirror(baseUrl, servingGeneration(1, blobs.filter((blob) => blob !== lost)));
    await crawlTimes(3, { CRAWL_BLOB_CHECKS: "2" });
    expect((await healthOf("roll"))!.badBlobs.map((blob) => blob.digest)).toEqual([lost.digest]);
  });

  it("Should keep a mirror holding no blobs ineligible after a publication that adds no blobs", async () => {
    const blobs = await testBlobs("empty", 2, 50);
    await publishGeneration(1, blobs);
    await publishGeneration(2, []);
    await loadMirrorTable([mirror("hollow", { baseUrl: await fakeMirror({ marker: { body: markerBody(2) } }) })]);
    await crawlTimes(3);
    expect(await healthOf("hollow")).toMatchObject({ announced: 2, verified: -1, down: false });
  });

  it("Should check the mirrors named by crawl:suspect: keys first, ahead of their turn", async () => {
    await publishGeneration(1, [small]);
    const baseUrl = await fakeMirror(servingGeneration(1, [small]));
    await loadMirrorTable(["a", "b", "c", "d"].map((id) => mirror(id, { baseUrl })));
    await env.REGISTRY.put(keys.crawlSuspect("d"), JSON.stringify({ since: "2026-11-27T12:00:00Z", retries: 4 }));
    await env.REGISTRY.put(keys.crawlSuspect("not-in-the-table"), JSON.stringify({ since: "2026-11-27T12:00:00Z", retries: 4 }));
    await runCrawler({ CRAWL_BATCH_SIZE: "2" });
    expect(await healthOf("d")).toMatchObject({ verified: 1 });
    expect(await healthOf("a")).toMatchObject({ verified: 1 });
    expect(await healthOf("b")).toBeUndefined();
  });
});
