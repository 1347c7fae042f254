import { describe, expect, it } from "vitest";
import { MEDIA_TYPES } from "../../../src/oci/media-types";
import { blobPath } from "../../../src/oci/layout";
import type { Digest } from "../../../src/oci/reference";
import type { ContentSet } from "../../../src/publish/content-sets";
import { planPublication } from "../../../src/publish/plan";
import type { MemoryLayout } from "../../../src/publish/layout";
import type { BlobRecord, InventoryEntry, Publication } from "../../../src/store/records";
import { addImage, demo, demoParts, named, readJson, writeIndex } from "../publish/layouts";

const AMD64: ContentSet = { name: "amd64", repositories: ["demo/*"], platforms: [{ os: "linux", architecture: "amd64" }] };
const ARM64: ContentSet = { name: "arm64", repositories: ["demo/*"], platforms: [{ os: "linux", architecture: "arm64" }] };
const OTHER: ContentSet = { name: "other", repositories: ["other/app"], platforms: [] };

const decoder = new TextDecoder();

async function plan(layout: MemoryLayout, sets: ContentSet[]) {
  return planPublication(layout, { generation: 1, published: "2026-12-01T00:00:00Z", currentKeys: [], sets });
}

function value(result: Awaited<ReturnType<typeof plan>>, key: string): string {
  const write = [...result.content, ...result.pointers].find((entry) => entry.key === key);
  if (write === undefined) throw new Error(`no write of ${key}`);
  return typeof write.value === "string" ? write.value : decoder.decode(write.value);
}

function inventory(result: Awaited<ReturnType<typeof plan>>): InventoryEntry[] {
  return result.content.filter((write) => write.key.startsWith("inventory:")).flatMap((write) => JSON.parse(value(result, write.key)) as InventoryEntry[]);
}

/** The demo image (linux/amd64 and linux/arm64 sharing one layer), a cosign signature of its index, and another repository. */
async function tree() {
  const layout = await demo();
  const parts = await demoParts(layout);
  const index = await readJson(layout, blobPath(parts.root.digest));
  const [amd64, arm64] = index.manifests as Array<{ digest: Digest }>;
  const amd64Image = await readJson(layout, blobPath(amd64!.digest));
  const arm64Image = await readJson(layout, blobPath(arm64!.digest));
  const shared = (amd64Image.layers as Array<{ digest: Digest }>).map((l) => l.digest).filter((d) => (arm64Image.layers as Array<{ digest: Digest }>).some((l) => l.digest === d));
  const signature = await addImage(layout, "signature payload", { configType: "application/vnd.oci.image.config.v1+json" });
  const referrer = await addImage(layout, "sbom of amd64", { subject: { mediaType: MEDIA_TYPES.ociManifest, digest: amd64!.digest, size: 1 }, artifactType: "application/spdx+json" });
  const other = await addImage(layout, "other app");
  const hex = parts.root.digest.slice("sha256:".length);
  writeIndex(layout, [
    named(parts.root, "demo/hello:latest"),
    named(signature, `demo/hello:sha256-${hex}.sig`),
    named(referrer, "demo/hello:sbom"),
    named(other, "other/app:1"),
  ]);
  const signatureManifest = await readJson(layout, blobPath(signature.digest));
  const referrerManifest = await readJson(layout, blobPath(referrer.digest));
  return { layout, parts, amd64: amd64!.digest, arm64: arm64!.digest, amd64Image, arm64Image, shared, signature, signatureManifest, referrer, referrerManifest, other };
}

describe("content set membership", () => {
  it("Should put the index in every set that selects one of its platforms, and each platform's manifest, config and layers in its own", async () => {
    const t = await tree();
    const result = await plan(t.layout, [AMD64, ARM64, OTHER]);
    const sets = (digest: string) => inventory(result).find((entry) => entry.digest === digest)?.sets;
    expect(sets(t.parts.root.digest)).toEqual(["amd64", "arm64"]);
    expect(sets(t.amd64)).toEqual(["amd64"]);
    expect(sets(t.arm64)).toEqual(["arm64"]);
    expect(sets(t.amd64Image.config.digest)).toEqual(["amd64"]);
    expect(sets(t.arm64Image.config.digest)).toEqual(["arm64"]);
    expect(t.shared.length).toBeGreaterThan(0);
    for (const digest of t.shared) expect(sets(digest)).toEqual(["amd64", "arm64"]);
  });

  it("Should put a cosign signature and its payload in every set of the manifest it signs", async () => {
    const t = await tree();
    const result = await plan(t.layout, [AMD64, ARM64, OTHER]);
    const sets = (digest: string) => inventory(result).find((entry) => entry.digest === digest)?.sets;
    expect(sets(t.signature.digest)).toEqual(["amd64", "arm64"]);
    expect(sets(t.signatureManifest.layers[0].digest)).toEqual(["amd64", "arm64"]);
  });

  it("Should put a referrer in the sets of its subject only", async () => {
    const t = await tree();
    const result = await plan(t.layout, [AMD64, ARM64, OTHER]);
    const sets = (digest: string) => inventory(result).find((entry) => entry.digest === digest)?.sets;
    expect(sets(t.referrer.digest)).toEqual(["amd64"]);
    expect(sets(t.referrerManifest.layers[0].digest)).toEqual(["amd64"]);
  });

  it("Should select repositories by pattern: another repository's content is in its own set only", async () => {
    const t = await tree();
    const result = await plan(t.layout, [AMD64, ARM64, OTHER]);
    const entry = inventory(result).find((candidate) => candidate.digest === t.other.digest);
    expect(entry?.sets).toEqual(["other"]);
    const record = JSON.parse(value(result, `blob:other/app@${t.other.digest}`)) as BlobRecord;
    expect(record.sets).toEqual(["other"]);
  });

  it("Should carry the sets in blob records and manifest metadata, and count each set's entries in the publication", async () => {
    const t = await tree();
    const result = await plan(t.layout, [AMD64, ARM64]);
    const record = JSON.parse(value(result, `blob:demo/hello@${t.amd64Image.config.digest}`)) as BlobRecord;
    expect(record.sets).toEqual(["amd64"]);
    const tag = result.pointers.find((write) => write.key === "tag:demo/hello:latest")!;
    expect(tag.metadata?.sets).toEqual(["amd64", "arm64"]);
    const publication = JSON.parse(value(result, "publication")) as Publication;
    const amd64Count = inventory(result).filter((entry) => entry.sets?.includes("amd64")).length;
    expect(publication.inventory?.sets?.find((set) => set.name === "amd64")?.generations).toEqual([{ generation: 1, entries: amd64Count }]);
  });

  it("Should write no sets without a sets file", async () => {
    const t = await tree();
    const result = await plan(t.layout, []);
    expect(inventory(result).every((entry) => entry.sets === undefined)).toBe(true);
    expect(result.setFiles).toEqual([]);
    expect(result.setMarkers).toEqual([]);
  });

  it("Should write per set an rsync list with oci-layout, its blobs, its index.json landing at the root, and its marker last", async () => {
    const t = await tree();
    const result = await plan(t.layout, [AMD64, ARM64]);
    const list = decoder.decode(result.setFiles.find((file) => file.path === "frontdoor/sets/arm64/files")!.bytes).trim().split("\n");
    expect(list[0]).toBe("oci-layout");
    expect(list.slice(-2)).toEqual(["frontdoor/sets/arm64/./index.json", "frontdoor/sets/arm64/generation"]);
    expect(list).toContain(blobPath(t.arm64));
    expect(list).not.toContain(blobPath(t.amd64));
    expect(list).not.toContain(blobPath(t.referrer.digest));
    const index = JSON.parse(decoder.decode(result.setFiles.find((file) => file.path === "frontdoor/sets/arm64/index.json")!.bytes));
    expect(index.manifests.map((ref: { digest: string }) => ref.digest)).toEqual([t.parts.root.digest, t.signature.digest]);
    expect(result.setMarkers.map((file) => file.path)).toEqual(["frontdoor/sets/amd64/generation", "frontdoor/sets/arm64/generation"]);
    expect(JSON.parse(decoder.decode(result.setMarkers[0]!.bytes))).toEqual({ generation: 1, published: "2026-12-01T00:00:00Z" });
  });
});
