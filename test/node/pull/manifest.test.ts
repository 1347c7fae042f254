import { describe, expect, it } from "vitest";
import { ManifestError, parseManifest } from "../../../scripts/lib/pull/manifest";
import { MEDIA_TYPES } from "../../../src/oci/media-types";

const digest = `sha256:${"ab".repeat(32)}`;
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const layer = { mediaType: MEDIA_TYPES.ociLayerGzip, digest, size: 3 };
const image = (overrides: Record<string, unknown> = {}) =>
  encode({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: { mediaType: MEDIA_TYPES.ociConfig, digest, size: 2 }, layers: [layer], ...overrides });

describe("parseManifest", () => {
  it("Should read an image manifest's config and layers", () => {
    expect(parseManifest(image(), MEDIA_TYPES.ociManifest)).toEqual({
      kind: "image",
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: MEDIA_TYPES.ociConfig, digest, size: 2 },
      layers: [layer],
    });
  });

  it("Should read an index's child manifests", () => {
    const child = { mediaType: MEDIA_TYPES.ociManifest, digest, size: 10, platform: { os: "linux", architecture: "amd64" } };
    const parsed = parseManifest(encode({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [child] }), MEDIA_TYPES.ociIndex);
    expect(parsed).toEqual({ kind: "index", mediaType: MEDIA_TYPES.ociIndex, manifests: [{ mediaType: MEDIA_TYPES.ociManifest, digest, size: 10 }] });
  });

  it("Should refuse a layer digest that could escape the blobs directory", () => {
    expect(() => parseManifest(image({ layers: [{ ...layer, digest: "sha256:../../../etc/passwd" }] }), MEDIA_TYPES.ociManifest)).toThrow(/invalid or unsupported digest/);
  });

  it("Should refuse a descriptor with a negative size", () => {
    expect(() => parseManifest(image({ layers: [{ ...layer, size: -1 }] }), MEDIA_TYPES.ociManifest)).toThrow(/invalid size/);
  });

  it("Should refuse a descriptor with an invalid media type", () => {
    expect(() => parseManifest(image({ layers: [{ ...layer, mediaType: "not a type" }] }), MEDIA_TYPES.ociManifest)).toThrow(/invalid mediaType/);
  });

  it("Should refuse a manifest whose mediaType field disagrees with how it was announced", () => {
    expect(() => parseManifest(image(), MEDIA_TYPES.dockerManifest)).toThrow(ManifestError);
  });

  it("Should refuse an index entry that is not a manifest", () => {
    const bytes = encode({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [{ ...layer }] });
    expect(() => parseManifest(bytes, MEDIA_TYPES.ociIndex)).toThrow(/unsupported media type/);
  });

  it("Should refuse bytes that are not JSON", () => {
    expect(() => parseManifest(new Uint8Array([0xff, 0xfe]), MEDIA_TYPES.ociManifest)).toThrow(ManifestError);
  });

  it("Should refuse an unsupported manifest media type", () => {
    expect(() => parseManifest(image(), "application/vnd.docker.distribution.manifest.v1+prettyjws")).toThrow(/unsupported/);
  });
});
