import type { MirrorStore } from "./store/mirror-store";
import type { RegistryStore } from "./store/registry-store";
import type { SignatureStore } from "./store/signature-store";
import type { StatusCache } from "./render/status-cache";
import type { Settings } from "./config";
import type { ClientLocation } from "./mirrors/select";
import type { Failover } from "./mirrors/failover";
import type { DownloadStats } from "./stats/download-stats";

/**
 * The variables the worker reads, each optional with its default: wrangler.toml sets some in `[vars]`,
 * the others come from the dashboard, `--var` or `.dev.vars`.
 */
export interface FrontdoorVars {
  /** "production" (the default) or "development", which enables the dev-only settings; any other value is an error. */
  FRONTDOOR_ENV?: string;
  /** Most mirrors listed in a metalink or in `Link: rel=duplicate` headers (default 10). */
  MIRROR_LIST_CAP?: string;
  /** Development only: JSON default for the client's location, e.g. `{"country":"DE","continent":"EU"}`; ignored in production. */
  DEV_CLIENT_LOCATION?: string;
  /** "on" (the default), "isolate" or "off": where blob GETs remember what each client was given, to walk its ranked list on retries. */
  RETRY_MEMORY?: string;
  /** "all", "errors" (5xx answers) or "off": which requests get a request log line; "errors" in production and "all" in development by default. */
  REQUEST_LOG?: string;
  /** Comma-separated host names of the front door; a host name below one of them carries a client's pin or avoid choice (docs/selection.md). */
  FRONTDOOR_HOSTS?: string;
  /** Milliseconds the isolate answers from its own copies of the mirror table, crawl state, tags and publication (default 5000; 0: never). */
  ISOLATE_CACHE_MS?: string;
  /** Crawler settings, all positive integers; docs/crawler.md gives their defaults. */
  CRAWL_BATCH_SIZE?: string;
  CRAWL_SUBREQUEST_LIMIT?: string;
  CRAWL_BLOB_CHECKS?: string;
  CRAWL_TIMEOUT_MS?: string;
  CRAWL_FAILURES_BEFORE_DOWN?: string;
  CRAWL_FAILURE_WINDOW?: string;
  CRAWL_PASSES_BEFORE_UP?: string;
  CRAWL_MAX_BAD_BLOBS?: string;
  CRAWL_HASH_BYTES?: string;
  CRAWL_MIN_BYTES_PER_SECOND?: string;
  /** Download statistics (docs/operations.md): the Analytics Engine dataset blob redirects are written to. */
  STATS?: AnalyticsEngineDataset;
  /** "analytics-engine" (the default with `STATS`), "memory" (counters in the isolate: local stack, tests) or "off". */
  DOWNLOAD_STATS?: string;
  /** The account whose Analytics Engine SQL API the status page reads the figures from. */
  STATS_ACCOUNT_ID?: string;
  /** Secret: an API token with Account Analytics Read, for that SQL API. */
  STATS_API_TOKEN?: string;
  /** The dataset's name in SQL, if not `frontdoor_downloads`. */
  STATS_DATASET?: string;
}

/**
 * Bindings and variables: `Cloudflare.Env` as `npm run types` (`wrangler types`) generates it from
 * wrangler.toml into worker-configuration.d.ts (the `REGISTRY` KV namespace and the `[vars]`), with
 * every variable read as the optional, documented setting of `FrontdoorVars`.
 */
export interface Env extends Omit<Cloudflare.Env, keyof FrontdoorVars>, FrontdoorVars {}

/** Values one request's handlers share, set by the app's middleware. */
export interface Variables {
  settings: Settings;
  registry: RegistryStore;
  mirrors: MirrorStore;
  /** The isolate's retry memory and retry signal, created once with the app. */
  failover: Failover;
  signatures: SignatureStore;
  statusCache: StatusCache;
  /** Where blob redirects are counted. */
  stats: DownloadStats;
  /** Where the client is, worked out once per request (src/routes/client.ts). */
  client?: ClientLocation;
  /** Facts for the request's log line. */
  logDigest?: string;
  logMirror?: string;
}

export type AppEnv = { Bindings: Env; Variables: Variables };
