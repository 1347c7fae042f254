import { env } from "cloudflare:workers";
import { computeDigest, type Digest } from "../../../src/oci/reference";
import { MEDIA_TYPES } from "../../../src/oci/media-types";
import { blobEntry, catalogEntry, manifestEntry, putEntry, tagEntry, tagListEntry } from "../../../src/store/encode";
import { keys } from "../../../src/store/keys";

const encoder = new TextEncoder();

export interface SeededImage {
  repository: string;
  tag: string;
  manifestBytes: Uint8Array;
  manifestDigest: Digest;
  configDigest: Digest;
  layerDigest: Digest;
  layerSize: number;
}

/** Writes one single-platform image straight into KV, the way the publisher lays it out. */
export async function seedImage(repository: string, tag: string, generation = 1): Promise<SeededImage> {
  const config = encoder.encode(JSON.stringify({ architecture: "amd64", os: "linux", repository }));
  const layer = encoder.encode(`layer of ${repository}`);
  const configDigest = await computeDigest(config);
  const layerDigest = await computeDigest(layer);
  const manifestBytes = encoder.encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: MEDIA_TYPES.ociConfig, digest: configDigest, size: config.length },
      layers: [{ mediaType: MEDIA_TYPES.ociLayerGzip, digest: layerDigest, size: layer.length }],
    }),
  );
  const manifestDigest = await computeDigest(manifestBytes);
  const manifest = { digest: manifestDigest, mediaType: MEDIA_TYPES.ociManifest, generation };
  const existing = (await env.REGISTRY.get<string[]>(keys.tagList(repository), "json")) ?? [];
  const catalog = (await env.REGISTRY.get<string[]>(keys.catalog(), "json")) ?? [];
  for (const entry of [
    manifestEntry(repository, manifest, manifestBytes),
    blobEntry(repository, configDigest, { size: config.length, generation, mediaType: MEDIA_TYPES.ociConfig }),
    blobEntry(repository, layerDigest, { size: layer.length, generation, mediaType: MEDIA_TYPES.ociLayerGzip }),
    tagEntry(repository, tag, manifest, manifestBytes),
    tagListEntry(repository, [...new Set([...existing, tag])]),
    catalogEntry([...new Set([...catalog, repository])]),
  ]) {
    await putEntry(env.REGISTRY, entry);
  }
  return { repository, tag, manifestBytes, manifestDigest, configDigest, layerDigest, layerSize: layer.length };
}
