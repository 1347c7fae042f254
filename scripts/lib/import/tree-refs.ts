import { stat } from "node:fs/promises";
import { blobPath, LAYOUT_FILES, OCI_LAYOUT_VERSION, REF_NAME_ANNOTATION } from "../../../src/oci/layout";
import { computeDigest, isDigest, type Digest } from "../../../src/oci/reference";
import { FsLayout } from "../publish/fs-layout";

/** A descriptor as `index.json` and manifests hold them (OCI Image Spec, "Descriptors"). */
export interface RefDescriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  annotations?: Record<string, string>;
}

interface IndexDocument {
  schemaVersion: number;
  mediaType?: string;
  manifests: RefDescriptor[];
}

/** Indexes nest a few levels at most in practice; deeper is not followed. */
const MAX_DEPTH = 8;
const decoder = new TextDecoder();

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function descriptorOf(value: unknown): { digest: Digest; size: number } | null {
  if (!isObject(value) || typeof value.digest !== "string" || !isDigest(value.digest) || typeof value.size !== "number") return null;
  return { digest: value.digest, size: value.size };
}

async function readIndex(tree: FsLayout): Promise<IndexDocument | null> {
  const bytes = await tree.readFile(LAYOUT_FILES.index);
  if (bytes === null) return null;
  const index = JSON.parse(decoder.decode(bytes)) as IndexDocument;
  if (!Array.isArray(index.manifests)) throw new Error(`${tree.path(LAYOUT_FILES.index)} has no "manifests" array`);
  return index;
}

/** The digest `index.json` names `<repository>:<tag>` with, or null. */
export async function refDigest(tree: FsLayout, refName: string): Promise<Digest | null> {
  const index = await readIndex(tree);
  return index?.manifests.find((entry) => entry.annotations?.[REF_NAME_ANNOTATION] === refName)?.digest ?? null;
}

/** The size of a blob file in the tree, or null when it is not there. */
async function blobSize(tree: FsLayout, digest: Digest): Promise<number | null> {
  try {
    const info = await stat(tree.path(blobPath(digest)));
    return info.isFile() ? info.size : null;
  } catch {
    return null;
  }
}

/** What one manifest reaches in a tree. */
export interface TreeClosure {
  /** The manifest and every manifest below it, in the order they were reached. */
  manifests: Digest[];
  /** Every blob reached, manifests included, with its size. */
  blobs: Map<Digest, number>;
}

/**
 * What the manifest `digest` reaches, when the tree holds all of it at the descriptors' sizes and
 * the manifests hash to their digests; null when anything is missing or does not parse. `size`
 * null takes the manifest file's own size. Layers are not hashed: skopeo writes a blob under its
 * name only once its digest is verified, and the publisher verifies every digest again.
 */
export async function treeClosure(tree: FsLayout, digest: Digest, size: number | null = null): Promise<TreeClosure | null> {
  const closure: TreeClosure = { manifests: [], blobs: new Map() };
  const visit = async (manifestDigest: Digest, manifestSize: number | null, depth: number): Promise<boolean> => {
    if (closure.blobs.has(manifestDigest)) return true;
    if (depth > MAX_DEPTH) return false;
    const bytes = await tree.readFile(blobPath(manifestDigest)).catch(() => null);
    if (bytes === null || (manifestSize !== null && bytes.byteLength !== manifestSize) || (await computeDigest(bytes)) !== manifestDigest) return false;
    let document: unknown;
    try {
      document = JSON.parse(decoder.decode(bytes));
    } catch {
      return false;
    }
    if (!isObject(document)) return false;
    closure.manifests.push(manifestDigest);
    closure.blobs.set(manifestDigest, bytes.byteLength);
    if (Array.isArray(document.manifests)) {
      for (const child of document.manifests) {
        const descriptor = descriptorOf(child);
        if (descriptor === null || !(await visit(descriptor.digest, descriptor.size, depth + 1))) return false;
      }
      return true;
    }
    const parts = [document.config, ...(Array.isArray(document.layers) ? document.layers : [undefined])];
    for (const part of parts) {
      const descriptor = descriptorOf(part);
      if (descriptor === null || (await blobSize(tree, descriptor.digest)) !== descriptor.size) return false;
      closure.blobs.set(descriptor.digest, descriptor.size);
    }
    return true;
  };
  return (await visit(digest, size, 0)) ? closure : null;
}

/**
 * Names `descriptor` `<repository>:<tag>` in `index.json` as skopeo's `oci:` transport does:
 * any entry of that name is replaced, every other entry kept, the file replaced atomically.
 * Creates `oci-layout` and `index.json` in a tree that has none.
 */
export async function setRef(tree: FsLayout, refName: string, descriptor: RefDescriptor): Promise<void> {
  const index = (await readIndex(tree)) ?? { schemaVersion: 2, manifests: [] };
  if ((await tree.readFile(LAYOUT_FILES.ociLayout)) === null) await tree.writeFileAtomic(LAYOUT_FILES.ociLayout, JSON.stringify(OCI_LAYOUT_VERSION));
  const kept = index.manifests.filter((entry) => entry.annotations?.[REF_NAME_ANNOTATION] !== refName);
  const entry: RefDescriptor = { mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size, annotations: { [REF_NAME_ANNOTATION]: refName } };
  await tree.writeFileAtomic(LAYOUT_FILES.index, JSON.stringify({ ...index, manifests: [...kept, entry] }));
}

/** Removes the entry named `refName` from `index.json`, if there is one. */
export async function removeRef(tree: FsLayout, refName: string): Promise<void> {
  const index = await readIndex(tree);
  if (index === null) return;
  const kept = index.manifests.filter((entry) => entry.annotations?.[REF_NAME_ANNOTATION] !== refName);
  if (kept.length !== index.manifests.length) await tree.writeFileAtomic(LAYOUT_FILES.index, JSON.stringify({ ...index, manifests: kept }));
}

/** Writes a manifest's exact bytes as a blob of the tree, unless it is there. */
export async function writeManifestBlob(tree: FsLayout, digest: Digest, bytes: Uint8Array): Promise<void> {
  if ((await computeDigest(bytes)) !== digest) throw new Error(`manifest bytes do not hash to ${digest}`);
  if ((await tree.readFile(blobPath(digest))) === null) await tree.writeFileAtomic(blobPath(digest), bytes);
}
