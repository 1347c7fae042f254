import { checkDescriptor, type Descriptor } from "../../../src/oci/descriptor";
import { blobUrl, LAYOUT_FILES, REF_NAME_ANNOTATION } from "../../../src/oci/layout";
import { MANIFEST_MEDIA_TYPES } from "../../../src/oci/media-types";
import { computeDigest, digestAlgorithm, isDigest, type Digest } from "../../../src/oci/reference";
import { lookasideName } from "../../../src/signing/lookaside";
import { SigningError } from "./errors";

/** Small documents only: manifests, payloads, signature files and index.json. */
export const MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;
const TIMEOUT_MS = 60_000;

/** A manifest a tag resolved to, its bytes checked against its digest. */
export interface ResolvedManifest {
  descriptor: Descriptor;
  bytes: Uint8Array;
}

/**
 * Where a verifier reads an image's manifests and signatures from: the front
 * door, or one mirror's tree on its own. Every byte returned was checked
 * against the digest that named it.
 */
export interface ImageSource {
  /** Names the source in messages. */
  readonly description: string;
  /** The manifest a tag (or a digest) names in `repository`, or null when there is none. */
  manifest(repository: string, reference: string): Promise<ResolvedManifest | null>;
  /** A blob's bytes, checked against `descriptor`. */
  blob(repository: string, descriptor: Descriptor): Promise<Uint8Array>;
  /** Lookaside file `signature-<index>` of `digest`, or null when there is no such file. */
  lookaside(repository: string, digest: Digest, index: number): Promise<Uint8Array | null>;
}

async function get(url: string, accept?: string): Promise<Response> {
  try {
    return await fetch(url, { headers: { "Accept-Encoding": "identity", ...(accept === undefined ? {} : { Accept: accept }) }, redirect: "follow", signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (error) {
    throw new SigningError("SOURCE_INVALID", `cannot fetch ${url}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function body(response: Response, url: string, limit = MAX_DOCUMENT_BYTES): Promise<Uint8Array> {
  const length = Number(response.headers.get("Content-Length") ?? "0");
  if (length > limit) {
    await response.body?.cancel();
    throw new SigningError("SOURCE_INVALID", `${url} is ${length} bytes, more than ${limit}`);
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.byteLength > limit) throw new SigningError("SOURCE_INVALID", `${url} sent more than ${limit} bytes`);
  return bytes;
}

async function checked(bytes: Uint8Array, descriptor: { digest: Digest; size: number }, url: string): Promise<Uint8Array> {
  if (bytes.byteLength !== descriptor.size) throw new SigningError("DIGEST_MISMATCH", `${url}: ${bytes.byteLength} bytes, expected ${descriptor.size}`);
  const digest = await computeDigest(bytes, digestAlgorithm(descriptor.digest));
  if (digest !== descriptor.digest) throw new SigningError("DIGEST_MISMATCH", `${url}: the bytes hash to ${digest}, expected ${descriptor.digest}`);
  return bytes;
}

async function fetchBlob(url: string, descriptor: Descriptor): Promise<Uint8Array> {
  if (descriptor.size > MAX_DOCUMENT_BYTES) throw new SigningError("SOURCE_INVALID", `${descriptor.digest} is larger than ${MAX_DOCUMENT_BYTES} bytes`);
  const response = await get(url);
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new SigningError("SOURCE_INVALID", `${url} answered HTTP ${response.status}`);
  }
  return checked(await body(response, url, descriptor.size), descriptor, url);
}

/** The response when it is 200; null for 404; any other status is SOURCE_INVALID. */
async function foundOrNull(response: Response, url: string): Promise<Response | null> {
  if (response.status === 200) return response;
  await response.body?.cancel();
  if (response.status === 404) return null;
  throw new SigningError("SOURCE_INVALID", `${url} answered HTTP ${response.status}`);
}

async function fetchOptional(url: string): Promise<Uint8Array | null> {
  const response = await foundOrNull(await get(url), url);
  return response === null ? null : body(response, url);
}

/** The front door: manifests from `/v2/`, blobs and lookaside files through its redirects to mirrors. */
export class FrontDoorSource implements ImageSource {
  readonly description: string;

  /** `registry` is the front door's origin, e.g. `http://127.0.0.1:8787`. */
  constructor(private readonly registry: string) {
    this.description = `the front door at ${registry}`;
  }

  async manifest(repository: string, reference: string): Promise<ResolvedManifest | null> {
    const url = `${this.registry}/v2/${repository}/manifests/${reference}`;
    const response = await foundOrNull(await get(url, [...MANIFEST_MEDIA_TYPES].join(", ")), url);
    if (response === null) return null;
    const mediaType = response.headers.get("Content-Type")?.split(";")[0]?.trim() ?? "";
    if (!MANIFEST_MEDIA_TYPES.has(mediaType)) throw new SigningError("SOURCE_INVALID", `${url} answered ${mediaType || "no Content-Type"}, not a manifest`);
    const bytes = await body(response, url);
    // The digest is the bytes' own, whatever a header says: a signature is checked against it.
    const digest = await computeDigest(bytes);
    const announced = response.headers.get("Docker-Content-Digest");
    if (announced !== null && announced !== digest) throw new SigningError("DIGEST_MISMATCH", `${url}: Docker-Content-Digest says ${announced}, the bytes hash to ${digest}`);
    return { descriptor: { mediaType, digest, size: bytes.byteLength }, bytes };
  }

  blob(repository: string, descriptor: Descriptor): Promise<Uint8Array> {
    return fetchBlob(`${this.registry}/v2/${repository}/blobs/${descriptor.digest}`, descriptor);
  }

  lookaside(repository: string, digest: Digest, index: number): Promise<Uint8Array | null> {
    return fetchOptional(`${this.registry}/signatures/${lookasideName({ repository, digest, index })}`);
  }
}

/**
 * One mirror's tree, used directly: tags resolve through its `index.json`,
 * everything else is read from its `blobs/` and `signatures/` folders. Nothing
 * it says is trusted until a signature vouches for it.
 */
export class MirrorSource implements ImageSource {
  readonly description: string;
  private index: Promise<Map<string, Descriptor>> | null = null;

  /** `base` is the tree's URL, the folder that holds `index.json` and `blobs/`. */
  constructor(readonly base: string) {
    this.base = base.replace(/\/+$/, "");
    this.description = `the mirror ${this.base}`;
  }

  private refs(): Promise<Map<string, Descriptor>> {
    this.index ??= (async () => {
      const url = `${this.base}/${LAYOUT_FILES.index}`;
      const bytes = await fetchOptional(url);
      if (bytes === null) throw new SigningError("SOURCE_INVALID", `${url} answered 404: not an image layout tree`);
      let index: { manifests?: unknown };
      try {
        index = JSON.parse(new TextDecoder().decode(bytes)) as { manifests?: unknown };
      } catch {
        throw new SigningError("SOURCE_INVALID", `${url} is not JSON`);
      }
      if (!Array.isArray(index.manifests)) throw new SigningError("SOURCE_INVALID", `${url} has no manifests array`);
      const refs = new Map<string, Descriptor>();
      for (const entry of index.manifests as unknown[]) {
        const check = checkDescriptor(entry);
        const name = (entry as { annotations?: Record<string, unknown> }).annotations?.[REF_NAME_ANNOTATION];
        if (check.ok && typeof name === "string" && !refs.has(name)) refs.set(name, check.descriptor);
      }
      return refs;
    })();
    return this.index;
  }

  /** A tag through `index.json`; a digest only when `index.json` names it for the repository. */
  async manifest(repository: string, reference: string): Promise<ResolvedManifest | null> {
    const refs = await this.refs();
    const descriptor = isDigest(reference)
      ? [...refs].find(([name, entry]) => entry.digest === reference && name.startsWith(`${repository}:`))?.[1]
      : refs.get(`${repository}:${reference}`);
    if (descriptor === undefined) return null;
    if (!MANIFEST_MEDIA_TYPES.has(descriptor.mediaType)) throw new SigningError("SOURCE_INVALID", `${this.base}: ${repository}:${reference} has media type ${descriptor.mediaType}, not a manifest`);
    return { descriptor, bytes: await this.blob(repository, descriptor) };
  }

  blob(_repository: string, descriptor: Descriptor): Promise<Uint8Array> {
    return fetchBlob(blobUrl(this.base, descriptor.digest), descriptor);
  }

  lookaside(repository: string, digest: Digest, index: number): Promise<Uint8Array | null> {
    if (!isDigest(digest)) throw new RangeError(`not a digest: ${digest}`);
    return fetchOptional(`${this.base}/signatures/${lookasideName({ repository, digest, index })}`);
  }
}

