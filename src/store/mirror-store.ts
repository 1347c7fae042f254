import type { CrawlState, MirrorTable } from "../mirrors/types";
import { keys } from "./keys";
import { readTogether } from "./read-together";
import { VersionedCache } from "./versioned-cache";

const EMPTY_TABLE: MirrorTable = Object.freeze({ version: "empty", origin: null, mirrors: [] });
const EMPTY_CRAWL: CrawlState = Object.freeze({});

/**
 * Reads the operator's mirror table and the crawler's findings, each kept in
 * `cache` by version: the isolate's, from the composition root, or one of
 * this store's own when none is given.
 */
export class MirrorStore {
  constructor(
    private readonly kv: KVNamespace,
    private readonly cache: VersionedCache = new VersionedCache(),
  ) {}

  async table(): Promise<MirrorTable> {
    return (await this.cache.read<MirrorTable>(this.kv, keys.mirrors()))?.value ?? EMPTY_TABLE;
  }

  async crawlState(): Promise<CrawlState> {
    return (await this.cache.read<CrawlState>(this.kv, keys.crawlState()))?.value ?? EMPTY_CRAWL;
  }

  /** Both inputs of mirror selection, read together. */
  selectionInputs(): Promise<SelectionInputs> {
    return readTogether<SelectionInputs>([this.table(), this.crawlState()]);
  }
}

export type SelectionInputs = [MirrorTable, CrawlState];
