import { healthOf, type CheckFailure, type CrawlFailureReason, type Mirror, type MirrorHealth } from "../mirrors/types";
import { markerPath, WHOLE_TREE_SET } from "../oci/sets";
import { CrawlStore } from "../store/crawl-store";
import { InventoryReader } from "../store/inventory-store";
import { MirrorStore } from "../store/mirror-store";
import { readTogether } from "../store/read-together";
import type { Publication } from "../store/records";
import { RegistryStore } from "../store/registry-store";
import { crawlOrder, pickBatch } from "./batch";
import { completeHealth, nextHealth, type Observation } from "./health";
import { mapWithConcurrency } from "./pool";
import { ByteBudget, ProbeFailure, readMarker, type FetchLimits } from "./probe";
import { effectiveBatchSize, type CrawlSettings } from "./settings";
import { mergeCrawlState } from "./state";
import { verifyMirror } from "./verify";

/** Workers' limit on simultaneous outgoing connections per invocation. */
export const MAX_CONNECTIONS = 6;

export interface CrawlOptions {
  /** The clock, in milliseconds since the epoch. */
  now?: () => number;
}

/** What one invocation did, for its log line. */
export interface CrawlReport {
  /** Enabled mirrors in the table. */
  enabled: number;
  /** Mirrors checked ahead of their turn because clients kept retrying away from them. */
  suspects: string[];
  checked: Array<{ id: string; ok: boolean; announced: number; verified: number; down: boolean; blobs: number; reason: CrawlFailureReason | null }>;
  /** Cursor stored for the next invocation. */
  next: number;
}

/** Whether `generation:<N>` exists, read from KV at most once per generation per invocation. */
function publishedReader(registry: RegistryStore): (generation: number) => Promise<boolean> {
  const known = new Map<number, Promise<boolean>>();
  return (generation) => {
    let exists = known.get(generation);
    if (exists === undefined) {
      exists = registry.generation(generation).then((record) => record !== null);
      known.set(generation, exists);
    }
    return exists;
  };
}

/**
 * The batch of this run: suspects of the table first (ahead of their turn),
 * then the next mirrors from the cursor, without repeats.
 */
export function batchWithSuspects(order: readonly Mirror[], suspects: readonly string[], cursor: number, size: number): { batch: Mirror[]; suspects: string[]; next: number } {
  const byId = new Map(order.map((mirror) => [mirror.id, mirror]));
  const ahead: Mirror[] = [];
  for (const id of suspects) {
    const mirror = byId.get(id);
    if (mirror !== undefined && !ahead.includes(mirror) && ahead.length < size) ahead.push(mirror);
  }
  const { batch, next } = size - ahead.length > 0 ? pickBatch(order, cursor, size - ahead.length) : { batch: [], next: cursor };
  return { batch: [...ahead, ...batch.filter((mirror) => !ahead.includes(mirror))], suspects: ahead.map((mirror) => mirror.id), next };
}

async function observe(
  mirror: Mirror,
  before: MirrorHealth,
  newest: Publication | null,
  inventory: InventoryReader | null,
  published: (generation: number) => Promise<boolean>,
  settings: CrawlSettings,
  limits: FetchLimits,
  hashing: ByteBudget,
): Promise<Observation> {
  const started = limits.now();
  // A mirror of content sets answers each set's marker; it is verified, over the union of its sets'
  // entries, for the oldest generation they announce (docs/content-sets.md, "Crawling").
  const subscribed = mirror.sets ?? null;
  const perSet: NonNullable<MirrorHealth["sets"]> = [];
  let announced = Infinity;
  let failure: CheckFailure | null = null;
  for (const set of subscribed ?? [WHOLE_TREE_SET]) {
    try {
      const generation = await readMarker(mirror.baseUrl, limits, markerPath(set));
      perSet.push({ name: set, announced: generation });
      announced = Math.min(announced, generation);
    } catch (error) {
      if (!(error instanceof ProbeFailure)) throw error;
      perSet.push({ name: set, announced: -1 });
      failure ??= error.toRecord();
    }
  }
  const sets = subscribed === null ? {} : { sets: perSet };
  const responseTime = limits.now() - started;
  if (failure !== null) return { marker: "failed", failure, responseTime, ...sets };
  if (!(await published(announced)) || newest === null || inventory === null) {
    const url = `${mirror.baseUrl}/${markerPath(perSet.find((set) => set.announced === announced)?.name ?? WHOLE_TREE_SET)}`;
    const detail = `${url} names generation ${announced}, which was never published: ahead of every publication`;
    return { marker: "failed", failure: { url, reason: "bad-marker", detail }, responseTime, ...sets };
  }
  const target = Math.min(announced, newest.generation);
  const carried = subscribed === null || subscribed.includes(WHOLE_TREE_SET) ? inventory : inventory.forSets(subscribed);
  const run = await verifyMirror(mirror.baseUrl, before, target, carried, { budget: settings.blobChecks, limits, hashing });
  const verifiedEntries = carried.countThrough(run.verified) + run.pass.done;
  return { marker: "read", announced, responseTime, run, progress: { verified: verifiedEntries, total: carried.countThrough(target) }, ...sets };
}

/**
 * One crawler invocation (docs/crawler.md): checks the mirrors named by
 * `crawl:suspect:` keys, then the next batch of enabled mirrors from the
 * cursor, sized to the subrequest limit: each mirror's marker, then up to
 * `blobChecks` of its blob paths against the newest publication's
 * inventory. It stores their health under `crawl:state` and the advanced
 * cursor. The state is read once, before the checks, and written back with
 * the batch's entries replaced. Runs take no lock: of two overlapping runs
 * the later write wins, and the earlier run's results are lost until those
 * mirrors' next check.
 */
export async function crawlOnce(kv: KVNamespace, settings: CrawlSettings, options: CrawlOptions = {}): Promise<CrawlReport> {
  const now = options.now ?? Date.now;
  const crawl = new CrawlStore(kv);
  const registry = new RegistryStore(kv);
  const [table, cursor, before, newest, suspectIds] = await readTogether([
    new MirrorStore(kv).table(),
    crawl.cursor(),
    crawl.state(),
    registry.publication(),
    crawl.suspects(),
  ]);
  const order = crawlOrder(table);
  const { batch, suspects, next } = batchWithSuspects(order, suspectIds, cursor, effectiveBatchSize(settings));
  const published = publishedReader(registry);
  const inventory = newest === null ? null : new InventoryReader(kv, newest);
  const limits: FetchLimits = { timeoutMs: settings.timeoutMs, minBytesPerSecond: settings.minBytesPerSecond, now };
  const hashing = new ByteBudget(settings.hashBytesPerRun);

  const results = await mapWithConcurrency(batch, MAX_CONNECTIONS, async (mirror) => {
    const previous = completeHealth(healthOf(before, mirror.id));
    const observation = await observe(mirror, previous, newest, inventory, published, settings, limits, hashing);
    const health = nextHealth(previous, observation, new Date(now()).toISOString(), settings);
    return { id: mirror.id, health };
  });

  const updates = new Map<string, MirrorHealth>(results.map(({ id, health }) => [id, health]));
  await crawl.saveState(mergeCrawlState(table, before, updates));
  await crawl.saveCursor(next);
  return {
    enabled: order.length,
    suspects,
    checked: results.map(({ id, health }) => {
      const last = health.recent[health.recent.length - 1];
      return {
        id,
        ok: last?.outcome === "pass",
        announced: health.announced,
        verified: health.verified,
        down: health.down,
        blobs: last?.blobs ?? 0,
        reason: last?.failure?.reason ?? null,
      };
    }),
    next,
  };
}
