import { PUBLISHED_PREFIXES } from "./keys";
import type { KvWrite, PublicationWrites } from "./records";

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
 * Writes a publication to KV: all content, then the pointers in order,
 * `publication` last; then deletes stale tags and tag lists, and only then
 * stale content. A failure stops before any pointer is written when content fails.
 */
export async function applyPlan(kv: KVNamespace, plan: PublicationWrites): Promise<void> {
  await inBatches(plan.content, (write) => put(kv, write));
  for (const write of plan.pointers) await put(kv, write);
  await inBatches(plan.deletions.pointers, (key) => kv.delete(key));
  await inBatches(plan.deletions.content, (key) => kv.delete(key));
}
