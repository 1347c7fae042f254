import { env, exports } from "cloudflare:workers";
import { XMLParser } from "fast-xml-parser";
import type { Env } from "../../../src/env";
import type { Mirror, MirrorTable } from "../../../src/mirrors/types";
import { MEDIA_TYPES } from "../../../src/oci/media-types";
import { computeDigest, type Digest } from "../../../src/oci/reference";
import { blobEntry, generationEntry, publicationEntry, putEntry } from "../../../src/store/encode";
import type { Publication } from "../../../src/store/records";
import { crawledAt, seedMirrors } from "../helpers/mirrors";
import { seedImage } from "../helpers/seed";

export const METALINK = MEDIA_TYPES.metalink4;
export const REPOSITORY = "library/tiny";
export const TAG = "v1";
export const FIRST_PUBLISHED = "2026-11-01T10:00:00.000Z";
export const NEWEST_PUBLISHED = "2026-11-20T12:30:00.000Z";

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

/** The origin of the tables these tests seed unless told otherwise. */
export const ORIGIN: MirrorTable["origin"] = { baseUrl: "http://origin.test/tree", country: "NL" };

/** Stores `mirrors` under `origin`, every mirror current at generation 5, ahead of the content's generation 2. */
export function seedCurrentMirrors(mirrors: Mirror[], origin: MirrorTable["origin"] = ORIGIN): Promise<void> {
  return seedMirrors({ origin, mirrors }, crawledAt(mirrors, 5));
}

/** Writes one image at generation 2 (publication 3 is the newest), plus a sha512 blob. */
export async function seedContent(): Promise<Seeded> {
  const image = await seedImage(REPOSITORY, TAG, 2);
  const extra = encoder.encode("a blob addressed by sha512");
  const sha512Digest = await computeDigest(extra, "sha512");
  await putEntry(kv, blobEntry(REPOSITORY, sha512Digest, { size: extra.length, generation: 2 }));
  const first: Publication = { generation: 2, published: FIRST_PUBLISHED, sample: [] };
  const newest: Publication = { generation: 3, published: NEWEST_PUBLISHED, sample: [] };
  for (const entry of [generationEntry(first), generationEntry(newest), publicationEntry(newest)]) await putEntry(kv, entry);
  return {
    manifestDigest: image.manifestDigest,
    manifestSize: image.manifestBytes.length,
    layerDigest: image.layerDigest,
    layerSize: image.layerSize,
    sha512Digest,
    sha512Size: extra.length,
  };
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
