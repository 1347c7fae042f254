import { checkDescriptor, type Descriptor } from "../oci/descriptor";
import { INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES } from "../oci/media-types";
import { computeDigest, digestAlgorithm, isRepositoryName, isTag, type Digest } from "../oci/reference";
import { PublishError } from "./errors";
import { type LayoutSource } from "./layout";
import { blobPath, LAYOUT_FILES, REF_NAME_ANNOTATION } from "../oci/layout";

/** A manifest read from the tree, its bytes verified against its descriptor. */
export interface TreeManifest {
  digest: Digest;
  mediaType: string;
  bytes: Uint8Array;
}

/** What one repository holds once every ref naming it has been walked. */
export interface RepositoryContent {
  /** tag -> digest of the manifest `index.json` names for it. */
  tags: Map<string, Digest>;
  manifests: Set<Digest>;
  /** digest -> media type of the first descriptor that named it; manifests included. */
  blobs: Map<Digest, string>;
  /** subject digest -> descriptors of the manifests whose `subject` it is. */
  referrers: Map<Digest, Descriptor[]>;
}

/** Everything a tree holds, every digest and size verified. */
export interface Inventory {
  repositories: Map<string, RepositoryContent>;
  manifests: Map<Digest, TreeManifest>;
  /** digest -> size of every blob that is not a manifest (configs, layers). */
  blobs: Map<Digest, number>;
}

/** Indexes nest a few levels at most in practice; deeper is treated as a broken tree. */
const MAX_DEPTH = 8;
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseJson(bytes: Uint8Array, what: string, options: { path?: string; digest?: string }, code: "LAYOUT_INVALID" | "MANIFEST_INVALID"): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch (error) {
    throw new PublishError(code, `${what} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`, options);
  }
  if (!isObject(value)) throw new PublishError(code, `${what} is not a JSON object`, options);
  return value;
}

/** Annotations as the OCI Image Spec defines them, a map of strings to strings, or undefined when absent; anything else is refused. */
function parseAnnotations(value: unknown, where: string, code: "DESCRIPTOR_INVALID" | "MANIFEST_INVALID", digest?: Digest): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  const options = digest === undefined ? {} : { digest };
  if (!isObject(value)) throw new PublishError(code, `${where}: annotations must be a JSON object of strings`, options);
  for (const [key, text] of Object.entries(value)) {
    if (typeof text !== "string") throw new PublishError(code, `${where}: annotation ${JSON.stringify(key)} is not a string`, options);
  }
  return value as Record<string, string>;
}

/** Validates a descriptor's required fields (OCI Image Spec, "Descriptors") and keeps its optional ones. */
function parseDescriptor(value: unknown, where: string): Descriptor {
  const checked = checkDescriptor(value);
  if (!checked.ok) throw new PublishError("DESCRIPTOR_INVALID", `${where}: ${checked.problem}`, { digest: checked.digest });
  const descriptor: Descriptor = { ...checked.descriptor };
  const { artifactType, annotations } = value as Record<string, unknown>;
  if (typeof artifactType === "string") descriptor.artifactType = artifactType;
  const checkedAnnotations = parseAnnotations(annotations, where, "DESCRIPTOR_INVALID", descriptor.digest);
  if (checkedAnnotations !== undefined) descriptor.annotations = checkedAnnotations;
  return descriptor;
}

function parseDescriptorList(value: unknown, where: string): Descriptor[] {
  if (!Array.isArray(value)) throw new PublishError("MANIFEST_INVALID", `${where} must be an array`);
  return value.map((entry, i) => parseDescriptor(entry, `${where}[${i}]`));
}

/** The rule every `index.json` entry's ref name follows, stated in each error about one. */
const REF_NAME_RULE =
  `every index.json entry needs an "${REF_NAME_ANNOTATION}" annotation of the form <repository>:<tag>, e.g. "library/alpine:3.20" ` +
  "(repository as in the Distribution Spec, lower case, slash-separated; tag [A-Za-z0-9_][A-Za-z0-9._-]{0,127}), " +
  "as `skopeo copy docker://<registry>/<repository>:<tag> oci:<tree>:<repository>:<tag>` and `frontdoor import` write it";

/** Splits `<repository>:<tag>` at its last colon and checks both against the Distribution Spec grammars. */
function parseRefName(value: unknown, where: string): { repository: string; tag: string } {
  if (typeof value !== "string") {
    throw new PublishError("REF_INVALID", `${where}: no ref name; ${REF_NAME_RULE}`, { path: LAYOUT_FILES.index });
  }
  const colon = value.lastIndexOf(":");
  const repository = value.slice(0, colon);
  const tag = value.slice(colon + 1);
  if (colon < 0 || !isRepositoryName(repository)) {
    throw new PublishError("REF_INVALID", `${where}: ref name ${JSON.stringify(value)} does not start with a valid repository name; ${REF_NAME_RULE}`, { path: LAYOUT_FILES.index });
  }
  if (!isTag(tag)) throw new PublishError("REF_INVALID", `${where}: ref name ${JSON.stringify(value)} does not end with a valid tag; ${REF_NAME_RULE}`, { path: LAYOUT_FILES.index });
  return { repository, tag };
}

const BYTE_ORDER_MARK = [0xef, 0xbb, 0xbf];

function startsWithByteOrderMark(bytes: Uint8Array): boolean {
  return BYTE_ORDER_MARK.every((byte, i) => bytes[i] === byte);
}

/** Refuses a second descriptor of a manifest already read that gives it another size or media type. */
function checkSameManifest(read: TreeManifest, descriptor: Descriptor, where: string): void {
  const options = { path: blobPath(descriptor.digest), digest: descriptor.digest };
  if (descriptor.size !== read.bytes.byteLength) {
    throw new PublishError("SIZE_MISMATCH", `${where}: ${options.path} is ${read.bytes.byteLength} bytes, its descriptor says ${descriptor.size}`, options);
  }
  if (descriptor.mediaType !== read.mediaType) {
    throw new PublishError("MANIFEST_INVALID", `${where}: manifest ${descriptor.digest} is named with media type ${descriptor.mediaType} here and ${read.mediaType} elsewhere in the tree`, options);
  }
}

function emptyRepository(): RepositoryContent {
  return { tags: new Map(), manifests: new Set(), blobs: new Map(), referrers: new Map() };
}

/** Walks a tree once, reading and hashing each blob at most once however many repositories share it. */
class TreeWalker {
  readonly manifests = new Map<Digest, TreeManifest & { document: Record<string, unknown> }>();
  readonly blobs = new Map<Digest, number>();
  readonly repositories = new Map<string, RepositoryContent>();
  private readonly visited = new Set<string>();

  constructor(private readonly source: LayoutSource) {}

  repository(name: string): RepositoryContent {
    let content = this.repositories.get(name);
    if (content === undefined) this.repositories.set(name, (content = emptyRepository()));
    return content;
  }

  /** Checks a blob file's size and digest against its descriptor (OCI Image Spec, "Descriptors", "Digests"). */
  private async verify(descriptor: Descriptor, where: string, bytes?: Uint8Array): Promise<void> {
    const path = blobPath(descriptor.digest);
    const options = { path, digest: descriptor.digest };
    let found: { digest: Digest; size: number } | null;
    if (bytes !== undefined) {
      found = { size: bytes.byteLength, digest: await computeDigest(bytes, digestAlgorithm(descriptor.digest)) };
    } else if (this.source.hashFile !== undefined) {
      found = await this.source.hashFile(path, digestAlgorithm(descriptor.digest));
    } else {
      const content = await this.source.readFile(path);
      found = content === null ? null : { size: content.byteLength, digest: await computeDigest(content, digestAlgorithm(descriptor.digest)) };
    }
    if (found === null) throw new PublishError("BLOB_MISSING", `${where}: blob ${descriptor.digest} is missing (${path})`, options);
    if (found.size !== descriptor.size) {
      throw new PublishError("SIZE_MISMATCH", `${where}: ${path} is ${found.size} bytes, its descriptor says ${descriptor.size}`, options);
    }
    if (found.digest !== descriptor.digest) {
      throw new PublishError("DIGEST_MISMATCH", `${where}: ${path} hashes to ${found.digest}, its descriptor says ${descriptor.digest}`, options);
    }
  }

  /**
   * A manifest read once and checked against every descriptor that names it:
   * the bytes are shared, but each reference must state their size and type.
   */
  private async readManifest(descriptor: Descriptor, where: string) {
    const cached = this.manifests.get(descriptor.digest);
    if (cached !== undefined) {
      checkSameManifest(cached, descriptor, where);
      return cached;
    }
    if (!MANIFEST_MEDIA_TYPES.has(descriptor.mediaType)) {
      throw new PublishError("MEDIA_TYPE_UNKNOWN", `${where}: ${descriptor.digest} has media type ${descriptor.mediaType}, not a known manifest or index type`, {
        digest: descriptor.digest,
      });
    }
    const path = blobPath(descriptor.digest);
    const bytes = await this.source.readFile(path);
    if (bytes === null) throw new PublishError("BLOB_MISSING", `${where}: manifest ${descriptor.digest} is missing (${path})`, { path, digest: descriptor.digest });
    await this.verify(descriptor, where, bytes);
    const options = { path, digest: descriptor.digest };
    if (startsWithByteOrderMark(bytes)) {
      throw new PublishError("MANIFEST_INVALID", `manifest ${descriptor.digest} starts with a byte order mark, which JSON forbids and clients refuse`, options);
    }
    const document = parseJson(bytes, `manifest ${descriptor.digest}`, options, "MANIFEST_INVALID");
    if (document.schemaVersion !== 2) throw new PublishError("MANIFEST_INVALID", `manifest ${descriptor.digest}: schemaVersion must be 2`, options);
    if (document.mediaType !== undefined && document.mediaType !== descriptor.mediaType) {
      throw new PublishError(
        "MANIFEST_INVALID",
        `manifest ${descriptor.digest} declares media type ${JSON.stringify(document.mediaType)}, its descriptor in ${where} says ${descriptor.mediaType}`,
        options,
      );
    }
    const manifest = { digest: descriptor.digest, mediaType: descriptor.mediaType, bytes, document };
    this.manifests.set(descriptor.digest, manifest);
    return manifest;
  }

  private async visitBlob(repository: RepositoryContent, descriptor: Descriptor, where: string): Promise<void> {
    if (!this.blobs.has(descriptor.digest)) {
      await this.verify(descriptor, where);
      this.blobs.set(descriptor.digest, descriptor.size);
    } else if (this.blobs.get(descriptor.digest) !== descriptor.size) {
      throw new PublishError("SIZE_MISMATCH", `${where}: ${descriptor.digest} is ${this.blobs.get(descriptor.digest)} bytes, its descriptor says ${descriptor.size}`, {
        digest: descriptor.digest,
      });
    }
    if (!repository.blobs.has(descriptor.digest)) repository.blobs.set(descriptor.digest, descriptor.mediaType);
  }

  /** Records a manifest and, recursively, everything it references, under one repository. */
  async visitManifest(name: string, descriptor: Descriptor, where: string, depth = 0): Promise<void> {
    if (depth > MAX_DEPTH) throw new PublishError("MANIFEST_INVALID", `${where}: indexes nest deeper than ${MAX_DEPTH} levels`, { digest: descriptor.digest });
    const manifest = await this.readManifest(descriptor, where);
    const visitKey = `${name}@${descriptor.digest}`;
    if (this.visited.has(visitKey)) return;
    this.visited.add(visitKey);
    const repository = this.repository(name);
    const at = `manifest ${descriptor.digest}`;
    const { document } = manifest;

    if (INDEX_MEDIA_TYPES.has(descriptor.mediaType)) {
      const children = parseDescriptorList(document.manifests, `${at}: manifests`);
      for (const [i, child] of children.entries()) await this.visitManifest(name, child, `${at}: manifests[${i}]`, depth + 1);
    } else {
      const config = parseDescriptor(document.config, `${at}: config`);
      await this.visitBlob(repository, config, `${at}: config`);
      const layers = parseDescriptorList(document.layers, `${at}: layers`);
      for (const [i, layer] of layers.entries()) await this.visitBlob(repository, layer, `${at}: layers[${i}]`);
    }

    repository.manifests.add(descriptor.digest);
    if (!repository.blobs.has(descriptor.digest)) repository.blobs.set(descriptor.digest, descriptor.mediaType);
    if (document.subject !== undefined) this.recordReferrer(repository, descriptor, document, at);
  }

  /** OCI Distribution Spec v1.1, "Listing Referrers": artifactType falls back to the config's media type. */
  private recordReferrer(repository: RepositoryContent, descriptor: Descriptor, document: Record<string, unknown>, at: string): void {
    const subject = parseDescriptor(document.subject, `${at}: subject`);
    const referrer: Descriptor = { mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size };
    const configType = isObject(document.config) ? document.config.mediaType : undefined;
    const artifactType = typeof document.artifactType === "string" ? document.artifactType : configType;
    if (typeof artifactType === "string") referrer.artifactType = artifactType;
    const annotations = parseAnnotations(document.annotations, at, "MANIFEST_INVALID", descriptor.digest);
    if (annotations !== undefined) referrer.annotations = annotations;
    const list = repository.referrers.get(subject.digest) ?? [];
    list.push(referrer);
    repository.referrers.set(subject.digest, list);
  }
}

async function readRequired(source: LayoutSource, path: string): Promise<Uint8Array> {
  const bytes = await source.readFile(path);
  if (bytes === null) throw new PublishError("LAYOUT_INVALID", `${path} is missing: not an OCI image layout`, { path });
  return bytes;
}

/**
 * Reads an OCI image layout (OCI Image Spec, "Image Layout"): every ref of
 * `index.json`, named `<repository>:<tag>` by its ref-name annotation, and
 * everything reachable from it, verifying each digest and size.
 */
export async function readInventory(source: LayoutSource): Promise<Inventory> {
  const layout = parseJson(await readRequired(source, LAYOUT_FILES.ociLayout), LAYOUT_FILES.ociLayout, { path: LAYOUT_FILES.ociLayout }, "LAYOUT_INVALID");
  if (typeof layout.imageLayoutVersion !== "string" || !/^1\.\d+\.\d+$/.test(layout.imageLayoutVersion)) {
    throw new PublishError("LAYOUT_INVALID", `${LAYOUT_FILES.ociLayout}: unsupported imageLayoutVersion ${JSON.stringify(layout.imageLayoutVersion)}`, {
      path: LAYOUT_FILES.ociLayout,
    });
  }
  const index = parseJson(await readRequired(source, LAYOUT_FILES.index), LAYOUT_FILES.index, { path: LAYOUT_FILES.index }, "LAYOUT_INVALID");
  if (!Array.isArray(index.manifests)) {
    throw new PublishError("LAYOUT_INVALID", `${LAYOUT_FILES.index}: "manifests" must be an array`, { path: LAYOUT_FILES.index });
  }

  const walker = new TreeWalker(source);
  for (const [i, entry] of index.manifests.entries()) {
    const where = `${LAYOUT_FILES.index}: manifests[${i}]`;
    const descriptor = parseDescriptor(entry, where);
    const { repository, tag } = parseRefName(descriptor.annotations?.[REF_NAME_ANNOTATION], where);
    const tags = walker.repository(repository).tags;
    if (tags.has(tag)) throw new PublishError("REF_INVALID", `${where}: ${repository}:${tag} is named twice`, { path: LAYOUT_FILES.index });
    await walker.visitManifest(repository, descriptor, where);
    tags.set(tag, descriptor.digest);
  }

  const manifests = new Map<Digest, TreeManifest>();
  for (const [digest, { mediaType, bytes }] of walker.manifests) manifests.set(digest, { digest, mediaType, bytes });
  return { repositories: walker.repositories, manifests, blobs: walker.blobs };
}
