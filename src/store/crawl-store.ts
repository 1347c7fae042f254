import type { CrawlState } from "../mirrors/types";
import { crawlCursorEntry, crawlStateEntry, putEntry } from "./encode";
import { keys } from "./keys";

/** The crawler's own keys, `crawl:state` and `crawl:cursor`; the operator's `mirrors` is never written here. */
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
}
