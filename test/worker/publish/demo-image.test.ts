import { describe, expect, it } from "vitest";
import { MEDIA_TYPES } from "../../../src/oci/media-types";
import { computeDigest } from "../../../src/oci/reference";
import { blobPath, LAYOUT_FILES, REF_NAME_ANNOTATION } from "../../../src/oci/layout";
import { blobOf, demo, demoParts, readJson, rootDescriptor } from "./layouts";

async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

describe("buildDemoLayout", () => {
  it("Should build the same files byte for byte on every call", async () => {
    const [first, second] = await Promise.all([demo(), demo()]);
    expect(second.files()).toEqual(first.files());
  });

  it("Should name the image demo/hello:latest in index.json as skopeo's oci transport does", async () => {
    const root = await rootDescriptor(await demo());
    expect(root.mediaType).toBe(MEDIA_TYPES.ociIndex);
    expect(root.annotations).toEqual({ [REF_NAME_ANNOTATION]: "demo/hello:latest" });
  });

  it("Should use the repository and tag it is given", async () => {
    const root = await rootDescriptor(await demo({ repository: "library/other", tag: "v1" }));
    expect(root.annotations?.[REF_NAME_ANNOTATION]).toBe("library/other:v1");
  });

  it("Should write an oci-layout file of version 1.0.0", async () => {
    expect(await readJson(await demo(), LAYOUT_FILES.ociLayout)).toEqual({ imageLayoutVersion: "1.0.0" });
  });

  it("Should index one linux/amd64 and one linux/arm64 image manifest", async () => {
    const layout = await demo();
    const index = await readJson(layout, blobPath((await rootDescriptor(layout)).digest));
    expect(index.manifests.map((m: { mediaType: string; platform: unknown }) => [m.mediaType, m.platform])).toEqual([
      [MEDIA_TYPES.ociManifest, { architecture: "amd64", os: "linux" }],
      [MEDIA_TYPES.ociManifest, { architecture: "arm64", os: "linux", variant: "v8" }],
    ]);
  });

  it("Should store every blob under the digest of its bytes", async () => {
    for (const [path, content] of (await demo()).files()) {
      if (!path.startsWith("blobs/")) continue;
      expect(blobPath(await computeDigest(content))).toBe(path);
    }
  });

  it("Should list the digests of the uncompressed layer tars as the config's diff_ids", async () => {
    const layout = await demo();
    const { config, layers } = await demoParts(layout);
    const diffIds = await Promise.all(layers.map(async (layer) => computeDigest(await gunzip((await blobOf(layout, layer.digest))!))));
    expect((await readJson(layout, blobPath(config.digest))).rootfs).toEqual({ type: "layers", diff_ids: diffIds });
  });

  it("Should write layers as ustar archives", async () => {
    const layout = await demo();
    const { layers } = await demoParts(layout);
    const archive = await gunzip((await blobOf(layout, layers[0]!.digest))!);
    expect(new TextDecoder().decode(archive.subarray(257, 265))).toBe("ustar\u000000");
  });

  it("Should give different messages different platform layers", async () => {
    const [a, b] = await Promise.all([demo(), demo({ message: "another" })]);
    const [partsA, partsB] = await Promise.all([demoParts(a), demoParts(b)]);
    expect(partsB.layers[0]!.digest).toBe(partsA.layers[0]!.digest);
    expect(partsB.layers[1]!.digest).not.toBe(partsA.layers[1]!.digest);
  });
});
