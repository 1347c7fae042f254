import { readFile } from "node:fs/promises";
import type { Descriptor } from "../../../src/oci/descriptor";
import { MANIFEST_MEDIA_TYPES, MEDIA_TYPES } from "../../../src/oci/media-types";
import type { Digest } from "../../../src/oci/reference";
import { blobPath, blobUrl, OCI_LAYOUT_VERSION, REF_NAME_ANNOTATION } from "../../../src/oci/layout";
import { formatBytes } from "../../../src/render/bytes";
import { CliError } from "../cli/error";
import { DEFAULT_DOWNLOAD_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT_MS, downloadVerified, type DownloadOptions } from "./download";
import { describeFetchError } from "./fetch-error";
import { parseManifest, type ParsedManifest } from "./manifest";
import { parseMetalink, type MetalinkFile } from "./metalink";
import { silentProgress, type Progress } from "./progress";
import type { ImageReference } from "./reference";
import { StagedLayout } from "./staging";
import { FrontDoorSource, MirrorSource } from "../signing/sources";
import { resolveVerified, type VerifyKeys } from "../signing/verify-image";

/** OCI Distribution Spec: registries may refuse manifests over 4 MiB; so does this client. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MAX_METALINK_BYTES = 1024 * 1024;
/** An index may list indexes; deeper nesting than this is refused. */
const MAX_INDEX_DEPTH = 4;

export interface PullOptions {
  image: ImageReference;
  /** Directory to create as an OCI image layout; must be missing or empty. */
  target: string;
  progress?: Progress;
  /** Per-download time limit in milliseconds. */
  timeoutMs?: number;
  /** Milliseconds a mirror may send nothing before it counts as failed for the item. */
  idleTimeoutMs?: number;
  /** Stops the pull: the staging directory is removed and `signal.reason` thrown. */
  signal?: AbortSignal;
  /** Require a valid signature by these keys for the manifest, checked before anything else is fetched (docs/signing.md). */
  verify?: VerifyKeys;
  /**
   * A mirror's tree URL: resolve the tag from its `index.json` and fetch every
   * item from it alone, without the front door; needs `verify`.
   */
  mirror?: string;
}

/** The limits every request of one pull shares. */
type Limits = Required<Pick<DownloadOptions, "timeoutMs" | "idleTimeoutMs">> & { signal?: AbortSignal };

/** One failed attempt at one item. */
export interface Attempt {
  url: string;
  reason: string;
}

export interface PullResult {
  digest: Digest;
  /** The mirror (tree base URL) the manifest came from, where every item was tried first. */
  mirror: string;
  items: number;
  bytes: number;
  /** Items the pinned mirror lacked or corrupted, and where they came from instead. */
  fallbacks: Array<{ digest: Digest; mirror: string; attempts: Attempt[] }>;
}

export class PullError extends CliError {
  override name = "PullError";
  constructor(
    message: string,
    readonly attempts: Attempt[] = [],
  ) {
    super(attempts.length === 0 ? message : `${message}\n${attempts.map((a) => `  ${a.url}: ${a.reason}`).join("\n")}`);
  }
}

/** The tree base of a mirror URL ending in `/blobs/<alg>/<hex>` for `digest`, or null. */
export function treeBase(url: string, digest: Digest): string | null {
  const suffix = `/${blobPath(digest)}`;
  return url.endsWith(suffix) && url.length > suffix.length ? url.slice(0, -suffix.length) : null;
}

function short(digest: Digest): string {
  return `${digest.slice(0, digest.indexOf(":") + 13)}…`;
}

async function frontDoorError(response: Response): Promise<string> {
  const body = await response.text().catch(() => "");
  try {
    const error = (JSON.parse(body) as { errors?: Array<{ code?: string; message?: string }> }).errors?.[0];
    if (error !== undefined) return `${response.status} ${error.code ?? ""}: ${error.message ?? ""}`;
  } catch {
    // not the registry's JSON error body
  }
  return `HTTP ${response.status}`;
}

/** Asks the front door for the manifest's Metalink 4 document (RFC 5854) and checks it. */
async function manifestMetalink(image: ImageReference, { timeoutMs, signal }: Limits): Promise<MetalinkFile> {
  const url = `${image.registry}/v2/${image.repository}/manifests/${image.reference}`;
  const limits = [AbortSignal.timeout(timeoutMs), ...(signal === undefined ? [] : [signal])];
  const response = await fetch(url, { headers: { Accept: MEDIA_TYPES.metalink4 }, signal: AbortSignal.any(limits) }).catch((error: unknown) => {
    if (signal?.aborted) throw signal.reason;
    throw new PullError(`cannot reach the front door at ${image.registry}: ${describeFetchError(error)}`);
  });
  if (response.status !== 200) throw new PullError(`the front door answered ${await frontDoorError(response)} for ${image.repository}:${image.reference}`);
  const type = response.headers.get("Content-Type")?.split(";")[0]?.trim().toLowerCase();
  if (type !== MEDIA_TYPES.metalink4) {
    await response.body?.cancel();
    throw new PullError(`the front door answered ${type ?? "no Content-Type"} instead of ${MEDIA_TYPES.metalink4}; does it serve metalinks?`);
  }
  const text = await response.text();
  if (text.length > MAX_METALINK_BYTES) throw new PullError("the metalink is too large");
  const metalink = parseMetalink(text);
  if (image.digest !== null && metalink.digest !== image.digest) throw new PullError(`the metalink describes ${metalink.digest}, not ${image.digest}`);
  if (metalink.size > MAX_MANIFEST_BYTES) throw new PullError(`the manifest is ${metalink.size} bytes, more than ${MAX_MANIFEST_BYTES}`);
  return metalink;
}

/** The media type announced for the top manifest: the metalink's extension, else the manifest's own field. */
function announcedMediaType(metalink: MetalinkFile, bytes: Uint8Array): string {
  if (metalink.mediaType !== null) return metalink.mediaType;
  try {
    const field = (JSON.parse(new TextDecoder().decode(bytes)) as { mediaType?: unknown }).mediaType;
    if (typeof field === "string" && MANIFEST_MEDIA_TYPES.has(field)) return field;
  } catch {
    // reported below
  }
  throw new PullError("neither the metalink nor the manifest says which kind of manifest this is");
}

/**
 * Pulls an image through the front door's metalinks (docs/metalink.md): the
 * manifest's metalink (RFC 5854) lists its copies on the mirrors, best first;
 * the first mirror whose bytes match the digest is pinned, and every child
 * manifest, config and layer is fetched from it, falling down the list only for
 * an item it lacks, corrupts or stalls on. Every item's size and digest is
 * checked. The target is checked before any request; the OCI image layout is
 * written beside it and renamed into place only when complete, and removed on
 * any failure or abort.
 */
export async function pullImage({
  image,
  target,
  progress = silentProgress,
  timeoutMs = DEFAULT_DOWNLOAD_TIMEOUT_MS,
  idleTimeoutMs = DEFAULT_IDLE_TIMEOUT_MS,
  signal,
  verify,
  mirror,
}: PullOptions): Promise<PullResult> {
  const limits: Limits = { timeoutMs, idleTimeoutMs, signal };
  if (mirror !== undefined && verify === undefined) throw new PullError("a pull straight from a mirror needs a key to verify what the mirror says (--key or --gpg-key)");
  const layout = await StagedLayout.create(target);
  try {
    const metalink = mirror === undefined ? await manifestMetalink(image, limits) : await mirrorManifest(image, mirror, verify!, progress);
    if (mirror === undefined && verify !== undefined) {
      const verified = await resolveVerified(new FrontDoorSource(image.registry), { ...image, digest: metalink.digest }, verify);
      progress.line(`signature ok: ${signedAs(verified.signatures)}`);
    }
    progress.line(`manifest ${metalink.digest} (${formatBytes(metalink.size)}), ${metalink.urls.length} location(s)`);
    const result = await pullInto(layout, image, metalink, progress, limits);
    await layout.commit();
    progress.line(`wrote ${target}: ${result.items} item(s), ${formatBytes(result.bytes)}, pinned to ${result.mirror}`);
    return result;
  } catch (error) {
    await layout.discard();
    throw error;
  }
}

function signedAs(signatures: Awaited<ReturnType<typeof resolveVerified>>["signatures"]): string {
  return [...new Set(signatures.map(({ form, claim }) => `${claim.dockerReference} (${form})`))].join(", ");
}

/**
 * Resolves the image through one mirror's tree and verifies the signature of
 * the manifest it names; the answer lists that mirror as the only location,
 * so every item comes from it and is checked against the signed digest.
 */
async function mirrorManifest(image: ImageReference, mirror: string, keys: VerifyKeys, progress: Progress): Promise<MetalinkFile> {
  const source = new MirrorSource(mirror);
  const { manifest, signatures } = await resolveVerified(source, image, keys);
  progress.line(`${source.description}: ${image.repository}:${image.reference} is ${manifest.descriptor.digest}; signature ok: ${signedAs(signatures)}`);
  const { digest, size, mediaType } = manifest.descriptor;
  return { digest, size, mediaType, urls: [blobUrl(source.base, digest)] };
}

async function pullInto(layout: StagedLayout, image: ImageReference, metalink: MetalinkFile, progress: Progress, limits: Limits): Promise<PullResult> {
  const manifestPath = await layout.blobPath(metalink.digest);
  const failures: Attempt[] = [];
  let pinned: { url: string; index: number } | null = null;
  for (const [index, url] of metalink.urls.entries()) {
    const outcome = await downloadVerified(url, metalink, manifestPath, limits);
    if (outcome.ok) {
      pinned = { url, index };
      break;
    }
    failures.push({ url, reason: outcome.reason });
    progress.line(`  ${url}: ${outcome.reason}; trying the next location`);
  }
  if (pinned === null) throw new PullError(`no location has good bytes for manifest ${metalink.digest}`, failures);

  const bases = metalink.urls.map((url) => treeBase(url, metalink.digest));
  const pinnedBase = bases[pinned.index] ?? null;
  const order = [...new Set([pinnedBase, ...bases].filter((base): base is string => base !== null))];
  const mirror = pinnedBase ?? pinned.url;
  progress.line(`pinned to ${mirror}`);

  const result: PullResult = { digest: metalink.digest, mirror, items: 1, bytes: metalink.size, fallbacks: [] };
  const fetched = new Set<Digest>([metalink.digest]);

  async function fetchItem(item: Descriptor, label: string): Promise<string> {
    const path = await layout.blobPath(item.digest);
    if (fetched.has(item.digest)) return path;
    const attempts: Attempt[] = [];
    for (const base of order) {
      const url = blobUrl(base, item.digest);
      const outcome = await downloadVerified(url, item, path, {
        ...limits,
        onBytes: (received) => progress.bytes(`${label} ${short(item.digest)}`, received, item.size),
      });
      if (outcome.ok) {
        fetched.add(item.digest);
        result.items++;
        result.bytes += item.size;
        if (base !== pinnedBase) result.fallbacks.push({ digest: item.digest, mirror: base, attempts });
        progress.line(`${label} ${short(item.digest)} ${formatBytes(item.size)}${base === pinnedBase ? "" : ` from ${base}`}: ok`);
        return path;
      }
      attempts.push({ url, reason: outcome.reason });
      progress.line(`${label} ${short(item.digest)} from ${base}: ${outcome.reason}`);
    }
    throw new PullError(`no mirror has good bytes for ${label} ${item.digest}`, attempts);
  }

  async function walk(manifest: ParsedManifest, depth: number): Promise<void> {
    if (manifest.kind === "image") {
      await fetchItem(manifest.config, "config");
      for (const [i, layer] of manifest.layers.entries()) await fetchItem(layer, `layer ${i + 1}/${manifest.layers.length}`);
      return;
    }
    if (depth >= MAX_INDEX_DEPTH) throw new PullError("image indexes are nested too deeply");
    for (const child of manifest.manifests) {
      if (child.size > MAX_MANIFEST_BYTES) throw new PullError(`manifest ${child.digest} is larger than ${MAX_MANIFEST_BYTES} bytes`);
      const path = await fetchItem(child, "manifest");
      await walk(parseManifest(new Uint8Array(await readFile(path)), child.mediaType), depth + 1);
    }
  }

  const topBytes = new Uint8Array(await readFile(manifestPath));
  const mediaType = announcedMediaType(metalink, topBytes);
  await walk(parseManifest(topBytes, mediaType), 0);

  await layout.writeJson("oci-layout", OCI_LAYOUT_VERSION);
  const annotations = image.tag === null ? undefined : { [REF_NAME_ANNOTATION]: image.tag };
  await layout.writeJson("index.json", {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociIndex,
    manifests: [{ mediaType, digest: metalink.digest, size: metalink.size, ...(annotations === undefined ? {} : { annotations }) }],
  });
  return result;
}
