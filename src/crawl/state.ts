import { emptyCrawlState, healthOf, type CrawlState, type MirrorHealth, type MirrorTable } from "../mirrors/types";

/**
 * The crawl state after one batch: the batch's fresh health entries over the
 * stored ones, and only for mirrors still in the table, so a mirror removed
 * from the config leaves the state while every other entry is kept as it was.
 */
export function mergeCrawlState(table: MirrorTable, stored: CrawlState, updates: ReadonlyMap<string, MirrorHealth>): CrawlState {
  const merged = emptyCrawlState();
  for (const mirror of table.mirrors) {
    const health = updates.get(mirror.id) ?? healthOf(stored, mirror.id);
    if (health !== undefined) merged[mirror.id] = health;
  }
  return merged;
}
