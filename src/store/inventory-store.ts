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
  private readonly summary: InventorySummary;

  /**
   * `sets`: the content sets a mirror carries (docs/content-sets.md); the
   * reader then lists only entries of those sets. Null: the whole tree.
   */
  constructor(
    private readonly kv: JsonKv,
    readonly publication: Publication,
    private readonly sets: ReadonlySet<string> | null = null,
    private readonly pages = new Map<number, Promise<InventoryEntry[]>>(),
  ) {
    this.summary = publication.inventory ?? { pages: 0, entries: 0, bytes: 0, starts: [], generations: [] };
  }

  /** A reader of only the entries of `sets` (null: the whole tree), sharing this reader's pages, so a run reads each page once. */
  forSets(sets: readonly string[] | null): InventoryReader {
    return new InventoryReader(this.kv, this.publication, sets === null ? null : new Set(sets), this.pages);
  }

  private carried(entry: InventoryEntry): boolean {
    if (this.sets === null) return true;
    for (const set of entry.sets ?? []) if (this.sets.has(set)) return true;
    return false;
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
        if (!this.carried(entry)) continue;
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
    const entry = page.find((candidate) => compareKeys(candidate, key) === 0) ?? null;
    return entry !== null && this.carried(entry) ? entry : null;
  }

  /** How many entries were first seen in `generation` or earlier, from the summary alone. */
  countThrough(generation: number): number {
    const count = (groups: InventorySummary["generations"]) => groups.reduce((total, group) => total + (group.generation <= generation ? group.entries : 0), 0);
    const whole = count(this.summary.generations);
    if (this.sets === null) return whole;
    // Several sets share entries: their sum is an upper bound, capped at the whole tree.
    let sum = 0;
    for (const set of this.summary.sets ?? []) if (this.sets.has(set.name)) sum += count(set.generations);
    return Math.min(sum, whole);
  }

  /** Whether the publication carries an inventory at all (records from before inventories have none). */
  get hasInventory(): boolean {
    return this.publication.inventory !== undefined;
  }
}
