import { isDigest, type Digest } from "../oci/reference";
import { keys } from "../store/keys";
import type { BlobRecord, Descriptor, ManifestMetadata, Publication } from "../store/records";
import { PublishError } from "./errors";
import { readInventory, type Inventory } from "./inventory";
import { type LayoutSource } from "./layout";
import { LAYOUT_FILES } from "../oci/layout";
import { encodeMarker } from "../oci/marker";
import { readTreeSignatures, signatureWrites } from "./signatures";

export { PublishError, type PublishErrorCode } from "./errors";

/** One KV entry to write. */
export interface KvWrite {
  key: string;
  value: string | Uint8Array;
  metadata?: Record<string, unknown>;
}

/** Everything one publication writes, in the order it must be written. */
export interface PublicationPlan {
  generation: number;
  /** RFC 3339 time of the publication. */
  published: string;
  /** Blobs, manifests and referrers: written first. */
  content: KvWrite[];
  /** Tags, tag lists, catalog, `generation:<n>`, and `publication` last: written after all content. */
  pointers: KvWrite[];
  /**
   * Keys the namespace holds that this publication no longer writes, deleted
   * after `publication`: stale tags and tag lists first, then stale content.
   */
  deletions: { pointers: string[]; content: string[] };
  /** digest -> generation it first appeared in, for `frontdoor/first-seen.json`; only digests in the tree. */
  firstSeen: Record<string, number>;
  /** The bytes of `frontdoor/generation`, written into the tree after the KV writes succeed. */
  marker: Uint8Array;
  summary: {
    repositories: number;
    /** Refs of `index.json`, one per repository and tag. */
    tags: number;
    /** Distinct manifests and indexes. */
    manifests: number;
    /** Distinct configs and layers. */
    blobs: number;
    /** Total size of the distinct configs and layers. */
    bytes: number;
  };
}

export interface PlanOptions {
  /** This publication's generation: greater than every earlier one. */
  generation: number;
  /** RFC 3339 time of the publication. */
  published: string;
  /**
   * The keys the namespace holds now under `PUBLISHED_PREFIXES` (see
   * `listPublishedKeys`); those this publication does not write are deleted.
   * Other keys are ignored.
   */
  currentKeys: Iterable<string>;
}

/**
 * Key prefixes whose entries describe the tree (docs/kv-data-model.md): one
 * the tree no longer names is stale. `catalog` is rewritten whole; `generation:<n>`
 * records are history and stay.
 */
export const PUBLISHED_PREFIXES = { pointers: ["tag:", "tags:"], content: ["manifest:", "blob:", "referrers:", "signature:", "signing-key"] } as const;

/** Blobs new in a generation that `generation:<n>` lists for the crawler to probe. */
const SAMPLE_SIZE = 4;

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sorted<T extends string>(values: Iterable<T>): T[] {
  return [...values].sort(byCodeUnits);
}

/** Reads `frontdoor/first-seen.json` (digest -> generation), or an empty record when the tree has none yet. */
async function readFirstSeen(source: LayoutSource, generation: number): Promise<Map<Digest, number>> {
  const path = LAYOUT_FILES.firstSeen;
  const bytes = await source.readFile(path);
  const firstSeen = new Map<Digest, number>();
  if (bytes === null) return firstSeen;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new PublishError("LAYOUT_INVALID", `${path} is not valid JSON`, { path });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new PublishError("LAYOUT_INVALID", `${path} must map digests to generations`, { path });
  }
  for (const [digest, seen] of Object.entries(value)) {
    if (!isDigest(digest) || !Number.isSafeInteger(seen) || seen < 1 || seen > generation) {
      throw new PublishError("LAYOUT_INVALID", `${path}: entry ${JSON.stringify(digest)}: ${JSON.stringify(seen)} is not a digest and a generation from 1 to ${generation}`, {
        path,
      });
    }
    firstSeen.set(digest, seen);
  }
  return firstSeen;
}

function contentWrites(inventory: Inventory, generationOf: (digest: Digest) => number): KvWrite[] {
  const writes: KvWrite[] = [];
  for (const name of sorted(inventory.repositories.keys())) {
    const repository = inventory.repositories.get(name)!;
    for (const digest of sorted(repository.blobs.keys())) {
      const size = inventory.blobs.get(digest) ?? inventory.manifests.get(digest)!.bytes.byteLength;
      const record: BlobRecord = { size, generation: generationOf(digest), mediaType: repository.blobs.get(digest)! };
      writes.push({ key: keys.blob(name, digest), value: JSON.stringify(record) });
    }
    for (const digest of sorted(repository.manifests)) {
      const manifest = inventory.manifests.get(digest)!;
      const metadata: ManifestMetadata = { digest, mediaType: manifest.mediaType, generation: generationOf(digest) };
      writes.push({ key: keys.manifest(name, digest), value: manifest.bytes, metadata: { ...metadata } });
    }
    for (const subject of sorted(repository.referrers.keys())) {
      const referrers: Descriptor[] = [...repository.referrers.get(subject)!].sort((a, b) => byCodeUnits(a.digest, b.digest));
      writes.push({ key: keys.referrers(name, subject), value: JSON.stringify(referrers) });
    }
  }
  return writes;
}

function pointerWrites(inventory: Inventory, generationOf: (digest: Digest) => number, publication: Publication): KvWrite[] {
  const writes: KvWrite[] = [];
  const names = sorted(inventory.repositories.keys());
  for (const name of names) {
    const { tags } = inventory.repositories.get(name)!;
    for (const tag of sorted(tags.keys())) {
      const digest = tags.get(tag)!;
      const manifest = inventory.manifests.get(digest)!;
      const metadata: ManifestMetadata = { digest, mediaType: manifest.mediaType, generation: generationOf(digest) };
      writes.push({ key: keys.tag(name, tag), value: manifest.bytes, metadata: { ...metadata } });
    }
    writes.push({ key: keys.tagList(name), value: JSON.stringify(sorted(tags.keys())) });
  }
  writes.push({ key: keys.catalog(), value: JSON.stringify(names) });
  writes.push({ key: keys.generation(publication.generation), value: JSON.stringify(publication) });
  writes.push({ key: keys.publication(), value: JSON.stringify(publication) });
  return writes;
}

/** The current keys under `prefixes` that no write of this publication keeps, sorted. */
function staleKeys(currentKeys: readonly string[], written: ReadonlySet<string>, prefixes: readonly string[]): string[] {
  return sorted(currentKeys.filter((key) => !written.has(key) && prefixes.some((prefix) => key.startsWith(prefix))));
}

/**
 * Reads and verifies a tree and lays out the KV writes that publish it
 * (docs/kv-data-model.md): content first, then pointers, `publication` last,
 * so a reader never sees a tag whose manifest is missing; then the deletions
 * of what the tree no longer holds, tags before the content they name.
 * Content keeps the generation `frontdoor/first-seen.json` gives it; new
 * content gets this one.
 */
export async function planPublication(source: LayoutSource, options: PlanOptions): Promise<PublicationPlan> {
  const { generation, published } = options;
  if (!Number.isSafeInteger(generation) || generation < 1) throw new RangeError(`generation must be a positive integer, got ${generation}`);
  const inventory = await readInventory(source);
  const signatures = await readTreeSignatures(source, inventory);
  const previous = await readFirstSeen(source, generation);
  const generationOf = (digest: Digest) => previous.get(digest) ?? generation;

  const firstSeen: Record<string, number> = {};
  const signatureBlobs = signatures.lookaside.map((signature) => signature.blob);
  for (const digest of sorted(new Set([...inventory.manifests.keys(), ...inventory.blobs.keys(), ...signatureBlobs]))) firstSeen[digest] = generationOf(digest);

  const sample = sorted(inventory.blobs.keys())
    .filter((digest) => generationOf(digest) === generation)
    .slice(0, SAMPLE_SIZE)
    .map((digest) => ({ digest, size: inventory.blobs.get(digest)! }));
  const publication: Publication = { generation, published, sample };

  let tags = 0;
  for (const repository of inventory.repositories.values()) tags += repository.tags.size;
  let bytes = 0;
  for (const size of inventory.blobs.values()) bytes += size;

  const content = [...contentWrites(inventory, generationOf), ...signatureWrites(signatures, generationOf)];
  const pointers = pointerWrites(inventory, generationOf, publication);
  const written = new Set([...content, ...pointers].map((write) => write.key));
  const currentKeys = [...options.currentKeys];

  return {
    generation,
    published,
    content,
    pointers,
    deletions: {
      pointers: staleKeys(currentKeys, written, PUBLISHED_PREFIXES.pointers),
      content: staleKeys(currentKeys, written, PUBLISHED_PREFIXES.content),
    },
    firstSeen,
    marker: encodeMarker({ generation, published }),
    summary: {
      repositories: inventory.repositories.size,
      tags,
      manifests: inventory.manifests.size,
      blobs: inventory.blobs.size,
      bytes,
    },
  };
}

/**
 * Every key of the namespace under `PUBLISHED_PREFIXES`, following the list
 * cursor to the end: the `currentKeys` a plan compares the tree against.
 */
export async function listPublishedKeys(kv: KVNamespace): Promise<string[]> {
  const found: string[] = [];
  for (const prefix of [...PUBLISHED_PREFIXES.pointers, ...PUBLISHED_PREFIXES.content]) {
    let cursor: string | undefined;
    do {
      const page: KVNamespaceListResult<unknown, string> = await kv.list({ prefix, ...(cursor === undefined ? {} : { cursor }) });
      for (const key of page.keys) found.push(key.name);
      cursor = page.list_complete ? undefined : page.cursor;
    } while (cursor !== undefined);
  }
  return found;
}

/** Content writes and deletions run this many at a time; pointers one by one, in order. */
const CONCURRENCY = 16;

function put(kv: KVNamespace, write: KvWrite): Promise<void> {
  return kv.put(write.key, write.value, write.metadata === undefined ? {} : { metadata: write.metadata });
}

async function inBatches<T>(items: readonly T[], run: (item: T) => Promise<void>): Promise<void> {
  for (let start = 0; start < items.length; start += CONCURRENCY) await Promise.all(items.slice(start, start + CONCURRENCY).map(run));
}

/**
 * Writes a plan to KV: all content, then the pointers in order, `publication`
 * last; then deletes stale tags and tag lists, and only then stale content.
 * A failure stops before any pointer is written when content fails.
 */
export async function applyPlan(kv: KVNamespace, plan: PublicationPlan): Promise<void> {
  await inBatches(plan.content, (write) => put(kv, write));
  for (const write of plan.pointers) await put(kv, write);
  await inBatches(plan.deletions.pointers, (key) => kv.delete(key));
  await inBatches(plan.deletions.content, (key) => kv.delete(key));
}
