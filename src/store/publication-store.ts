import { keys, PUBLISHED_PREFIXES } from "./keys";
import { CONTENT_HASH_FIELD, type KvWrite, type PublicationWrites } from "./records";

/** Content writes and deletions run this many at a time; pointers one by one, in order. */
const CONCURRENCY = 16;

function put(kv: KVNamespace, write: KvWrite): Promise<void> {
  return kv.put(write.key, write.value, write.metadata === undefined ? {} : { metadata: write.metadata });
}

async function inBatches<T>(items: readonly T[], run: (item: T) => Promise<void>): Promise<void> {
  for (let start = 0; start < items.length; start += CONCURRENCY) await Promise.all(items.slice(start, start + CONCURRENCY).map(run));
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

/**
 * Prefixes of the publisher's keys that are never stale but whose content
 * hash a plan compares too: the catalog, the publication and its history.
 */
export const PUBLISHER_RECORD_PREFIXES = [keys.catalog(), keys.publication(), "generation:"] as const;

/** The content hash a publisher wrote into a key's metadata (`CONTENT_HASH_FIELD`), or null for a key written without one. */
function hashOf(metadata: unknown): string | null {
  if (typeof metadata !== "object" || metadata === null) return null;
  const hash = (metadata as Record<string, unknown>)[CONTENT_HASH_FIELD];
  return typeof hash === "string" ? hash : null;
}

/**
 * Every key of the namespace under `PUBLISHED_PREFIXES`, and the catalog,
 * publication and generation records, with the content hash in its
 * metadata (null when it has none), following the list cursor to the end:
 * what a plan compares the tree against, in one list call per 1,000 keys.
 */
export async function listPublished(kv: KVNamespace): Promise<Map<string, string | null>> {
  const found = new Map<string, string | null>();
  for (const prefix of [...PUBLISHED_PREFIXES.pointers, ...PUBLISHED_PREFIXES.content, ...PUBLISHER_RECORD_PREFIXES]) {
    let cursor: string | undefined;
    do {
      const page: KVNamespaceListResult<unknown, string> = await kv.list({ prefix, ...(cursor === undefined ? {} : { cursor }) });
      for (const key of page.keys) found.set(key.name, hashOf(key.metadata));
      cursor = page.list_complete ? undefined : page.cursor;
    } while (cursor !== undefined);
  }
  return found;
}

/** The hashes of `listPublished`, without the keys that carry none. */
export function publishedHashes(listed: ReadonlyMap<string, string | null>): Map<string, string> {
  const hashes = new Map<string, string>();
  for (const [key, hash] of listed) if (hash !== null) hashes.set(key, hash);
  return hashes;
}

/**
 * Writes a publication to KV: all content, then the pointers in order,
 * `publication` last; then deletes stale tags and tag lists, and only then
 * stale content. A failure stops before any pointer is written when content fails.
 * A plan holds only what changed, so an unchanged tree writes nothing.
 */
export async function applyPlan(kv: KVNamespace, plan: PublicationWrites): Promise<void> {
  await inBatches(plan.content, (write) => put(kv, write));
  for (const write of plan.pointers) await put(kv, write);
  await inBatches(plan.deletions.pointers, (key) => kv.delete(key));
  await inBatches(plan.deletions.content, (key) => kv.delete(key));
}
