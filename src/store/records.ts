import type { Digest } from "../oci/reference";

/** KV metadata of a `tag:` or `manifest:` entry, whose value is the manifest's exact bytes. */
export interface ManifestMetadata {
  digest: Digest;
  mediaType: string;
  /** The publication generation in which these bytes first appeared. */
  generation: number;
  /** The operator's content sets holding these bytes (besides `all`, which holds everything); absent when none. */
  sets?: string[];
}

export interface Manifest extends ManifestMetadata {
  bytes: ArrayBuffer;
}

/** Value of a `blob:` entry. */
export interface BlobRecord {
  size: number;
  generation: number;
  mediaType?: string;
  /** The operator's content sets holding this blob (besides `all`); absent when none. */
  sets?: string[];
}

/**
 * One blob path a mirror must hold (`blobs/<alg>/<hex>`: manifests and
 * indexes, configs, layers), with the generation it first appeared in.
 */
export interface InventoryEntry {
  digest: Digest;
  size: number;
  generation: number;
  /** The operator's content sets holding it (besides `all`, which holds every entry); absent when none. */
  sets?: string[];
}

/** Most entries in one `inventory:<g>:<page>` value. */
export const INVENTORY_PAGE_SIZE = 1000;

/** What `generation:<n>` says of its inventory pages. */
export interface InventorySummary {
  pages: number;
  entries: number;
  /** Total size of every entry. */
  bytes: number;
  /** The first entry's `(generation, digest)` of each page, so a reader fetches only the page a cursor falls in. */
  starts: Array<{ generation: number; digest: Digest }>;
  /** Entries per first-seen generation, oldest first. */
  generations: Array<{ generation: number; entries: number }>;
  /** Per operator-defined content set, its entries per first-seen generation; absent without sets. */
  sets?: Array<{ name: string; generations: Array<{ generation: number; entries: number }> }>;
}

/** Value of `publishing`: the publication a publisher started, with the time it started. */
export interface PublishingRecord {
  generation: number;
  /** RFC 3339. */
  started: string;
}

/** Value of `publication` (the newest) and of `generation:<n>` (each one kept). */
export interface Publication {
  generation: number;
  /** RFC 3339 time of the publication. */
  published: string;
  /** The publication's inventory; absent in records written before inventories existed. */
  inventory?: InventorySummary;
}

/**
 * Name of the KV metadata field in which the publisher stores each entry's
 * content hash (src/publish/plan.ts, `contentHash`), so the next publication
 * can tell, from one list call per 1,000 keys, which entries it must rewrite.
 */
export const CONTENT_HASH_FIELD = "h";

/** One KV entry to write. */
export interface KvWrite {
  key: string;
  value: string | Uint8Array;
  metadata?: Record<string, unknown>;
}

/** A publication's KV writes, in the order they must be written (src/publish/plan.ts builds them). */
export interface PublicationWrites {
  /** Blobs, manifests, referrers and inventory pages: written first. */
  content: KvWrite[];
  /** Tags, tag lists, catalog, `generation:<n>`, and `publication` last: written after all content. */
  pointers: KvWrite[];
  /** Keys deleted after `publication`: stale tags and tag lists first, then stale content. */
  deletions: { pointers: string[]; content: string[] };
}

/**
 * Value of a `signature:` entry: a lookaside signature file, whose bytes the
 * tree also holds as a blob, so mirrors serve it at `blobs/<alg>/<hex>`.
 */
export interface SignatureRecord {
  digest: Digest;
  size: number;
  /** The publication generation in which these bytes first appeared. */
  generation: number;
}

/**
 * One entry of `mirrors:overrides`: a mirror the operator switched on or off
 * without editing the mirrors file. The CLI applies it to the table it writes
 * to `mirrors`, now and at every later `frontdoor mirrors load`.
 */
export interface MirrorOverride {
  id: string;
  enabled: boolean;
  /** RFC 3339 time of the switch. */
  at: string;
  /** Why, as the operator gave it. */
  note?: string;
}
