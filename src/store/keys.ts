import type { Digest } from "../oci/reference";

/** Prefix of every `tag:` key, whatever its repository. */
export const TAG_PREFIX = "tag:";
export const SIGNATURE_PREFIX = "signature:";

/**
 * Every KV key the front door reads or writes. Callers pass values that were
 * already validated against the OCI grammars, so a key can never be forged
 * from raw client input. docs/kv-data-model.md describes each value.
 */
export const keys = {
  tag: (repository: string, tag: string) => `${TAG_PREFIX}${repository}:${tag}`,
  manifest: (repository: string, digest: Digest) => `manifest:${repository}@${digest}`,
  blob: (repository: string, digest: Digest) => `blob:${repository}@${digest}`,
  tagList: (repository: string) => `tags:${repository}`,
  referrers: (repository: string, digest: Digest) => `referrers:${repository}@${digest}`,
  /** Lookaside signature `signature-<index>` of a manifest (src/signing/lookaside.ts). */
  signature: (repository: string, digest: Digest, index: number) => `${SIGNATURE_PREFIX}${repository}@${digest}/${index}`,
  signingKey: () => "signing-key",
  catalog: () => "catalog",
  publication: () => "publication",
  /** Written before a publication's first write; its generation ahead of `publication` means one is under way or was interrupted. */
  publishing: () => "publishing",
  generation: (generation: number) => `generation:${generation}`,
  mirrors: () => "mirrors",
  /** The operator's switches of single mirrors (`frontdoor mirrors enable/disable`), applied to every table loaded; the worker never reads it. */
  mirrorOverrides: () => "mirrors:overrides",
  crawlState: () => "crawl:state",
  crawlCursor: () => "crawl:cursor",
  /** One page (0, 1, ...) of publication `generation`'s blob inventory. */
  inventoryPage: (generation: number, page: number) => `inventory:${generation}:${page}`,
  /** Written by the blob route when clients keep coming back from a mirror; the id comes from the loaded table. */
  crawlSuspect: (mirrorId: string) => `crawl:suspect:${mirrorId}`,
  crawlSuspectPrefix: () => CRAWL_SUSPECT_PREFIX,
} as const;

/**
 * Key prefixes whose entries describe the tree (docs/kv-data-model.md): one
 * the newest publication no longer writes is stale and deleted after it.
 * `catalog` is rewritten whole; `generation:<n>` records are history and stay.
 */
export const PUBLISHED_PREFIXES = {
  pointers: [TAG_PREFIX, "tags:"],
  content: ["manifest:", "blob:", "referrers:", "inventory:", SIGNATURE_PREFIX, "signing-key"],
} as const;

/** Limits of Workers KV that a publication must keep to (Cloudflare's KV limits page). */
export const KV_LIMITS = { keyBytes: 512, valueBytes: 25 * 1024 * 1024, metadataBytes: 1024 } as const;

/** Prefix of the retry signals `keys.crawlSuspect` writes, listed once per crawler run. */
export const CRAWL_SUSPECT_PREFIX = "crawl:suspect:";
