import { env } from "cloudflare:workers";
import { computeDigest, type Digest } from "../../../src/oci/reference";
import { MEDIA_TYPES } from "../../../src/oci/media-types";
import { keys } from "../../../src/store/keys";
import type { MirrorTable, CrawlState } from "../../../src/mirrors/types";

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

/** Stores a mirror table and crawl state under fresh versions, as the CLI and the crawler do. */
export async function seedMirrors(table: Omit<MirrorTable, "version">, crawl: CrawlState = {}): Promise<void> {
  const version = crypto.randomUUID();
  await env.REGISTRY.put(keys.mirrors(), JSON.stringify({ ...table, version }), { metadata: { version } });
  await env.REGISTRY.put(keys.crawlState(), JSON.stringify(crawl), { metadata: { version: crypto.randomUUID() } });
}

/** Health of a mirror that the crawler found current at `generation`. */
export function healthy(generation: number) {
  return {
    generation,
    down: false,
    consecutiveFailures: 0,
    lastSuccess: "2026-11-27T00:00:00Z",
    lastFailure: null,
    lastFailureReason: null,
    responseTime: 10,
    lastChecked: "2026-11-27T00:00:00Z",
  };
}
