import type { Digest } from "../oci/reference";
import { keys } from "./keys";
import type { Descriptor } from "../oci/descriptor";
import type { BlobRecord, Manifest, ManifestMetadata, Publication, PublishingRecord } from "./records";
import { parsePublishing } from "./encode";
import { IMMUTABLE_RECORD_MS, RecordCache } from "./record-cache";

/** Rough bytes of a small JSON record in the cache. */
const RECORD_BYTES = 256;

/** How long found records are held in the isolate (docs/kv-data-model.md, "Freshness"). */
export interface RecordFreshness {
  /** Tags and the publication: they move with each publication. 0 reads KV every time. */
  mutableMs: number;
  /** Records addressed by digest (blob records, manifests by digest, `generation:<n>`): their content never changes. */
  immutableMs: number;
}

/** Reads KV every time: what a store made without the isolate's cache does. */
export const NO_RECORD_CACHE: RecordFreshness = Object.freeze({ mutableMs: 0, immutableMs: 0 });

/** The freshness that `ISOLATE_CACHE_MS` gives: mutable records for that long, immutable ones for a minute (never less). */
export function recordFreshness(isolateCacheMs: number): RecordFreshness {
  return isolateCacheMs <= 0 ? NO_RECORD_CACHE : { mutableMs: isolateCacheMs, immutableMs: Math.max(isolateCacheMs, IMMUTABLE_RECORD_MS) };
}

/**
 * Read access to published content. The only module that reads content keys
 * from KV. Found records come from the isolate's `cache` while `freshness`
 * allows; misses always ask KV.
 */
export class RegistryStore {
  constructor(
    private readonly kv: KVNamespace,
    private readonly cache: RecordCache = new RecordCache(),
    private readonly freshness: RecordFreshness = NO_RECORD_CACHE,
  ) {}

  /** One KV read: the tag entry holds the manifest bytes themselves. */
  manifestByTag(repository: string, tag: string): Promise<Manifest | null> {
    return this.readManifest(keys.tag(repository, tag), this.freshness.mutableMs);
  }

  manifestByDigest(repository: string, digest: Digest): Promise<Manifest | null> {
    return this.readManifest(keys.manifest(repository, digest), this.freshness.immutableMs);
  }

  blob(repository: string, digest: Digest): Promise<BlobRecord | null> {
    const key = keys.blob(repository, digest);
    return this.cache.through(key, this.freshness.immutableMs, () => this.kv.get<BlobRecord>(key, "json"), () => RECORD_BYTES);
  }

  /** The repository's tags in lexical order, or null when the repository was never published. */
  tags(repository: string): Promise<string[] | null> {
    return this.kv.get<string[]>(keys.tagList(repository), "json");
  }

  async repositoryExists(repository: string): Promise<boolean> {
    return (await this.tags(repository)) !== null;
  }

  async catalog(): Promise<string[]> {
    return (await this.kv.get<string[]>(keys.catalog(), "json")) ?? [];
  }

  async referrers(repository: string, digest: Digest): Promise<Descriptor[]> {
    return (await this.kv.get<Descriptor[]>(keys.referrers(repository, digest), "json")) ?? [];
  }

  publication(): Promise<Publication | null> {
    const key = keys.publication();
    return this.cache.through(key, this.freshness.mutableMs, () => this.kv.get<Publication>(key, "json"), () => RECORD_BYTES);
  }

  /** The `publishing` record: read for the status page, which says when a publication is under way or was cut off. */
  publishing(): Promise<PublishingRecord | null> {
    const key = keys.publishing();
    return this.cache.through(key, this.freshness.mutableMs, async () => parsePublishing(await this.kv.get(key, "text")), () => RECORD_BYTES);
  }

  generation(generation: number): Promise<Publication | null> {
    const key = keys.generation(generation);
    return this.cache.through(key, this.freshness.immutableMs, () => this.kv.get<Publication>(key, "json"), () => RECORD_BYTES);
  }

  private readManifest(key: string, forMs: number): Promise<Manifest | null> {
    return this.cache.through(
      key,
      forMs,
      async () => {
        const { value, metadata } = await this.kv.getWithMetadata<ManifestMetadata>(key, "arrayBuffer");
        if (value === null || metadata === null) return null;
        const { digest, mediaType, generation } = metadata;
        return { bytes: value, digest, mediaType, generation };
      },
      // A Response copies an ArrayBuffer body, so one held manifest serves any number of answers.
      (manifest) => manifest.bytes.byteLength + RECORD_BYTES,
    );
  }
}
