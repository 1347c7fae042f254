import type { InventoryKey } from "../mirrors/types";
import { keys } from "./keys";
import type { InventoryEntry, InventorySummary, Publication } from "./records";

/** Orders inventory places as the publisher sorts entries: by generation, then digest in code units. */
export function compareKeys(a: InventoryKey, b: InventoryKey): number {
  return a.generation - b.generation || (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0);
}

/** What an inventory reader needs of KV: JSON values by key (a KVNamespace, or the CLI's reader of a remote namespace). */
export interface JsonKv {
  get<T>(key: string, type: "json"): Promise<T | null>;
}

/**
 * One publication's inventory (`inventory:<g>:<page>`), read page by page
 * on demand and each page at most once: a reader per crawler run, so KV
 * reads grow with the cursors visited, not with the inventory.
 */
export class InventoryReader {
  private readonly pages = new Map<number, Promise<InventoryEntry[]>>();
  private readonly summary: InventorySummary;

  constructor(
    private readonly kv: JsonKv,
    readonly publication: Publication,
  ) {
    this.summary = publication.inventory ?? { pages: 0, entries: 0, bytes: 0, starts: [], generations: [] };
  }

  private page(index: number): Promise<InventoryEntry[]> {
    let page = this.pages.get(index);
    if (page === undefined) {
      page = this.kv.get<InventoryEntry[]>(keys.inventoryPage(this.publication.generation, index), "json").then((entries) => entries ?? []);
      this.pages.set(index, page);
    }
    return page;
  }

  /** The page that holds `key` or would: the last page starting at or before it. */
  private pageOf(key: InventoryKey): number {
    let found = 0;
    for (const [index, start] of this.summary.starts.entries()) {
      if (compareKeys(start, key) <= 0) found = index;
      else break;
    }
    return found;
  }

  /**
   * Up to `limit` entries after `after` (from the first when null) first seen
   * in `maxGeneration` or earlier, and whether more such entries follow.
   */
  async after(after: InventoryKey | null, maxGeneration: number, limit: number): Promise<{ entries: InventoryEntry[]; more: boolean }> {
    const entries: InventoryEntry[] = [];
    for (let index = after === null ? 0 : this.pageOf(after); index < this.summary.pages; index++) {
      for (const entry of await this.page(index)) {
        if (after !== null && compareKeys(entry, after) <= 0) continue;
        if (entry.generation > maxGeneration) return { entries, more: false };
        if (entries.length === limit) return { entries, more: true };
        entries.push(entry);
      }
    }
    return { entries, more: false };
  }

  /** The entry at exactly `key`, or null when the publication no longer lists it. */
  async find(key: InventoryKey): Promise<InventoryEntry | null> {
    if (this.summary.pages === 0) return null;
    const page = await this.page(this.pageOf(key));
    return page.find((entry) => compareKeys(entry, key) === 0) ?? null;
  }

  /** How many entries were first seen in `generation` or earlier, from the summary alone. */
  countThrough(generation: number): number {
    return this.summary.generations.reduce((count, group) => count + (group.generation <= generation ? group.entries : 0), 0);
  }

  /** Whether the publication carries an inventory at all (records from before inventories have none). */
  get hasInventory(): boolean {
    return this.publication.inventory !== undefined;
  }
}
