import type { CrawlSettings } from "./crawl/settings";
import type { Env } from "./env";
import { parseFrontDoorHosts } from "./mirrors/choice";
import { parseDevClient, type ClientOverride } from "./mirrors/client";

export interface Settings {
  production: boolean;
  mirrorListCap: number;
  /** Dev-only default client location (`DEV_CLIENT_LOCATION`); null in production, where no override applies. */
  devClient: ClientOverride | null;
  /**
   * Whether blob GETs walk the client's ranked list on retries (`RETRY_MEMORY`; docs/selection.md): "on" (the
   * default) remembers in the isolate and the location's Workers Cache, "isolate" in the isolate only, "off" not at all.
   */
  retryMemory: RetryMemoryMode;
  /** The front door's own host names (`FRONTDOOR_HOSTS`): `<choice>.<host>` pins or avoids mirrors; empty: no choices are read. */
  frontDoorHosts: string[];
  /**
   * How long the isolate answers from its own copies of the mirror table, the
   * crawl state, tags and the publication before asking KV again
   * (`ISOLATE_CACHE_MS`, default 5000; 0 asks KV on every request).
   * Records addressed by digest are held for a minute, or this long if longer.
   */
  isolateCacheMs: number;
  /**
   * Which requests get a line of the request log (`REQUEST_LOG`): "all", "errors" (5xx answers) or "off".
   * By default "errors" in production, where the platform's invocation logs already record every request,
   * and "all" in development.
   */
  requestLog: RequestLogMode;
}

export type RequestLogMode = "all" | "errors" | "off";
const REQUEST_LOG_MODES: ReadonlySet<string> = new Set<RequestLogMode>(["all", "errors", "off"]);

export type RetryMemoryMode = "on" | "isolate" | "off";
const RETRY_MEMORY_MODES: ReadonlySet<string> = new Set<RetryMemoryMode>(["on", "isolate", "off"]);

/** Defaults of the worker's variables, used when wrangler.toml leaves one unset (README.md and docs/crawler.md describe them). */
export const DEFAULT_MIRROR_LIST_CAP = 10;
export const DEFAULT_ISOLATE_CACHE_MS = 5000;
/** A longer hold would let an isolate serve a moved tag, or a changed mirror table, for minutes. */
export const MAX_ISOLATE_CACHE_MS = 60_000;

export const CRAWL_DEFAULTS: CrawlSettings = Object.freeze({
  batchSize: 12,
  subrequestLimit: 50,
  blobChecks: 3,
  timeoutMs: 5000,
  failuresBeforeDown: 3,
  failureWindow: 5,
  passesBeforeUp: 3,
  maxBadBlobs: 8,
  hashBytesPerRun: 4 * 1024 * 1024,
  minBytesPerSecond: 64 * 1024,
});

/** Reads an optional positive-integer variable; anything else fails loudly. */
export function parsePositiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === "") return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return number;
}

/** Reads an optional integer variable from 0 to `maximum`; anything else fails loudly. */
export function parseBoundedInteger(name: string, value: string | undefined, fallback: number, maximum: number): number {
  if (value === undefined || value === "") return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0 || number > maximum) throw new Error(`${name} must be an integer from 0 to ${maximum}, got ${JSON.stringify(value)}`);
  return number;
}

/** Reads `RETRY_MEMORY`: "on" when unset; a value outside the three modes fails loudly. */
export function parseRetryMemory(value: string | undefined): RetryMemoryMode {
  if (value === undefined || value === "") return "on";
  if (RETRY_MEMORY_MODES.has(value)) return value as RetryMemoryMode;
  throw new Error(`RETRY_MEMORY must be "on", "isolate" or "off", got ${JSON.stringify(value)}`);
}

/** Reads `REQUEST_LOG`: "errors" in production and "all" in development when unset; any other value fails loudly. */
export function parseRequestLog(value: string | undefined, production: boolean): RequestLogMode {
  if (value === undefined || value === "") return production ? "errors" : "all";
  if (REQUEST_LOG_MODES.has(value)) return value as RequestLogMode;
  throw new Error(`REQUEST_LOG must be "all", "errors" or "off", got ${JSON.stringify(value)}`);
}

/**
 * Parses the request handlers' variables; an invalid value fails loudly.
 * The composition root (src/services.ts) calls it once per environment object.
 */
export function settingsFrom(env: Env): Settings {
  if (env.FRONTDOOR_ENV !== undefined && env.FRONTDOOR_ENV !== "production" && env.FRONTDOOR_ENV !== "development") {
    throw new Error(`FRONTDOOR_ENV must be "production" or "development", got ${JSON.stringify(env.FRONTDOOR_ENV)}`);
  }
  const production = env.FRONTDOOR_ENV !== "development";
  return {
    production,
    mirrorListCap: parsePositiveInteger("MIRROR_LIST_CAP", env.MIRROR_LIST_CAP, DEFAULT_MIRROR_LIST_CAP),
    devClient: env.FRONTDOOR_ENV === "development" ? parseDevClient(env.DEV_CLIENT_LOCATION) : null,
    retryMemory: parseRetryMemory(env.RETRY_MEMORY),
    frontDoorHosts: parseFrontDoorHosts(env.FRONTDOOR_HOSTS),
    isolateCacheMs: parseBoundedInteger("ISOLATE_CACHE_MS", env.ISOLATE_CACHE_MS, DEFAULT_ISOLATE_CACHE_MS, MAX_ISOLATE_CACHE_MS),
    requestLog: parseRequestLog(env.REQUEST_LOG, production),
  };
}
