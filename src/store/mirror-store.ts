import type { CrawlState, MirrorTable } from "../mirrors/types";
import { keys } from "./keys";
import { readTogether } from "./read-together";
import { VersionedCache } from "./versioned-cache";

const EMPTY_TABLE: MirrorTable = Object.freeze({ version: "empty", origin: null, mirrors: [] });
const EMPTY_CRAWL: CrawlState = Object.freeze({});

/**
 * Reads the operator's mirror table and the crawler's findings, each kept in
 * `cache` by version: the isolate's, from the composition root, or one of
 * this store's own when none is given. A copy KV confirmed less than
 * `maxAgeMs` ago is used without a KV read (`ISOLATE_CACHE_MS`; 0 asks KV on
 * every read).
 */
export class MirrorStore {
  constructor(
    private readonly kv: KVNamespace,
    private readonly cache: VersionedCache = new VersionedCache(),
    private readonly maxAgeMs = 0,
  ) {}

  async table(): Promise<MirrorTable> {
    return (await this.cache.read<MirrorTable>(this.kv, keys.mirrors(), this.maxAgeMs))?.value ?? EMPTY_TABLE;
  }

  async crawlState(): Promise<CrawlState> {
    return (await this.crawlSnapshot()).value;
  }

  /** The crawl state with its KV version ("none" when the crawler never ran), which selection's caches key on. */
  async crawlSnapshot(): Promise<{ version: string; value: CrawlState }> {
    return (await this.cache.read<CrawlState>(this.kv, keys.crawlState(), this.maxAgeMs)) ?? { version: "none", value: EMPTY_CRAWL };
  }

  /** Both inputs of mirror selection, read together, and the crawl state's version. */
  async selectionInputs(): Promise<SelectionInputs> {
    const [table, crawl] = await readTogether([this.table(), this.crawlSnapshot()]);
    return [table, crawl.value, crawl.version === "" ? null : crawl.version];
  }
}

/** The mirror table, the crawl state, and the crawl state's version (null when it has none). */
export type SelectionInputs = [MirrorTable, CrawlState, string | null];
