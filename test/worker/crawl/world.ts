import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { Env } from "../../../src/env";
import worker from "../../../src/index";
import type { CrawlState, MirrorHealth } from "../../../src/mirrors/types";
import { digestHex, type Digest } from "../../../src/oci/reference";
import { generationEntry, publicationEntry, putEntry } from "../../../src/store/encode";
import { keys } from "../../../src/store/keys";
import { compareKeys } from "../../../src/store/inventory-store";
import type { InventoryEntry, InventorySummary, Publication } from "../../../src/store/records";
import { blobBytes } from "./mirror-farm.setup";

/** A blob with real bytes (`seed` repeated to `size`) and its true digest, as the farm serves it. */
export interface TestBlob {
  digest: Digest;
  size: number;
  seed: string;
}

export async function testBlob(seed: string, size: number): Promise<TestBlob> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", blobBytes(seed, size)));
  const digest = `sha256:${[...hash].map((byte) => byte.toString(16).padStart(2, "0")).join("")}` as Digest;
  return { digest, size, seed };
}

export async function testBlobs(prefix: string, count: number, size: number): Promise<TestBlob[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => testBlob(`${prefix}-${i}`, size)));
}

async function inventoryOf(publication: Publication | null): Promise<InventoryEntry[]> {
  if (publication?.inventory === undefined) return [];
  const pages = await Promise.all(
    Array.from({ length: publication.inventory.pages }, (_, page) => env.REGISTRY.get<InventoryEntry[]>(keys.inventoryPage(publication.generation, page), "json")),
  );
  return pages.flatMap((page) => page ?? []);
}

export interface PublishOptions {
  /** Entries per inventory page (the publisher's is 1,000): small pages exercise the page lookup. */
  pageSize?: number;
  /** Digests the new publication no longer lists. */
  dropping?: readonly Digest[];
  /** Content sets of the added blobs (docs/content-sets.md), by digest; blobs not listed are in none. */
  setsOf?: ReadonlyMap<string, string[]>;
}

/**
 * Stores publication `generation` as the publisher does: the previous
 * publication's inventory plus `added` (first seen now), sorted, in pages,
 * `generation:<n>` with its summary, and `publication`.
 */
export async function publishGeneration(generation: number, added: readonly TestBlob[], options: PublishOptions = {}): Promise<Publication> {
  const previous = await env.REGISTRY.get<Publication>(keys.publication(), "json");
  const dropped = new Set<string>(options.dropping ?? []);
  const entries = [...(await inventoryOf(previous)).filter((entry) => !dropped.has(entry.digest)), ...added.map(({ digest, size }) => {
    const sets = options.setsOf?.get(digest);
    return { digest, size, generation, ...(sets === undefined ? {} : { sets }) };
  })];
  entries.sort(compareKeys);
  const pageSize = options.pageSize ?? 1000;
  const summary: InventorySummary = { pages: 0, entries: entries.length, bytes: 0, starts: [], generations: [] };
  for (let start = 0; start < entries.length; start += pageSize) {
    const page = entries.slice(start, start + pageSize);
    summary.starts.push({ generation: page[0]!.generation, digest: page[0]!.digest });
    await env.REGISTRY.put(keys.inventoryPage(generation, summary.pages++), JSON.stringify(page));
  }
  for (const entry of entries) {
    summary.bytes += entry.size;
    const last = summary.generations[summary.generations.length - 1];
    if (last?.generation === entry.generation) last.entries++;
    else summary.generations.push({ generation: entry.generation, entries: 1 });
  }
  const setNames = [...new Set(entries.flatMap((entry) => entry.sets ?? []))].sort();
  if (setNames.length > 0) {
    summary.sets = setNames.map((name) => {
      const groups: InventorySummary["generations"] = [];
      for (const entry of entries.filter((candidate) => candidate.sets?.includes(name))) {
        const last = groups[groups.length - 1];
        if (last?.generation === entry.generation) last.entries++;
        else groups.push({ generation: entry.generation, entries: 1 });
      }
      return { name, generations: groups };
    });
  }
  const publication: Publication = { generation, published: `2026-11-27T1${generation % 10}:00:00Z`, inventory: summary };
  await putEntry(env.REGISTRY, generationEntry(publication));
  await putEntry(env.REGISTRY, publicationEntry(publication));
  return publication;
}

/** A digest that is well formed and names nothing real. */
export function fakeDigest(seed: string): Digest {
  return `sha256:${seed.repeat(64).slice(0, 64)}`;
}

/** The farm's blob path of a digest. */
export function blobPathOf(digest: Digest): string {
  return `/blobs/sha256/${digestHex(digest)}`;
}

/** Runs the worker's Cron Trigger handler once, with extra variables over the test bindings. */
export async function runCrawler(variables: Partial<Env> = {}): Promise<void> {
  const context = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: "* * * * *" }), { ...(env as unknown as Env), ...variables }, context);
  await waitOnExecutionContext(context);
}

/** Runs the crawler `times` times with the same variables. */
export async function crawlTimes(times: number, variables: Partial<Env> = {}): Promise<void> {
  for (let run = 0; run < times; run++) await runCrawler(variables);
}

export async function crawlState(): Promise<CrawlState> {
  return (await env.REGISTRY.get<CrawlState>(keys.crawlState(), "json")) ?? {};
}

export async function healthOf(id: string): Promise<MirrorHealth | undefined> {
  return (await crawlState())[id];
}
