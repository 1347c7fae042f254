import type { CrawlState, MirrorHealth, MirrorTable } from "../mirrors/types";

/**
 * The crawl state after one batch: the batch's fresh health entries over the
 * stored ones, and only for mirrors still in the table, so a mirror removed
 * from the config leaves the state while every other entry is kept as it was.
 */
export function mergeCrawlState(table: MirrorTable, stored: CrawlState, updates: ReadonlyMap<string, MirrorHealth>): CrawlState {
  const merged: CrawlState = {};
  for (const mirror of table.mirrors) {
    const health = updates.get(mirror.id) ?? stored[mirror.id];
    if (health !== undefined) merged[mirror.id] = health;
  }
  return merged;
}
