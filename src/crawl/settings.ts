import { CRAWL_DEFAULTS, parsePositiveInteger } from "../config";
import type { Env } from "../env";

/** How the scheduled crawler paces itself; docs/crawler.md explains each number. */
export interface CrawlSettings {
  /** Most mirrors checked by one invocation, before the subrequest limit is applied. */
  batchSize: number;
  /** Subrequests one invocation may make: 50 on the Workers Free plan, 1000 on Paid. */
  subrequestLimit: number;
  /** Blobs of the marker's generation sent a HEAD per mirror. */
  sampleSize: number;
  /** Deadline of each request to a mirror, in milliseconds. */
  timeoutMs: number;
  /** Consecutive failed checks after which a mirror is down. */
  failuresBeforeDown: number;
}

/** Parses the crawler's variables; an invalid value fails the invocation loudly. */
export function crawlSettingsFrom(env: Env): CrawlSettings {
  const settings = {
    batchSize: parsePositiveInteger("CRAWL_BATCH_SIZE", env.CRAWL_BATCH_SIZE, CRAWL_DEFAULTS.batchSize),
    subrequestLimit: parsePositiveInteger("CRAWL_SUBREQUEST_LIMIT", env.CRAWL_SUBREQUEST_LIMIT, CRAWL_DEFAULTS.subrequestLimit),
    sampleSize: parsePositiveInteger("CRAWL_SAMPLE_SIZE", env.CRAWL_SAMPLE_SIZE, CRAWL_DEFAULTS.sampleSize),
    timeoutMs: parsePositiveInteger("CRAWL_TIMEOUT_MS", env.CRAWL_TIMEOUT_MS, CRAWL_DEFAULTS.timeoutMs),
    failuresBeforeDown: parsePositiveInteger("CRAWL_FAILURES_BEFORE_DOWN", env.CRAWL_FAILURES_BEFORE_DOWN, CRAWL_DEFAULTS.failuresBeforeDown),
  };
  if (subrequestsPerMirror(settings) > settings.subrequestLimit) {
    throw new Error(`CRAWL_SAMPLE_SIZE (${settings.sampleSize}) plus the marker exceeds CRAWL_SUBREQUEST_LIMIT (${settings.subrequestLimit})`);
  }
  return settings;
}

/** Subrequests one mirror's check costs at most: the marker, then one HEAD per sampled blob. */
export function subrequestsPerMirror(settings: CrawlSettings): number {
  return 1 + settings.sampleSize;
}

/**
 * Mirrors one invocation may check so that its fetches stay within the
 * Workers subrequest limit (KV operations have their own, separate limit).
 */
export function effectiveBatchSize(settings: CrawlSettings): number {
  return Math.min(settings.batchSize, Math.floor(settings.subrequestLimit / subrequestsPerMirror(settings)));
}
