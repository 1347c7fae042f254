import { reset } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { keys } from "../../../src/store/keys";
import { changeMirror, fakeMirror, markerBody, servedBlobs, servingGeneration } from "./farm";
import { loadMirrorTable, mirror } from "../helpers/mirrors";
import { healthOf, publishGeneration, runCrawler, testBlob, type TestBlob } from "./world";

const CLIENTS = 24;

interface Published extends TestBlob {
  repository: string;
}

/** A layer with real bytes, published in `repository` at `generation` (KV entry and inventory). */
async function publishedLayer(repository: string, seed: string, generation: number): Promise<Published> {
  const blob = await testBlob(seed, 4096);
  await env.REGISTRY.put(keys.blob(repository, blob.digest), JSON.stringify({ size: blob.size, generation, mediaType: "application/vnd.oci.image.layer.v1.tar+gzip" }));
  await env.REGISTRY.put(keys.tagList(repository), JSON.stringify(["v1"]));
  await publishGeneration(generation, [blob]);
  return { ...blob, repository };
}

/** The mirror each of many clients (distinct /24 networks) is redirected to for one blob. */
async function redirectTargets(image: Published): Promise<string[]> {
  const targets: string[] = [];
  for (let client = 0; client < CLIENTS; client++) {
    const response = await exports.default.fetch(
      new Request(`http://frontdoor.test/v2/${image.repository}/blobs/${image.digest}`, {
        redirect: "manual",
        headers: { "CF-Connecting-IP": `10.${client}.7.1` },
      }),
    );
    expect(response.status).toBe(307);
    targets.push(response.headers.get("Location") ?? "");
  }
  return targets;
}

function servedBy(targets: string[], baseUrl: string): number {
  return targets.filter((location) => location.startsWith(`${baseUrl}/`)).length;
}

async function twoMirrorsAtGeneration1() {
  const image = await publishedLayer("crawl/selection", "selection-layer", 1);
  const sample: TestBlob[] = [image];
  const steady = await fakeMirror(servingGeneration(1, sample));
  const fragile = await fakeMirror(servingGeneration(1, sample));
  await loadMirrorTable([mirror("steady", { baseUrl: steady }), mirror("fragile", { baseUrl: fragile })]);
  await runCrawler();
  return { image, sample, steady, fragile };
}

describe("blob redirects follow the crawl state", () => {
  beforeEach(() => reset());

  it("Should spread clients over both mirrors while both pass their checks", async () => {
    const { image, fragile } = await twoMirrorsAtGeneration1();
    expect(servedBy(await redirectTargets(image), fragile)).toBeGreaterThan(0);
  });

  it("Should redirect no client to a mirror the crawler marked down", async () => {
    const { image, steady, fragile } = await twoMirrorsAtGeneration1();
    await changeMirror(fragile, { hangUp: true });
    await runCrawler({ CRAWL_FAILURES_BEFORE_DOWN: "1" });
    const targets = await redirectTargets(image);
    expect(servedBy(targets, fragile)).toBe(0);
    expect(servedBy(targets, steady)).toBe(CLIENTS);
  });

  it("Should redirect clients to a down mirror again only once it passed the configured checks in a row", async () => {
    const { image, sample, fragile } = await twoMirrorsAtGeneration1();
    const settings = { CRAWL_FAILURES_BEFORE_DOWN: "1", CRAWL_PASSES_BEFORE_UP: "2" };
    await changeMirror(fragile, { hangUp: true });
    await runCrawler(settings);
    await changeMirror(fragile, servingGeneration(1, sample));
    await runCrawler(settings);
    expect(servedBy(await redirectTargets(image), fragile)).toBe(0);
    await runCrawler(settings);
    expect(servedBy(await redirectTargets(image), fragile)).toBeGreaterThan(0);
  });

  it("Should redirect no client to a mirror for a blob that failed a content check there, at once", async () => {
    const { image, sample, steady, fragile } = await twoMirrorsAtGeneration1();
    await changeMirror(fragile, { marker: { body: markerBody(1) }, blobs: servedBlobs(sample, { corrupt: true }) });
    await runCrawler();
    expect(await healthOf("fragile")).toMatchObject({ down: false, badBlobs: [expect.objectContaining({ digest: image.digest })] });
    const targets = await redirectTargets(image);
    expect(servedBy(targets, fragile)).toBe(0);
    expect(servedBy(targets, steady)).toBe(CLIENTS);
  });

  it("Should redirect no client to a mirror whose marker is behind the content's generation", async () => {
    const { sample, fragile, steady } = await twoMirrorsAtGeneration1();
    const newer = await publishedLayer("crawl/newer", "newer-layer", 2);
    const newerSample = [newer];
    await changeMirror(steady, servingGeneration(2, [...sample, ...newerSample]));
    await runCrawler();
    const targets = await redirectTargets(newer);
    expect(servedBy(targets, fragile)).toBe(0);
    expect(servedBy(targets, steady)).toBe(CLIENTS);
  });

  it("Should redirect no client to a mirror that claimed a generation ahead of every publication, once that generation is published", async () => {
    const { sample, fragile, steady } = await twoMirrorsAtGeneration1();
    await changeMirror(fragile, servingGeneration(2, sample));
    await runCrawler();
    const newer = await publishedLayer("crawl/newer", "newer-layer", 2);
    const newerSample = [newer];
    await changeMirror(steady, servingGeneration(2, [...sample, ...newerSample]));
    await runCrawler();
    const targets = await redirectTargets(newer);
    expect(servedBy(targets, fragile)).toBe(0);
    expect(servedBy(targets, steady)).toBe(CLIENTS);
  });

  it("Should still redirect older content to a mirror whose marker is behind", async () => {
    const { image, fragile, steady, sample } = await twoMirrorsAtGeneration1();
    const newer = await publishedLayer("crawl/newer", "newer-layer", 2);
    const newerSample = [newer];
    await changeMirror(steady, servingGeneration(2, [...sample, ...newerSample]));
    await runCrawler();
    expect(servedBy(await redirectTargets(image), fragile)).toBeGreaterThan(0);
  });
});
