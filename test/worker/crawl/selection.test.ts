import { reset } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { seedImage, type SeededImage } from "../helpers/seed";
import { changeMirror, fakeMirror, servingGeneration } from "./farm";
import { loadMirrorTable, mirror } from "../helpers/mirrors";
import { publishGeneration, runCrawler } from "./world";

const CLIENTS = 24;

/** The mirror each of many clients (distinct /24 networks) is redirected to for one blob. */
async function redirectTargets(image: SeededImage): Promise<string[]> {
  const targets: string[] = [];
  for (let client = 0; client < CLIENTS; client++) {
    const response = await exports.default.fetch(
      new Request(`http://frontdoor.test/v2/${image.repository}/blobs/${image.layerDigest}`, {
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
  const image = await seedImage("crawl/selection", "v1", 1);
  const sample = [{ digest: image.layerDigest, size: image.layerSize }];
  await publishGeneration(1, sample);
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

  it("Should redirect clients to a mirror again once it passes a check", async () => {
    const { image, sample, fragile } = await twoMirrorsAtGeneration1();
    await changeMirror(fragile, { hangUp: true });
    await runCrawler({ CRAWL_FAILURES_BEFORE_DOWN: "1" });
    await changeMirror(fragile, servingGeneration(1, sample));
    await runCrawler({ CRAWL_FAILURES_BEFORE_DOWN: "1" });
    expect(servedBy(await redirectTargets(image), fragile)).toBeGreaterThan(0);
  });

  it("Should redirect no client to a mirror whose marker is behind the content's generation", async () => {
    const { sample, fragile, steady } = await twoMirrorsAtGeneration1();
    const newer = await seedImage("crawl/newer", "v2", 2);
    const newerSample = [{ digest: newer.layerDigest, size: newer.layerSize }];
    await publishGeneration(2, newerSample);
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
    const newer = await seedImage("crawl/newer", "v2", 2);
    const newerSample = [{ digest: newer.layerDigest, size: newer.layerSize }];
    await publishGeneration(2, newerSample);
    await changeMirror(steady, servingGeneration(2, [...sample, ...newerSample]));
    await runCrawler();
    const targets = await redirectTargets(newer);
    expect(servedBy(targets, fragile)).toBe(0);
    expect(servedBy(targets, steady)).toBe(CLIENTS);
  });

  it("Should still redirect older content to a mirror whose marker is behind", async () => {
    const { image, fragile, steady, sample } = await twoMirrorsAtGeneration1();
    const newer = await seedImage("crawl/newer", "v2", 2);
    const newerSample = [{ digest: newer.layerDigest, size: newer.layerSize }];
    await publishGeneration(2, newerSample);
    await changeMirror(steady, servingGeneration(2, [...sample, ...newerSample]));
    await runCrawler();
    expect(servedBy(await redirectTargets(image), fragile)).toBeGreaterThan(0);
  });
});
