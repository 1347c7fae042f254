import type { CrawlFailureReason, MirrorHealth } from "../mirrors/types";
import { CrawlStore } from "../store/crawl-store";
import { MirrorStore } from "../store/mirror-store";
import { readTogether } from "../store/read-together";
import { RegistryStore } from "../store/registry-store";
import { crawlOrder, pickBatch } from "./batch";
import { nextHealth } from "./health";
import { mapWithConcurrency } from "./pool";
import { checkMirror, type SampleBlob } from "./probe";
import { effectiveBatchSize, type CrawlSettings } from "./settings";
import { mergeCrawlState } from "./state";

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
  checked: Array<{ id: string; ok: boolean; generation: number; down: boolean; reason: CrawlFailureReason | null }>;
  /** Cursor stored for the next invocation. */
  next: number;
}

/**
 * The sample of each generation, read from KV at most once per invocation;
 * null when `generation:<N>` does not exist, i.e. N was never published.
 */
function sampleReader(registry: RegistryStore): (generation: number) => Promise<SampleBlob[] | null> {
  const samples = new Map<number, Promise<SampleBlob[] | null>>();
  return (generation) => {
    let sample = samples.get(generation);
    if (sample === undefined) {
      sample = registry.generation(generation).then((record) => (record === null ? null : record.sample));
      samples.set(generation, sample);
    }
    return sample;
  };
}

/**
 * One crawler invocation (docs/crawler.md): checks the next batch of
 * enabled mirrors from the cursor, sized to the subrequest limit, then stores
 * their health under `crawl:state` and the advanced cursor. The state is read
 * once, before the checks, and written back with the batch's entries
 * replaced. Runs take no lock: of two overlapping runs the later write wins,
 * and the earlier run's results are lost until those mirrors' next check.
 */
export async function crawlOnce(kv: KVNamespace, settings: CrawlSettings, options: CrawlOptions = {}): Promise<CrawlReport> {
  const now = options.now ?? Date.now;
  const crawl = new CrawlStore(kv);
  const [table, cursor, before] = await readTogether([new MirrorStore(kv).table(), crawl.cursor(), crawl.state()]);
  const order = crawlOrder(table);
  const { batch, next } = pickBatch(order, cursor, effectiveBatchSize(settings));
  const samplesOf = sampleReader(new RegistryStore(kv));

  const results = await mapWithConcurrency(batch, MAX_CONNECTIONS, async (mirror) => {
    const result = await checkMirror(mirror.baseUrl, {
      timeoutMs: settings.timeoutMs,
      sampleSize: settings.sampleSize,
      samplesOf,
      now,
    });
    const health = nextHealth(before[mirror.id], result, new Date(now()).toISOString(), settings.failuresBeforeDown);
    return { id: mirror.id, result, health };
  });

  const updates = new Map<string, MirrorHealth>(results.map(({ id, health }) => [id, health]));
  await crawl.saveState(mergeCrawlState(table, before, updates));
  await crawl.saveCursor(next);
  return {
    enabled: order.length,
    checked: results.map(({ id, result, health }) => ({
      id,
      ok: result.ok,
      generation: health.generation,
      down: health.down,
      reason: result.ok ? null : result.reason,
    })),
    next,
  };
}
