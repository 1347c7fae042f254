import { settingsFrom, type Settings } from "./config";
import { crawlSettingsFrom, type CrawlSettings } from "./crawl/settings";
import type { Env } from "./env";
import { MirrorStore } from "./store/mirror-store";
import { RecordCache } from "./store/record-cache";
import { recordFreshness, RegistryStore } from "./store/registry-store";
import { SignatureStore } from "./store/signature-store";
import { StatusCache } from "./render/status-cache";
import { VersionedCache } from "./store/versioned-cache";
import { createFailover, type Failover } from "./mirrors/failover";
import { AnalyticsEngineStats } from "./stats/analytics-engine";
import { NO_STATS, type DownloadStats } from "./stats/download-stats";
import { MemoryDownloadStats } from "./stats/memory-stats";
import { downloadStatsSettings } from "./stats/stats-settings";

/** What the request handlers work with, built from the bindings and variables. */
export interface Services {
  settings: Settings;
  registry: RegistryStore;
  mirrors: MirrorStore;
  signatures: SignatureStore;
  /** The status routes' renderings and lookups, kept between requests of the isolate. */
  statusCache: StatusCache;
  /** Where blob redirects are counted and the status page reads the figures. */
  stats: DownloadStats;
}

/**
 * The composition root, shared by the fetch middleware and the scheduled
 * handler: it parses the variables and builds the stores once per
 * environment object (workerd hands every invocation of an isolate the same
 * one), over the isolate's caches: versioned values (the mirror table and
 * crawl state, two entries) and published records (bounded by
 * `RECORD_CACHE_LIMITS`). src/index.ts makes one per isolate; tests make
 * their own, with their own caches.
 */
export class CompositionRoot {
  private readonly services = new WeakMap<Env, Services>();
  private readonly crawlSettings = new WeakMap<Env, CrawlSettings>();
  private memoryStats: MemoryDownloadStats | null = null;

  private readonly statusCache = new StatusCache();

  constructor(
    readonly cache: VersionedCache = new VersionedCache(),
    readonly records: RecordCache = new RecordCache(),
    /** The isolate's retry memory and retry signal (docs/selection.md, "Retries and resumes"). */
    readonly failover: Failover = createFailover(),
  ) {}

  /** Settings and stores for the routes; an invalid variable fails every request loudly. */
  servicesFor(env: Env): Services {
    let services = this.services.get(env);
    if (services === undefined) {
      const settings = settingsFrom(env);
      services = {
        settings,
        registry: new RegistryStore(env.REGISTRY, this.records, recordFreshness(settings.isolateCacheMs)),
        mirrors: new MirrorStore(env.REGISTRY, this.cache, settings.isolateCacheMs),
        signatures: new SignatureStore(env.REGISTRY),
        statusCache: this.statusCache,
        stats: this.statsFor(env),
      };
      this.services.set(env, services);
    }
    return services;
  }

  /** The download counters: the isolate's own for `memory`, so every request of the isolate adds to one set. */
  private statsFor(env: Env): DownloadStats {
    const { mode, api } = downloadStatsSettings(env);
    if (mode === "memory") return (this.memoryStats ??= new MemoryDownloadStats());
    if (mode === "analytics-engine" && env.STATS !== undefined) return new AnalyticsEngineStats(env.STATS, api);
    return NO_STATS;
  }

  /** The crawler's settings, parsed apart so that a bad crawler variable fails the crawl, not the registry. */
  crawlSettingsFor(env: Env): CrawlSettings {
    let settings = this.crawlSettings.get(env);
    if (settings === undefined) {
      settings = crawlSettingsFrom(env);
      this.crawlSettings.set(env, settings);
    }
    return settings;
  }
}
