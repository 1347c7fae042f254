import { describe, expect, it } from "vitest";
import { MEDIA_TYPES } from "../../../src/oci/media-types";
import { computeDigest } from "../../../src/oci/reference";
import { MemoryLayout } from "../../../src/publish/layout";
import { blobPath, LAYOUT_FILES, OCI_LAYOUT_VERSION } from "../../../src/oci/layout";
import { contentHash, planPublication, PublishError, type PublicationPlan } from "../../../src/publish/plan";
import { keys } from "../../../src/store/keys";
import { addImage, demo, demoParts, named, rootDescriptor, writeIndex } from "./layouts";

const PUBLISHED = "2026-11-27T12:00:00Z";
const decoder = new TextDecoder();

function plan(layout: MemoryLayout, generation = 1, currentKeys: string[] = []): Promise<PublicationPlan> {
  return planPublication(layout, { generation, published: PUBLISHED, currentKeys });
}

async function planError(layout: MemoryLayout): Promise<PublishError> {
  const error = await plan(layout).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(PublishError);
  return error as PublishError;
}

function valueOf(writes: PublicationPlan["content"], key: string) {
  const write = writes.find((entry) => entry.key === key);
  if (write === undefined) throw new Error(`no write for ${key}`);
  return write;
}

function json(write: { value: string | Uint8Array }) {
  return JSON.parse(typeof write.value === "string" ? write.value : decoder.decode(write.value));
}

describe("planPublication of the demo image", () => {
  it("Should count one repository, one tag, three manifests and five blobs (a shared layer, two own layers, two configs)", async () => {
    const { summary } = await plan(await demo());
    expect(summary).toMatchObject({ repositories: 1, tags: 1, manifests: 3, blobs: 5 });
  });

  it("Should count the bytes of the distinct configs and layers", async () => {
    const layout = await demo();
    const { summary } = await plan(layout);
    const manifestSizes = (await demoParts(layout)).manifests.reduce((sum, m) => sum + m.size, (await rootDescriptor(layout)).size);
    const blobBytes = layout
      .files()
      .filter(([path]) => path.startsWith("blobs/"))
      .reduce((sum, [, content]) => sum + content.byteLength, 0);
    expect(summary.bytes).toBe(blobBytes - manifestSizes);
  });

  it("Should write the tag with the index bytes and its digest, media type and generation as metadata", async () => {
    const layout = await demo();
    const root = await rootDescriptor(layout);
    const write = valueOf((await plan(layout, 3)).pointers, keys.tag("demo/hello", "latest"));
    expect(write.value).toEqual(await layout.readFile(blobPath(root.digest)));
    expect(write.metadata).toEqual({ digest: root.digest, mediaType: MEDIA_TYPES.ociIndex, generation: 3, h: await contentHash(write) });
  });

  it("Should write every manifest of the image under its digest", async () => {
    const layout = await demo();
    const { root, manifests } = await demoParts(layout);
    const { content } = await plan(layout);
    for (const descriptor of [root, ...manifests]) {
      expect(valueOf(content, keys.manifest("demo/hello", descriptor.digest)).metadata).toMatchObject({ digest: descriptor.digest, mediaType: descriptor.mediaType });
    }
  });

  it("Should write a blob record with size, generation and media type for a layer", async () => {
    const layout = await demo();
    const { layers } = await demoParts(layout);
    const write = valueOf((await plan(layout, 2)).content, keys.blob("demo/hello", layers[0]!.digest));
    expect(json(write)).toEqual({ size: layers[0]!.size, generation: 2, mediaType: MEDIA_TYPES.ociLayerGzip });
  });

  it("Should write the tag list and the catalog", async () => {
    const { pointers } = await plan(await demo());
    expect(json(valueOf(pointers, keys.tagList("demo/hello")))).toEqual(["latest"]);
    expect(json(valueOf(pointers, keys.catalog()))).toEqual(["demo/hello"]);
  });

  it("Should put no tag among the content writes", async () => {
    const { content } = await plan(await demo());
    expect(content.filter((write) => write.key.startsWith("tag"))).toEqual([]);
  });

  it("Should end the pointers with generation:<n> and then publication", async () => {
    const { pointers } = await plan(await demo(), 4);
    expect(pointers.slice(-2).map((write) => write.key)).toEqual([keys.generation(4), keys.publication()]);
  });

  it("Should record the publication with an inventory of every blob path, manifests included, first-seen generation and size", async () => {
    const layout = await demo();
    const { content, pointers } = await plan(layout, 5);
    const publication = json(valueOf(pointers, keys.publication()));
    expect(publication.generation).toBe(5);
    expect(publication.published).toBe(PUBLISHED);
    const files = new Map(
      layout
        .files()
        .filter(([path]) => path.startsWith("blobs/"))
        .map(([path, bytes]) => [path.replace("blobs/sha256/", "sha256:"), bytes.byteLength] as const),
    );
    const entries = json(valueOf(content, keys.inventoryPage(5, 0)));
    expect(new Map(entries.map((entry: { digest: string; size: number }) => [entry.digest, entry.size]))).toEqual(files);
    for (const entry of entries) expect(entry.generation).toBe(5);
    expect(publication.inventory).toEqual({
      pages: 1,
      entries: files.size,
      bytes: [...files.values()].reduce((a, b) => a + b, 0),
      starts: [{ generation: 5, digest: entries[0].digest }],
      generations: [{ generation: 5, entries: files.size }],
    });
  });

  it("Should write the marker as JSON with the generation and the publication time", async () => {
    const { marker } = await plan(await demo(), 6);
    expect(JSON.parse(decoder.decode(marker))).toEqual({ generation: 6, published: PUBLISHED });
  });

  it("Should list every manifest and blob of the tree in firstSeen", async () => {
    const layout = await demo();
    const { firstSeen } = await plan(layout, 2);
    const digests = layout
      .files()
      .filter(([path]) => path.startsWith("blobs/"))
      .map(([path]) => path.replace("blobs/sha256/", "sha256:"));
    expect(firstSeen).toEqual(Object.fromEntries(digests.map((digest) => [digest, 2])));
  });
});

describe("planPublication across generations", () => {
  it("Should keep the generation recorded in first-seen.json for content already published", async () => {
    const layout = await demo();
    layout.writeFile(LAYOUT_FILES.firstSeen, JSON.stringify((await plan(layout, 1)).firstSeen));
    const root = await rootDescriptor(layout);
    expect(valueOf((await plan(layout, 2)).content, keys.manifest("demo/hello", root.digest)).metadata).toMatchObject({ generation: 1 });
  });

  it("Should give content new in this publication this generation", async () => {
    const layout = await demo();
    layout.writeFile(LAYOUT_FILES.firstSeen, JSON.stringify((await plan(layout, 1)).firstSeen));
    const changed = await demo({ message: "second" });
    for (const [path, content] of changed.files()) if (path !== LAYOUT_FILES.firstSeen) layout.writeFile(path, content);
    const { layers } = await demoParts(changed);
    const { content, firstSeen } = await plan(layout, 2);
    expect(json(valueOf(content, keys.blob("demo/hello", layers[0]!.digest))).generation).toBe(1);
    expect(json(valueOf(content, keys.blob("demo/hello", layers[1]!.digest))).generation).toBe(2);
    expect(firstSeen[layers[1]!.digest]).toBe(2);
  });

  it("Should sort the inventory by first-seen generation, then digest", async () => {
    const layout = await demo();
    layout.writeFile(LAYOUT_FILES.firstSeen, JSON.stringify((await plan(layout, 1)).firstSeen));
    const changed = await demo({ message: "second" });
    for (const [path, bytes] of changed.files()) if (path !== LAYOUT_FILES.firstSeen) layout.writeFile(path, bytes);
    const { content } = await plan(layout, 2);
    const entries: Array<{ digest: string; generation: number }> = json(valueOf(content, keys.inventoryPage(2, 0)));
    expect(new Set(entries.map((entry) => entry.generation))).toEqual(new Set([1, 2]));
    const order = (a: { digest: string; generation: number }, b: { digest: string; generation: number }) =>
      a.generation - b.generation || (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0);
    expect(entries).toEqual([...entries].sort(order));
  });

  it("Should list the content of earlier generations in the inventory of a publication that adds nothing", async () => {
    const layout = await demo();
    layout.writeFile(LAYOUT_FILES.firstSeen, JSON.stringify((await plan(layout, 1)).firstSeen));
    const { content, pointers } = await plan(layout, 2);
    const entries: Array<{ generation: number }> = json(valueOf(content, keys.inventoryPage(2, 0)));
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.every((entry) => entry.generation === 1)).toBe(true);
    expect(json(valueOf(pointers, keys.publication())).inventory.entries).toBe(entries.length);
  });

  it("Should drop first-seen entries of content no longer in the tree", async () => {
    const layout = await demo();
    const stale = `sha256:${"ab".repeat(32)}`;
    layout.writeFile(LAYOUT_FILES.firstSeen, JSON.stringify({ [stale]: 1 }));
    expect(Object.keys((await plan(layout, 2)).firstSeen)).not.toContain(stale);
  });

  it("Should reject a first-seen generation later than this publication's", async () => {
    const layout = await demo();
    const { root } = await demoParts(layout);
    layout.writeFile(LAYOUT_FILES.firstSeen, JSON.stringify({ [root.digest]: 9 }));
    expect((await planError(layout)).code).toBe("LAYOUT_INVALID");
  });
});

describe("planPublication of a broken tree", () => {
  it("Should name the missing layer's path with BLOB_MISSING", async () => {
    const layout = await demo();
    const { layers } = await demoParts(layout);
    layout.deleteFile(blobPath(layers[1]!.digest));
    const error = await planError(layout);
    expect(error.code).toBe("BLOB_MISSING");
    expect(error.path).toBe(blobPath(layers[1]!.digest));
    expect(error.message).toContain(layers[1]!.digest);
  });

  it("Should report DIGEST_MISMATCH for a layer whose bytes were changed in place", async () => {
    const layout = await demo();
    const { layers } = await demoParts(layout);
    const tampered = (await layout.readFile(blobPath(layers[0]!.digest)))!.slice();
    const at = tampered.length - 10;
    tampered[at] = tampered[at]! ^ 0xff;
    layout.writeFile(blobPath(layers[0]!.digest), tampered);
    const error = await planError(layout);
    expect(error.code).toBe("DIGEST_MISMATCH");
    expect(error.digest).toBe(layers[0]!.digest);
  });

  it("Should report SIZE_MISMATCH for a truncated config", async () => {
    const layout = await demo();
    const { config } = await demoParts(layout);
    layout.writeFile(blobPath(config.digest), (await layout.readFile(blobPath(config.digest)))!.subarray(1));
    const error = await planError(layout);
    expect(error.code).toBe("SIZE_MISMATCH");
    expect(error.message).toContain(blobPath(config.digest));
  });

  it("Should report DIGEST_MISMATCH for a tampered manifest", async () => {
    const layout = await demo();
    const { manifests } = await demoParts(layout);
    const bytes = (await layout.readFile(blobPath(manifests[1]!.digest)))!.slice();
    bytes[bytes.length - 2] = 0x20;
    layout.writeFile(blobPath(manifests[1]!.digest), bytes);
    expect((await planError(layout)).code).toBe("DIGEST_MISMATCH");
  });

  it("Should report REF_INVALID for a ref name with an invalid repository", async () => {
    const layout = await demo();
    writeIndex(layout, [named(await rootDescriptor(layout), "Demo/Hello:latest")]);
    const error = await planError(layout);
    expect(error.code).toBe("REF_INVALID");
    expect(error.message).toContain("Demo/Hello:latest");
  });

  it("Should report REF_INVALID for a ref name with an invalid tag", async () => {
    const layout = await demo();
    writeIndex(layout, [named(await rootDescriptor(layout), "demo/hello:-bad")]);
    const error = await planError(layout);
    expect(error.code).toBe("REF_INVALID");
    expect(error.message).toContain("of the form <repository>:<tag>");
  });

  it("Should report REF_INVALID for an index.json entry without a ref name", async () => {
    const layout = await demo();
    const { annotations: _annotations, ...unnamed } = await rootDescriptor(layout);
    writeIndex(layout, [unnamed]);
    const error = await planError(layout);
    expect(error.code).toBe("REF_INVALID");
    expect(error.message).toContain("manifests[0]");
  });

  it("Should report REF_INVALID for a ref named twice", async () => {
    const layout = await demo();
    const root = await rootDescriptor(layout);
    writeIndex(layout, [root, root]);
    expect((await planError(layout)).code).toBe("REF_INVALID");
  });

  it("Should report MEDIA_TYPE_UNKNOWN for a ref that is not a manifest", async () => {
    const layout = await demo();
    const { config } = await demoParts(layout);
    writeIndex(layout, [named(config, "demo/hello:config")]);
    const error = await planError(layout);
    expect(error.code).toBe("MEDIA_TYPE_UNKNOWN");
    expect(error.message).toContain(MEDIA_TYPES.ociConfig);
  });

  it("Should report LAYOUT_INVALID when oci-layout is missing", async () => {
    const layout = await demo();
    layout.deleteFile(LAYOUT_FILES.ociLayout);
    const error = await planError(layout);
    expect(error.code).toBe("LAYOUT_INVALID");
    expect(error.path).toBe(LAYOUT_FILES.ociLayout);
  });

  it("Should report LAYOUT_INVALID when index.json is not JSON", async () => {
    const layout = await demo();
    layout.writeFile(LAYOUT_FILES.index, "{");
    const error = await planError(layout);
    expect(error.code).toBe("LAYOUT_INVALID");
    expect(error.path).toBe(LAYOUT_FILES.index);
  });

  it("Should report DESCRIPTOR_INVALID for a digest of an unsupported algorithm", async () => {
    const layout = await demo();
    writeIndex(layout, [named({ ...(await rootDescriptor(layout)), digest: `md5:${"0".repeat(32)}` as never }, "demo/hello:latest")]);
    expect((await planError(layout)).code).toBe("DESCRIPTOR_INVALID");
  });

  it("Should report MANIFEST_INVALID when a manifest's own mediaType contradicts its descriptor", async () => {
    const layout = new MemoryLayout();
    layout.writeFile(LAYOUT_FILES.ociLayout, JSON.stringify(OCI_LAYOUT_VERSION));
    const image = await addImage(layout, "contradiction");
    writeIndex(layout, [named({ ...image, mediaType: MEDIA_TYPES.dockerManifest }, "demo/mixed:v1")]);
    expect((await planError(layout)).code).toBe("MANIFEST_INVALID");
  });

  it("Should check every descriptor of a manifest already read, in whichever order the tree names them", async () => {
    const layout = new MemoryLayout();
    layout.writeFile(LAYOUT_FILES.ociLayout, JSON.stringify(OCI_LAYOUT_VERSION));
    const image = await addImage(layout, "named twice");
    const wrongSize = await layout.addJsonBlob({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [{ ...image, size: image.size + 1 }] }, MEDIA_TYPES.ociIndex);
    const wrongType = await layout.addJsonBlob({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [{ ...image, mediaType: MEDIA_TYPES.dockerManifest }] }, MEDIA_TYPES.ociIndex);
    writeIndex(layout, [named(image, "demo/a:v1"), named(wrongSize, "demo/b:v1")]);
    const sizeError = await planError(layout);
    expect(sizeError.code).toBe("SIZE_MISMATCH");
    expect(sizeError.message).toContain(`its descriptor says ${image.size + 1}`);
    writeIndex(layout, [named(image, "demo/a:v1"), named(wrongType, "demo/a:v2")]);
    const typeError = await planError(layout);
    expect(typeError.code).toBe("MANIFEST_INVALID");
    expect(typeError.message).toContain(`media type ${MEDIA_TYPES.dockerManifest} here and ${MEDIA_TYPES.ociManifest} elsewhere`);
  });

  it("Should refuse a manifest that starts with a byte order mark", async () => {
    const layout = new MemoryLayout();
    layout.writeFile(LAYOUT_FILES.ociLayout, JSON.stringify(OCI_LAYOUT_VERSION));
    const image = await addImage(layout, "bom");
    const bytes = await layout.readFile(blobPath(image.digest));
    const marked = await layout.addBlob(new Uint8Array([0xef, 0xbb, 0xbf, ...bytes!]), MEDIA_TYPES.ociManifest);
    writeIndex(layout, [named(marked, "demo/bom:v1")]);
    const error = await planError(layout);
    expect(error.code).toBe("MANIFEST_INVALID");
    expect(error.message).toContain("byte order mark");
  });

  it("Should refuse annotations that are not a map of strings, on a descriptor and on a referrer", async () => {
    const layout = new MemoryLayout();
    layout.writeFile(LAYOUT_FILES.ociLayout, JSON.stringify(OCI_LAYOUT_VERSION));
    const image = await addImage(layout, "annotated");
    writeIndex(layout, [{ ...image, annotations: { "org.opencontainers.image.ref.name": "demo/a:v1", "org.example.count": 3 } }]);
    expect((await planError(layout)).message).toContain('annotation "org.example.count" is not a string');
    const { config } = JSON.parse(decoder.decode((await layout.readFile(blobPath(image.digest)))!));
    const referrer = await layout.addJsonBlob(
      { schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config, layers: [], subject: image, annotations: { created: { at: 1 } } },
      MEDIA_TYPES.ociManifest,
    );
    writeIndex(layout, [named(image, "demo/a:v1"), named(referrer, "demo/a:sig")]);
    const error = await planError(layout);
    expect(error.code).toBe("MANIFEST_INVALID");
    expect(error.message).toContain('annotation "created" is not a string');
  });

  it("Should refuse an imageLayoutVersion that is not a 1.x.y version", async () => {
    for (const version of ["1.garbage", "1.0", "2.0.0"]) {
      const layout = await demo();
      layout.writeFile(LAYOUT_FILES.ociLayout, JSON.stringify({ imageLayoutVersion: version }));
      const error = await planError(layout);
      expect(error.code).toBe("LAYOUT_INVALID");
      expect(error.message).toContain(`unsupported imageLayoutVersion "${version}"`);
    }
  });
});

describe("planPublication of other content", () => {
  async function emptyLayout(): Promise<MemoryLayout> {
    const layout = new MemoryLayout();
    layout.writeFile(LAYOUT_FILES.ociLayout, JSON.stringify(OCI_LAYOUT_VERSION));
    return layout;
  }

  it("Should accept Docker schema 2 manifests and manifest lists", async () => {
    const layout = await emptyLayout();
    const image = await addImage(layout, "docker", { manifestType: MEDIA_TYPES.dockerManifest, configType: "application/vnd.docker.container.image.v1+json" });
    const list = await layout.addJsonBlob({ schemaVersion: 2, mediaType: MEDIA_TYPES.dockerManifestList, manifests: [image] }, MEDIA_TYPES.dockerManifestList);
    writeIndex(layout, [named(list, "library/busybox:1")]);
    const write = valueOf((await plan(layout)).pointers, keys.tag("library/busybox", "1"));
    expect(write.metadata).toMatchObject({ digest: list.digest, mediaType: MEDIA_TYPES.dockerManifestList });
  });

  it("Should list a blob once in the inventory when one manifest names it as a layer and the tree serves it as a manifest", async () => {
    const layout = await emptyLayout();
    const image = await addImage(layout, "inner");
    const { config } = JSON.parse(decoder.decode((await layout.readFile(blobPath(image.digest)))!));
    const bundle = await layout.addJsonBlob({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config, layers: [image] }, MEDIA_TYPES.ociManifest);
    writeIndex(layout, [named(image, "demo/inner:v1"), named(bundle, "demo/bundle:v1")]);
    const { content, pointers } = await plan(layout, 3);
    const entries: { digest: string }[] = json(valueOf(content, keys.inventoryPage(3, 0)));
    expect(entries.filter((entry) => entry.digest === image.digest)).toHaveLength(1);
    expect(json(valueOf(pointers, keys.publication())).inventory.entries).toBe(new Set(entries.map((entry) => entry.digest)).size);
  });

  it("Should verify a blob named by a sha512 digest", async () => {
    const layout = await emptyLayout();
    const bytes = new TextEncoder().encode("sha512 layer");
    const digest = await computeDigest(bytes, "sha512");
    layout.writeFile(blobPath(digest), bytes);
    const config = await layout.addJsonBlob({ architecture: "amd64", os: "linux" }, MEDIA_TYPES.ociConfig);
    const image = await layout.addJsonBlob(
      { schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config, layers: [{ mediaType: MEDIA_TYPES.ociLayerGzip, digest, size: bytes.byteLength }] },
      MEDIA_TYPES.ociManifest,
    );
    writeIndex(layout, [named(image, "demo/long:v1")]);
    expect(json(valueOf((await plan(layout)).content, keys.blob("demo/long", digest))).size).toBe(bytes.byteLength);
  });

  it("Should report DIGEST_MISMATCH for a tampered sha512 blob", async () => {
    const layout = await emptyLayout();
    const bytes = new TextEncoder().encode("sha512 layer");
    const digest = await computeDigest(bytes, "sha512");
    layout.writeFile(blobPath(digest), new TextEncoder().encode("sha512 LAYER"));
    const config = await layout.addJsonBlob({ architecture: "amd64", os: "linux" }, MEDIA_TYPES.ociConfig);
    const image = await layout.addJsonBlob(
      { schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config, layers: [{ mediaType: MEDIA_TYPES.ociLayerGzip, digest, size: bytes.byteLength }] },
      MEDIA_TYPES.ociManifest,
    );
    writeIndex(layout, [named(image, "demo/long:v1")]);
    expect((await planError(layout)).code).toBe("DIGEST_MISMATCH");
  });

  it("Should record a manifest with a subject as a referrer of that subject", async () => {
    const layout = await emptyLayout();
    const image = await addImage(layout, "subject");
    const signature = await addImage(layout, "signature", { subject: image, artifactType: "application/vnd.example.signature" });
    writeIndex(layout, [named(image, "demo/signed:v1"), named(signature, "demo/signed:v1.sig")]);
    const referrers = json(valueOf((await plan(layout)).content, keys.referrers("demo/signed", image.digest)));
    expect(referrers).toEqual([{ mediaType: MEDIA_TYPES.ociManifest, digest: signature.digest, size: signature.size, artifactType: "application/vnd.example.signature" }]);
  });

  it("Should use the config's media type as a referrer's artifactType when the manifest has none", async () => {
    const layout = await emptyLayout();
    const image = await addImage(layout, "subject");
    const sbom = await addImage(layout, "sbom", { subject: image, configType: "application/vnd.example.sbom.config+json" });
    writeIndex(layout, [named(image, "demo/signed:v1"), named(sbom, "demo/signed:sbom")]);
    const [referrer] = json(valueOf((await plan(layout)).content, keys.referrers("demo/signed", image.digest)));
    expect(referrer.artifactType).toBe("application/vnd.example.sbom.config+json");
  });

  it("Should write a blob shared by two repositories once per repository", async () => {
    const layout = await emptyLayout();
    const image = await addImage(layout, "shared");
    writeIndex(layout, [named(image, "team-a/app:v1"), named(image, "team-b/app:v1")]);
    const { content, summary } = await plan(layout);
    const blobKeys = content.filter((write) => write.key.startsWith("blob:")).map((write) => write.key.split("@")[0]);
    expect(blobKeys).toEqual(["blob:team-a/app", "blob:team-a/app", "blob:team-a/app", "blob:team-b/app", "blob:team-b/app", "blob:team-b/app"]);
    expect(summary).toMatchObject({ repositories: 2, tags: 2, manifests: 1, blobs: 2 });
  });

  it("Should list a repository's tags sorted", async () => {
    const layout = await emptyLayout();
    const image = await addImage(layout, "tags");
    writeIndex(layout, [named(image, "demo/tags:v2"), named(image, "demo/tags:latest"), named(image, "demo/tags:V1")]);
    expect(json(valueOf((await plan(layout)).pointers, keys.tagList("demo/tags")))).toEqual(["V1", "latest", "v2"]);
  });
});

describe("planPublication's deletions", () => {
  const GONE = `sha256:${"cd".repeat(32)}` as const;

  it("Should delete current tags, tag lists and content the tree no longer names, pointers apart from content", async () => {
    const current = [keys.tag("demo/hello", "gone"), keys.tagList("demo/gone"), keys.manifest("demo/hello", GONE), keys.blob("demo/gone", GONE), keys.referrers("demo/hello", GONE)];
    const { deletions } = await plan(await demo(), 2, current);
    expect(deletions).toEqual({
      pointers: [keys.tag("demo/hello", "gone"), keys.tagList("demo/gone")],
      content: [keys.blob("demo/gone", GONE), keys.manifest("demo/hello", GONE), keys.referrers("demo/hello", GONE)],
    });
  });

  it("Should not delete a key this publication writes, only the previous publication's inventory pages", async () => {
    const layout = await demo();
    const first = await plan(layout, 1);
    const written = [...first.content, ...first.pointers].map((write) => write.key);
    expect((await plan(layout, 2, written)).deletions).toEqual({ pointers: [], content: [keys.inventoryPage(1, 0)] });
  });

  it("Should leave keys outside the published prefixes alone", async () => {
    const current = [keys.mirrors(), keys.crawlState(), keys.crawlCursor(), keys.catalog(), keys.generation(1), keys.publication()];
    expect((await plan(await demo(), 2, current)).deletions).toEqual({ pointers: [], content: [] });
  });
});

/** What a namespace would hold after `published` was applied: every key with its content hash. */
function holdings(published: PublicationPlan): Map<string, string> {
  return new Map([...published.content, ...published.pointers].map((write) => [write.key, String(write.metadata?.h)]));
}

describe("planPublication against what is published", () => {
  it("Should carry a 128-bit content hash in every write's metadata, over value and metadata", async () => {
    const first = await plan(await demo());
    for (const write of [...first.content, ...first.pointers]) {
      expect(write.metadata?.h).toMatch(/^[0-9a-f]{32}$/);
      expect(write.metadata?.h).toBe(await contentHash(write));
    }
    const tag = valueOf(first.pointers, keys.tag("demo/hello", "latest"));
    expect(await contentHash({ ...tag, metadata: { ...tag.metadata, generation: 9 } })).not.toBe(tag.metadata?.h);
  });

  it("Should write nothing and keep the generation for a tree that is exactly the current publication", async () => {
    const layout = await demo();
    const first = await plan(layout, 1);
    const current = { generation: 1, published: PUBLISHED, inventory: json(valueOf(first.pointers, keys.publication())).inventory };
    const again = await planPublication(layout, { generation: 2, published: "2026-11-28T00:00:00Z", currentKeys: holdings(first).keys(), currentHashes: holdings(first), current });
    expect(again.unchanged).toBe(true);
    expect(again.generation).toBe(1);
    expect([again.content, again.pointers, again.deletions.pointers, again.deletions.content]).toEqual([[], [], [], []]);
    expect(decoder.decode(again.marker)).toBe(decoder.decode(first.marker));
  });

  it("Should take the next generation when the tree has seen a later one than the namespace", async () => {
    const layout = await demo();
    const first = await plan(layout, 1);
    const current = { generation: 1, published: PUBLISHED, inventory: json(valueOf(first.pointers, keys.publication())).inventory };
    const again = await planPublication(layout, { generation: 8, published: PUBLISHED, currentKeys: holdings(first).keys(), currentHashes: holdings(first), current });
    expect(again.unchanged).toBe(false);
    expect(again.generation).toBe(8);
  });

  it("Should write only the changed tag, its new content, the inventory and the publication records when one tag changes", async () => {
    const layout = await demo();
    const hello = await rootDescriptor(layout);
    writeIndex(layout, [hello, named(await addImage(layout, "other"), "demo/other:v1")]);
    const first = await plan(layout, 1);
    const current = { generation: 1, published: PUBLISHED, inventory: json(valueOf(first.pointers, keys.publication())).inventory };
    layout.writeFile(LAYOUT_FILES.firstSeen, JSON.stringify(first.firstSeen));
    writeIndex(layout, [hello, named(await addImage(layout, "other, changed"), "demo/other:v1")]);
    const next = await planPublication(layout, { generation: 2, published: "2026-11-28T00:00:00Z", currentKeys: holdings(first).keys(), currentHashes: holdings(first), current });
    expect(next.unchanged).toBe(false);
    const pointerKeys = next.pointers.map((write) => write.key);
    expect(pointerKeys).toEqual([keys.tag("demo/other", "v1"), keys.generation(2), keys.publication()]);
    expect(next.content.every((write) => write.key.startsWith("inventory:2:") || write.key.includes("demo/other"))).toBe(true);
    expect(next.content.some((write) => write.key.startsWith("manifest:demo/hello") || write.key.startsWith("blob:demo/hello"))).toBe(false);
    expect(next.deletions.pointers).toEqual([]);
    expect(next.deletions.content.every((key) => key.startsWith("inventory:1:") || key.includes("demo/other"))).toBe(true);
  });
});
