import type { CrawlState } from "../mirrors/types";
import { crawlCursorEntry, crawlStateEntry, putEntry } from "./encode";
import { CRAWL_SUSPECT_PREFIX, keys } from "./keys";

/** The crawler's own keys, `crawl:state` and `crawl:cursor`, and the `crawl:suspect:` signals it reads; the operator's `mirrors` is never written here. */
export class CrawlStore {
  constructor(private readonly kv: KVNamespace) {}

  /**
   * The stored state, read from KV rather than the isolate cache. KV itself
   * may answer with a copy up to 60 s old, so reading it again later in the
   * same run would not see another run's write.
   */
  async state(): Promise<CrawlState> {
    return (await this.kv.get<CrawlState>(keys.crawlState(), "json")) ?? {};
  }

  /** Writes the state under a new version, so every isolate's cached copy is replaced. */
  async saveState(state: CrawlState): Promise<void> {
    await putEntry(this.kv, crawlStateEntry(state));
  }

  /** Index of the next mirror to check in crawl order; 0 when absent or malformed. */
  async cursor(): Promise<number> {
    const stored = await this.kv.get<{ next?: unknown }>(keys.crawlCursor(), "json");
    const next = stored?.next;
    return typeof next === "number" && Number.isSafeInteger(next) && next >= 0 ? next : 0;
  }

  async saveCursor(next: number): Promise<void> {
    await putEntry(this.kv, crawlCursorEntry(next));
  }

  /**
   * Ids named by `crawl:suspect:<id>` keys (written by the blob route when
   * clients keep coming back from a mirror), one list per run. Callers keep
   * only ids of the loaded table.
   */
  async suspects(): Promise<string[]> {
    const found: string[] = [];
    let cursor: string | undefined;
    do {
      const page: KVNamespaceListResult<unknown, string> = await this.kv.list({ prefix: CRAWL_SUSPECT_PREFIX, ...(cursor === undefined ? {} : { cursor }) });
      for (const key of page.keys) found.push(key.name.slice(CRAWL_SUSPECT_PREFIX.length));
      cursor = page.list_complete ? undefined : page.cursor;
    } while (cursor !== undefined);
    return found;
  }
}
