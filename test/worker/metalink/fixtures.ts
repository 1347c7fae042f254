import { env, exports } from "cloudflare:workers";
import { XMLParser } from "fast-xml-parser";
import type { Env } from "../../../src/env";
import type { CrawlState, Mirror, MirrorTable } from "../../../src/mirrors/types";
import { MEDIA_TYPES } from "../../../src/oci/media-types";
import { computeDigest, type Digest } from "../../../src/oci/reference";
import { keys } from "../../../src/store/keys";
import type { Publication } from "../../../src/store/records";

export const METALINK = MEDIA_TYPES.metalink4;
export const REPOSITORY = "library/tiny";
export const TAG = "v1";
export const FIRST_PUBLISHED = "2026-11-01T10:00:00.000Z";
export const NEWEST_PUBLISHED = "2026-11-20T12:30:00.000Z";

/** Accept headers as the real clients send them (../shared/CLIENTS.md); arrays are separate header lines. */
export const CLIENT_ACCEPT = {
  aria2c: "*/*,application/metalink4+xml,application/metalink+xml",
  skopeoManifest: [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
  ],
  dockerManifest: [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/json",
  ],
  containerdManifest:
    "application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, */*",
  containerdLayer: `${MEDIA_TYPES.ociLayerGzip}, */*`,
} as const;

const kv = (env as unknown as Env).REGISTRY;
/** The worker's own default export, running in this workerd. */
export const worker = (exports as unknown as { default: { fetch(request: Request): Promise<Response> } }).default;
const encoder = new TextEncoder();

export interface Seeded {
  manifestDigest: Digest;
  manifestSize: number;
  layerDigest: Digest;
  layerSize: number;
  /** A blob stored under its sha512 digest. */
  sha512Digest: Digest;
  sha512Size: number;
}

export function mirror(id: string, country: string, baseUrl = `http://${id}.mirror.test/tree`): Mirror {
  return { id, baseUrl, country, continent: "EU", asns: [], netblocks: [], bandwidth: 1, private: false, enabled: true };
}

function healthy(generation: number) {
  const at = "2026-11-27T00:00:00Z";
  return { generation, down: false, consecutiveFailures: 0, lastSuccess: at, lastFailure: null, lastFailureReason: null, responseTime: 10, lastChecked: at };
}

/** Stores a mirror table (every mirror current at generation 5) under fresh versions, as the CLI and the crawler do. */
export async function seedMirrors(mirrors: Mirror[], origin: MirrorTable["origin"] = { baseUrl: "http://origin.test/tree", country: "NL" }): Promise<void> {
  const version = crypto.randomUUID();
  const crawl: CrawlState = Object.fromEntries(mirrors.map((m) => [m.id, healthy(5)])) as CrawlState;
  await kv.put(keys.mirrors(), JSON.stringify({ version, origin, mirrors }), { metadata: { version } });
  const crawlVersion = crypto.randomUUID();
  await kv.put(keys.crawlState(), JSON.stringify(crawl), { metadata: { version: crawlVersion } });
}

/** Writes one image at generation 2 (publication 3 is the newest), plus a sha512 blob. */
export async function seedContent(): Promise<Seeded> {
  const layer = encoder.encode("layer bytes of library/tiny");
  const layerDigest = await computeDigest(layer);
  const config = encoder.encode('{"architecture":"amd64","os":"linux"}');
  const configDigest = await computeDigest(config);
  const manifest = encoder.encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: MEDIA_TYPES.ociConfig, digest: configDigest, size: config.length },
      layers: [{ mediaType: MEDIA_TYPES.ociLayerGzip, digest: layerDigest, size: layer.length }],
    }),
  );
  const manifestDigest = await computeDigest(manifest);
  const extra = encoder.encode("a blob addressed by sha512");
  const sha512Digest = await computeDigest(extra, "sha512");
  const metadata = { digest: manifestDigest, mediaType: MEDIA_TYPES.ociManifest, generation: 2 };
  await kv.put(keys.manifest(REPOSITORY, manifestDigest), manifest, { metadata });
  await kv.put(keys.tag(REPOSITORY, TAG), manifest, { metadata });
  await kv.put(keys.blob(REPOSITORY, layerDigest), JSON.stringify({ size: layer.length, generation: 2, mediaType: MEDIA_TYPES.ociLayerGzip }));
  await kv.put(keys.blob(REPOSITORY, configDigest), JSON.stringify({ size: config.length, generation: 2, mediaType: MEDIA_TYPES.ociConfig }));
  await kv.put(keys.blob(REPOSITORY, sha512Digest), JSON.stringify({ size: extra.length, generation: 2 }));
  await kv.put(keys.tagList(REPOSITORY), JSON.stringify([TAG]));
  await kv.put(keys.catalog(), JSON.stringify([REPOSITORY]));
  const first: Publication = { generation: 2, published: FIRST_PUBLISHED, sample: [] };
  const newest: Publication = { generation: 3, published: NEWEST_PUBLISHED, sample: [] };
  await kv.put(keys.generation(2), JSON.stringify(first));
  await kv.put(keys.generation(3), JSON.stringify(newest));
  await kv.put(keys.publication(), JSON.stringify(newest));
  return { manifestDigest, manifestSize: manifest.length, layerDigest, layerSize: layer.length, sha512Digest, sha512Size: extra.length };
}

/** Sends a request to the worker inside workerd; an array of Accept values becomes separate header lines. */
export function request(path: string, accept?: string | readonly string[], method = "GET"): Promise<Response> {
  const headers = new Headers();
  for (const value of typeof accept === "string" ? [accept] : accept ?? []) headers.append("Accept", value);
  return worker.fetch(new Request(`http://frontdoor.test${path}`, { method, headers, redirect: "manual" }));
}

export interface ParsedMetalink {
  metalink: {
    "@_xmlns": string;
    "@_xmlns:fd"?: string;
    generator: string;
    published?: string;
    updated?: string;
    file: Array<{
      "@_name": string;
      size: string;
      hash: Array<{ "@_type": string; "#text": string }>;
      url: Array<{ "@_priority": string; "@_location"?: string; "#text": string }>;
      "fd:mediaType"?: string;
    }>;
  };
}

/** Parses a Metalink document with a real XML parser, keeping every value a string. */
export function parseMetalink(text: string): ParsedMetalink {
  const parser = new XMLParser({
    ignoreAttributes: false,
    parseTagValue: false,
    parseAttributeValue: false,
    ignoreDeclaration: true,
    isArray: (name) => ["file", "hash", "url"].includes(name),
  });
  return parser.parse(text, true) as ParsedMetalink;
}
