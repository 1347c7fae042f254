import type { CrawlState, MirrorTable } from "../mirrors/types";
import { keys } from "./keys";
import { readTogether } from "./read-together";
import { readVersioned } from "./versioned-cache";

const EMPTY_TABLE: MirrorTable = Object.freeze({ version: "empty", origin: null, mirrors: [] });
const EMPTY_CRAWL: CrawlState = Object.freeze({});

/** Reads the operator's mirror table and the crawler's findings, each cached in the isolate by version. */
export class MirrorStore {
  constructor(private readonly kv: KVNamespace) {}

  async table(): Promise<MirrorTable> {
    return (await readVersioned<MirrorTable>(this.kv, keys.mirrors()))?.value ?? EMPTY_TABLE;
  }

  async crawlState(): Promise<CrawlState> {
    return (await this.crawlSnapshot()).value;
  }

  /** The crawl state with its KV version ("none" when the crawler never ran), which selection's caches key on. */
  async crawlSnapshot(): Promise<{ version: string; value: CrawlState }> {
    return (await readVersioned<CrawlState>(this.kv, keys.crawlState())) ?? { version: "none", value: EMPTY_CRAWL };
  }

  /** Both inputs of mirror selection, read together, and the crawl state's version. */
  async selectionInputs(): Promise<SelectionInputs> {
    const [table, crawl] = await readTogether([this.table(), this.crawlSnapshot()]);
    return [table, crawl.value, crawl.version === "" ? null : crawl.version];
  }
}

/** The mirror table, the crawl state, and the crawl state's version (null when it has none). */
export type SelectionInputs = [MirrorTable, CrawlState, string | null];
