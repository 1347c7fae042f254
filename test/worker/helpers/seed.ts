import { env } from "cloudflare:workers";
import { computeDigest, type Digest } from "../../../src/oci/reference";
import { MEDIA_TYPES } from "../../../src/oci/media-types";
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
  const metadata = { digest: manifestDigest, mediaType: MEDIA_TYPES.ociManifest, generation };
  await env.REGISTRY.put(keys.manifest(repository, manifestDigest), manifestBytes, { metadata });
  await env.REGISTRY.put(keys.blob(repository, configDigest), JSON.stringify({ size: config.length, generation, mediaType: MEDIA_TYPES.ociConfig }));
  await env.REGISTRY.put(keys.blob(repository, layerDigest), JSON.stringify({ size: layer.length, generation, mediaType: MEDIA_TYPES.ociLayerGzip }));
  await env.REGISTRY.put(keys.tag(repository, tag), manifestBytes, { metadata });
  const existing = (await env.REGISTRY.get<string[]>(keys.tagList(repository), "json")) ?? [];
  await env.REGISTRY.put(keys.tagList(repository), JSON.stringify([...new Set([...existing, tag])].sort()));
  const catalog = (await env.REGISTRY.get<string[]>(keys.catalog(), "json")) ?? [];
  await env.REGISTRY.put(keys.catalog(), JSON.stringify([...new Set([...catalog, repository])].sort()));
  return { repository, tag, manifestBytes, manifestDigest, configDigest, layerDigest, layerSize: layer.length };
}
