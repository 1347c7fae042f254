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
    return (await readVersioned<CrawlState>(this.kv, keys.crawlState()))?.value ?? EMPTY_CRAWL;
  }

  /** Both inputs of mirror selection, read together. */
  selectionInputs(): Promise<SelectionInputs> {
    return readTogether<SelectionInputs>([this.table(), this.crawlState()]);
  }
}

export type SelectionInputs = [MirrorTable, CrawlState];
