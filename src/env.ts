import type { MirrorStore } from "./store/mirror-store";
import type { RegistryStore } from "./store/registry-store";
import type { Settings } from "./config";
import type { Failover } from "./mirrors/failover";

/** Bindings and variables declared in wrangler.toml. */
export interface Env {
  REGISTRY: KVNamespace;
  /** "production" (the default) or "development", which enables the dev-only settings; any other value is an error. */
  FRONTDOOR_ENV?: string;
  /** Most mirrors listed in a metalink or in `Link: rel=duplicate` headers (default 10). */
  MIRROR_LIST_CAP?: string;
  /** Development only: JSON default for the client's location, e.g. `{"country":"DE","continent":"EU"}`; ignored in production. */
  DEV_CLIENT_LOCATION?: string;
  /** "on" (the default), "isolate" or "off": where blob GETs remember what each client was given, to walk its ranked list on retries. */
  RETRY_MEMORY?: string;
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
}

/** Values one request's handlers share, set by the app's middleware. */
export interface Variables {
  settings: Settings;
  registry: RegistryStore;
  mirrors: MirrorStore;
  /** The isolate's retry memory and retry signal, created once with the app. */
  failover: Failover;
  /** Facts for the request's log line. */
  logDigest?: string;
  logMirror?: string;
}

export type AppEnv = { Bindings: Env; Variables: Variables };
