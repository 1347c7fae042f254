import { CRAWL_DEFAULTS, parsePositiveInteger } from "../config";
import type { Env } from "../env";

/** How the scheduled crawler paces and judges; docs/crawler.md explains each number. */
export interface CrawlSettings {
  /** Most mirrors checked by one invocation, before the subrequest limit is applied. */
  batchSize: number;
  /** Subrequests one invocation may make: 50 on the Workers Free plan, 1000 on Paid. */
  subrequestLimit: number;
  /** Blob paths checked per mirror per invocation (each one GET). */
  blobChecks: number;
  /** Deadline of each request to a mirror until its answer's headers, in milliseconds. */
  timeoutMs: number;
  /** Failed checks among the last `failureWindow` after which a mirror is down (k of n). */
  failuresBeforeDown: number;
  /** Checks the down rule looks back over (n of k of n). */
  failureWindow: number;
  /** Passing checks in a row a down mirror needs to come back. */
  passesBeforeUp: number;
  /** Excluded blob paths a mirror may have before it is down for everything. */
  maxBadBlobs: number;
  /** Bytes of large blobs one invocation downloads whole and hashes. */
  hashBytesPerRun: number;
  /** Slowest transfer rate of a blob body, in bytes per second, once it has taken longer than `RATE_GRACE_MS`. */
  minBytesPerSecond: number;
}

/** Blobs up to this size (manifests, configs, signature payloads) are fetched whole and their digest checked. */
export const SMALL_BLOB_BYTES = 256 * 1024;

/** A larger blob not hashed whole is probed with `Range: bytes=0-<RANGE_PROBE_BYTES - 1>`. */
export const RANGE_PROBE_BYTES = 64 * 1024;

/** A body is judged by its rate only once reading it took longer than this. */
export const RATE_GRACE_MS = 1000;

/** Checks kept per mirror for `/mirrors/<id>`. */
export const RECENT_CHECKS = 10;

/** Parses the crawler's variables; an invalid value fails the invocation loudly. */
export function crawlSettingsFrom(env: Env): CrawlSettings {
  const settings = {
    batchSize: parsePositiveInteger("CRAWL_BATCH_SIZE", env.CRAWL_BATCH_SIZE, CRAWL_DEFAULTS.batchSize),
    subrequestLimit: parsePositiveInteger("CRAWL_SUBREQUEST_LIMIT", env.CRAWL_SUBREQUEST_LIMIT, CRAWL_DEFAULTS.subrequestLimit),
    blobChecks: parsePositiveInteger("CRAWL_BLOB_CHECKS", env.CRAWL_BLOB_CHECKS, CRAWL_DEFAULTS.blobChecks),
    timeoutMs: parsePositiveInteger("CRAWL_TIMEOUT_MS", env.CRAWL_TIMEOUT_MS, CRAWL_DEFAULTS.timeoutMs),
    failuresBeforeDown: parsePositiveInteger("CRAWL_FAILURES_BEFORE_DOWN", env.CRAWL_FAILURES_BEFORE_DOWN, CRAWL_DEFAULTS.failuresBeforeDown),
    failureWindow: parsePositiveInteger("CRAWL_FAILURE_WINDOW", env.CRAWL_FAILURE_WINDOW, CRAWL_DEFAULTS.failureWindow),
    passesBeforeUp: parsePositiveInteger("CRAWL_PASSES_BEFORE_UP", env.CRAWL_PASSES_BEFORE_UP, CRAWL_DEFAULTS.passesBeforeUp),
    maxBadBlobs: parsePositiveInteger("CRAWL_MAX_BAD_BLOBS", env.CRAWL_MAX_BAD_BLOBS, CRAWL_DEFAULTS.maxBadBlobs),
    hashBytesPerRun: parsePositiveInteger("CRAWL_HASH_BYTES", env.CRAWL_HASH_BYTES, CRAWL_DEFAULTS.hashBytesPerRun),
    minBytesPerSecond: parsePositiveInteger("CRAWL_MIN_BYTES_PER_SECOND", env.CRAWL_MIN_BYTES_PER_SECOND, CRAWL_DEFAULTS.minBytesPerSecond),
  };
  if (subrequestsPerMirror(settings) > settings.subrequestLimit) {
    throw new Error(`CRAWL_BLOB_CHECKS (${settings.blobChecks}) plus the marker exceeds CRAWL_SUBREQUEST_LIMIT (${settings.subrequestLimit})`);
  }
  if (settings.failuresBeforeDown > settings.failureWindow) {
    throw new Error(`CRAWL_FAILURES_BEFORE_DOWN (${settings.failuresBeforeDown}) exceeds CRAWL_FAILURE_WINDOW (${settings.failureWindow})`);
  }
  return settings;
}

/** Subrequests one mirror's check costs at most: the marker, then one GET per blob path checked. */
export function subrequestsPerMirror(settings: Pick<CrawlSettings, "blobChecks">): number {
  return 1 + settings.blobChecks;
}

/**
 * Mirrors one invocation may check so that its fetches stay within the
 * Workers subrequest limit (KV operations have their own, separate limit).
 */
export function effectiveBatchSize(settings: Pick<CrawlSettings, "batchSize" | "subrequestLimit" | "blobChecks">): number {
  return Math.min(settings.batchSize, Math.floor(settings.subrequestLimit / subrequestsPerMirror(settings)));
}
