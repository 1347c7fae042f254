import type { MirrorStore } from "./store/mirror-store";
import type { RegistryStore } from "./store/registry-store";
import type { SignatureStore } from "./store/signature-store";
import type { Settings } from "./config";

/** Bindings and variables declared in wrangler.toml. */
export interface Env {
  REGISTRY: KVNamespace;
  /** "production" (the default) or "development", which enables the dev-only settings; any other value is an error. */
  FRONTDOOR_ENV?: string;
  /** Most mirrors listed in a metalink or in `Link: rel=duplicate` headers (default 10). */
  MIRROR_LIST_CAP?: string;
  /** Development only: JSON default for the client's location, e.g. `{"country":"DE","continent":"EU"}`; ignored in production. */
  DEV_CLIENT_LOCATION?: string;
  /** Crawler settings, all positive integers; docs/crawler.md gives their defaults. */
  CRAWL_BATCH_SIZE?: string;
  CRAWL_SUBREQUEST_LIMIT?: string;
  CRAWL_SAMPLE_SIZE?: string;
  CRAWL_TIMEOUT_MS?: string;
  CRAWL_FAILURES_BEFORE_DOWN?: string;
}

/** Values one request's handlers share, set by the app's middleware. */
export interface Variables {
  settings: Settings;
  registry: RegistryStore;
  mirrors: MirrorStore;
  signatures: SignatureStore;
  /** Facts for the request's log line. */
  logDigest?: string;
  logMirror?: string;
}

export type AppEnv = { Bindings: Env; Variables: Variables };
