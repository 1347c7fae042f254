import { isDigest, type Digest } from "../oci/reference";
import type { Descriptor } from "../oci/descriptor";
import { keys, PUBLISHED_PREFIXES } from "../store/keys";
import {
  CONTENT_HASH_FIELD,
  INVENTORY_PAGE_SIZE,
  type BlobRecord,
  type InventoryEntry,
  type InventorySummary,
  type KvWrite,
  type ManifestMetadata,
  type Publication,
  type PublicationWrites,
} from "../store/records";
import { PublishError } from "./errors";
import { readInventory, type Inventory } from "./inventory";
import { type LayoutSource } from "./layout";
import { LAYOUT_FILES } from "../oci/layout";
import { encodeMarker } from "../oci/marker";
import { readTreeSignatures, signatureWrites, type TreeSignatures } from "./signatures";
import { computeMembership, setFiles, type ContentSet, type SetMembership, type TreeFile } from "./content-sets";

export { PublishError, type PublishErrorCode } from "./errors";
export type { KvWrite } from "../store/records";

/**
 * Everything one publication writes, in the order it must be written
 * (`applyPlan` in src/store/publication-store.ts writes it): content with the
 * inventory pages, pointers, then deletions of the keys the namespace holds
 * that this publication no longer writes.
 */
export interface PublicationPlan extends PublicationWrites {
  /** This publication's generation; the current one, kept, when `unchanged`. */
  generation: number;
  /**
   * True when the tree describes exactly what the namespace publishes now
   * (`PlanOptions.current`): nothing to write or delete, and no new generation.
   */
  unchanged: boolean;
  /** RFC 3339 time of the publication. */
  published: string;
  /** digest -> generation it first appeared in, for `frontdoor/first-seen.json`; only digests in the tree. */
  firstSeen: Record<string, number>;
  /** The bytes of `frontdoor/generation`, written into the tree after the KV writes succeed. */
  marker: Uint8Array;
  /** Per content set, its `index.json` and `rsync --files-from` list, written into the tree after the KV writes (src/publish/content-sets.ts). */
  setFiles: TreeFile[];
  /** Per content set, its marker `frontdoor/sets/<name>/generation`, written with the tree's own marker, last. */
  setMarkers: TreeFile[];
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
   * The keys the namespace holds now under `PUBLISHED_PREFIXES` (src/store/keys.ts,
   * listed by `listPublishedKeys`); those this publication does not write are
   * deleted. Other keys are ignored.
   */
  currentKeys: Iterable<string>;
  /** The operator's content sets (docs/content-sets.md); none by default: every mirror carries the whole tree. */
  sets?: readonly ContentSet[];
  /**
   * The content hash (`h` in the KV metadata, `contentHash`) of each key the
   * namespace holds, as `listPublished` reads them: a write whose key already
   * holds the same hash is left out, so a publication writes only what changed.
   */
  currentHashes?: ReadonlyMap<string, string>;
  /**
   * The namespace's newest publication. When `generation` is the one after it
   * (the tree has seen no later one) and the tree, published under its
   * generation and time, would write nothing new and delete nothing, the plan
   * is `unchanged`: it keeps that generation instead of taking `generation`.
   */
  current?: Publication | null;
  /**
   * Reads the first-seen generations the namespace's current publication
   * recorded (its inventory), called only when the tree has no `frontdoor/first-seen.json`:
   * a tree restored without it then keeps each blob's generation, and mirrors
   * keep serving what they hold, instead of every blob counting as new.
   */
  publishedFirstSeen?: () => Promise<ReadonlyMap<Digest, number>>;
}

/**
 * The content hash of one KV write: SHA-256 over its value and its metadata
 * (without the hash field), 128 bits in hex. Equal hashes mean the key would
 * be rewritten with what it holds.
 */
export async function contentHash(write: KvWrite): Promise<string> {
  const { [CONTENT_HASH_FIELD]: _ignored, ...metadata } = write.metadata ?? {};
  const value = typeof write.value === "string" ? new TextEncoder().encode(write.value) : write.value;
  const described = new TextEncoder().encode(`\n${JSON.stringify(metadata)}`);
  const bytes = new Uint8Array(value.byteLength + described.byteLength);
  bytes.set(value, 0);
  bytes.set(described, value.byteLength);
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  let hex = "";
  for (const byte of hash.subarray(0, 16)) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/** The writes with their content hash in their metadata, and without those whose key already holds it. */
async function changedWrites(writes: readonly KvWrite[], currentHashes: ReadonlyMap<string, string>): Promise<KvWrite[]> {
  const changed: KvWrite[] = [];
  for (const write of writes) {
    const hash = await contentHash(write);
    if (currentHashes.get(write.key) === hash) continue;
    changed.push({ ...write, metadata: { ...(write.metadata ?? {}), [CONTENT_HASH_FIELD]: hash } });
  }
  return changed;
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sorted<T extends string>(values: Iterable<T>): T[] {
  return [...values].sort(byCodeUnits);
}

/** Reads `frontdoor/first-seen.json` (digest -> generation), or null when the tree has none. */
async function readFirstSeen(source: LayoutSource, generation: number): Promise<Map<Digest, number> | null> {
  const path = LAYOUT_FILES.firstSeen;
  const bytes = await source.readFile(path);
  if (bytes === null) return null;
  const firstSeen = new Map<Digest, number>();
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

/** `{sets}` to spread into a record: the digest's content sets, nothing when it is in none. */
function setsField(membership: SetMembership, digest: Digest): { sets?: string[] } {
  const sets = membership.setsOf.get(digest);
  return sets === undefined ? {} : { sets: [...sets] };
}

function contentWrites(inventory: Inventory, generationOf: (digest: Digest) => number, membership: SetMembership): KvWrite[] {
  const writes: KvWrite[] = [];
  for (const name of sorted(inventory.repositories.keys())) {
    const repository = inventory.repositories.get(name)!;
    for (const digest of sorted(repository.blobs.keys())) {
      const size = inventory.blobs.get(digest) ?? inventory.manifests.get(digest)!.bytes.byteLength;
      const record: BlobRecord = { size, generation: generationOf(digest), mediaType: repository.blobs.get(digest)!, ...setsField(membership, digest) };
      writes.push({ key: keys.blob(name, digest), value: JSON.stringify(record) });
    }
    for (const digest of sorted(repository.manifests)) {
      const manifest = inventory.manifests.get(digest)!;
      const metadata: ManifestMetadata = { digest, mediaType: manifest.mediaType, generation: generationOf(digest), ...setsField(membership, digest) };
      writes.push({ key: keys.manifest(name, digest), value: manifest.bytes, metadata: { ...metadata } });
    }
    for (const subject of sorted(repository.referrers.keys())) {
      const referrers: Descriptor[] = [...repository.referrers.get(subject)!].sort((a, b) => byCodeUnits(a.digest, b.digest));
      writes.push({ key: keys.referrers(name, subject), value: JSON.stringify(referrers) });
    }
  }
  return writes;
}

function pointerWrites(inventory: Inventory, generationOf: (digest: Digest) => number, publication: Publication, membership: SetMembership): KvWrite[] {
  const writes: KvWrite[] = [];
  const names = sorted(inventory.repositories.keys());
  for (const name of names) {
    const { tags } = inventory.repositories.get(name)!;
    for (const tag of sorted(tags.keys())) {
      const digest = tags.get(tag)!;
      const manifest = inventory.manifests.get(digest)!;
      const metadata: ManifestMetadata = { digest, mediaType: manifest.mediaType, generation: generationOf(digest), ...setsField(membership, digest) };
      writes.push({ key: keys.tag(name, tag), value: manifest.bytes, metadata: { ...metadata } });
    }
    writes.push({ key: keys.tagList(name), value: JSON.stringify(sorted(tags.keys())) });
  }
  writes.push({ key: keys.catalog(), value: JSON.stringify(names) });
  writes.push({ key: keys.generation(publication.generation), value: JSON.stringify(publication) });
  writes.push({ key: keys.publication(), value: JSON.stringify(publication) });
  return writes;
}

/**
 * Every blob path of the tree (manifests and indexes, configs, layers, the
 * blob copies of lookaside signatures) with
 * its first-seen generation, sorted by `(generation, digest)`, in pages of at
 * most `INVENTORY_PAGE_SIZE` under `inventory:<generation>:<page>`
 * (docs/kv-data-model.md): the crawler verifies mirrors against it.
 */
function countByGeneration(entries: readonly InventoryEntry[]): InventorySummary["generations"] {
  const generations: InventorySummary["generations"] = [];
  for (const entry of entries) {
    const last = generations[generations.length - 1];
    if (last?.generation === entry.generation) last.entries += 1;
    else generations.push({ generation: entry.generation, entries: 1 });
  }
  return generations;
}

function inventoryWrites(
  inventory: Inventory,
  generationOf: (digest: Digest) => number,
  generation: number,
  membership: SetMembership,
  signatureBlobs: ReadonlyMap<Digest, number>,
): { writes: KvWrite[]; summary: InventorySummary } {
  const entries: InventoryEntry[] = [];
  for (const [digest, manifest] of inventory.manifests) entries.push({ digest, size: manifest.bytes.byteLength, generation: generationOf(digest), ...setsField(membership, digest) });
  for (const [digest, size] of inventory.blobs) {
    // A blob one manifest names as a layer may be another's manifest: one path, listed once.
    if (!inventory.manifests.has(digest)) entries.push({ digest, size, generation: generationOf(digest), ...setsField(membership, digest) });
  }
  for (const [digest, size] of signatureBlobs) {
    if (!inventory.blobs.has(digest) && !inventory.manifests.has(digest)) entries.push({ digest, size, generation: generationOf(digest), ...setsField(membership, digest) });
  }
  entries.sort((a, b) => a.generation - b.generation || byCodeUnits(a.digest, b.digest));
  const writes: KvWrite[] = [];
  const starts: InventorySummary["starts"] = [];
  for (let start = 0; start < entries.length; start += INVENTORY_PAGE_SIZE) {
    const page = entries.slice(start, start + INVENTORY_PAGE_SIZE);
    starts.push({ generation: page[0]!.generation, digest: page[0]!.digest });
    writes.push({ key: keys.inventoryPage(generation, writes.length), value: JSON.stringify(page) });
  }
  const bytes = entries.reduce((total, entry) => total + entry.size, 0);
  const generations = countByGeneration(entries);
  const summary: InventorySummary = { pages: writes.length, entries: entries.length, bytes, starts, generations };
  if (membership.members.size > 0) {
    summary.sets = [...membership.members.keys()].map((name) => ({ name, generations: countByGeneration(entries.filter((entry) => entry.sets?.includes(name) === true)) }));
  }
  return { writes, summary };
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
 * content gets this one. Every write carries its content hash, and one the
 * namespace already holds (`currentHashes`) is left out, so a publication
 * writes only what changed; a tree that describes exactly the current
 * publication is `unchanged` and keeps its generation. Pure: it reads the
 * tree and touches no KV (src/store/publication-store.ts lists and writes).
 */
export async function planPublication(source: LayoutSource, options: PlanOptions): Promise<PublicationPlan> {
  const { generation } = options;
  if (!Number.isSafeInteger(generation) || generation < 1) throw new RangeError(`generation must be a positive integer, got ${generation}`);
  const inventory = await readInventory(source);
  const signatures = await readTreeSignatures(source, inventory);
  const sets = options.sets ?? [];
  const extras: TreeExtras = { source, signatures, sets, membership: await computeMembership(sets, inventory, source) };
  const previous = (await readFirstSeen(source, generation)) ?? new Map(options.publishedFirstSeen === undefined ? [] : await options.publishedFirstSeen());
  const currentKeys = [...options.currentKeys];
  const currentHashes = options.currentHashes ?? new Map<string, string>();

  const current = options.current ?? null;
  // Only a tree that has seen no later generation than the namespace's current one can be that publication.
  if (current !== null && current.generation === generation - 1 && [...previous.values()].every((seen) => seen <= current.generation)) {
    const again = await writesFor(inventory, extras, previous, current.generation, current.published, currentKeys, currentHashes);
    if (again.content.length === 0 && again.pointers.length === 0 && again.deletions.pointers.length === 0 && again.deletions.content.length === 0) {
      return { ...again, unchanged: true };
    }
  }
  return { ...(await writesFor(inventory, extras, previous, generation, options.published, currentKeys, currentHashes)), unchanged: false };
}

/** The plan of `inventory` published as `generation` at `published`, without the writes `currentHashes` says are in place. */
/** What a tree holds besides its inventory, read once and used for whichever generation the plan takes. */
interface TreeExtras {
  source: LayoutSource;
  signatures: TreeSignatures;
  sets: readonly ContentSet[];
  membership: SetMembership;
}

async function writesFor(
  inventory: Inventory,
  { source, signatures, sets, membership }: TreeExtras,
  previous: ReadonlyMap<Digest, number>,
  generation: number,
  published: string,
  currentKeys: readonly string[],
  currentHashes: ReadonlyMap<string, string>,
): Promise<Omit<PublicationPlan, "unchanged">> {
  const generationOf = (digest: Digest) => previous.get(digest) ?? generation;

  const firstSeen: Record<string, number> = {};
  const signatureBlobs = signatures.lookaside.map((signature) => signature.blob);
  for (const digest of sorted(new Set([...inventory.manifests.keys(), ...inventory.blobs.keys(), ...signatureBlobs]))) firstSeen[digest] = generationOf(digest);

  const pages = inventoryWrites(inventory, generationOf, generation, membership, new Map(signatures.lookaside.map((signature) => [signature.blob, signature.size])));
  const publication: Publication = { generation, published, inventory: pages.summary };

  let tags = 0;
  for (const repository of inventory.repositories.values()) tags += repository.tags.size;
  let bytes = 0;
  for (const size of inventory.blobs.values()) bytes += size;

  const content = [...contentWrites(inventory, generationOf, membership), ...signatureWrites(signatures, generationOf), ...pages.writes];
  const pointers = pointerWrites(inventory, generationOf, publication, membership);
  const perSet = await setFiles(sets, membership, source, { generation, published });
  const written = new Set([...content, ...pointers].map((write) => write.key));

  return {
    generation,
    published,
    content: await changedWrites(content, currentHashes),
    pointers: await changedWrites(pointers, currentHashes),
    deletions: {
      pointers: staleKeys(currentKeys, written, PUBLISHED_PREFIXES.pointers),
      content: staleKeys(currentKeys, written, PUBLISHED_PREFIXES.content),
    },
    firstSeen,
    marker: encodeMarker({ generation, published }),
    setFiles: perSet.files,
    setMarkers: perSet.markers,
    summary: {
      repositories: inventory.repositories.size,
      tags,
      manifests: inventory.manifests.size,
      blobs: inventory.blobs.size,
      bytes,
    },
  };
}
