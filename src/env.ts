import type { MirrorStore } from "./store/mirror-store";
import type { RegistryStore } from "./store/registry-store";
import type { Settings } from "./config";

/** Bindings and variables declared in wrangler.toml. */
export interface Env {
  REGISTRY: KVNamespace;
  /** "production" or "development"; anything but "production" enables the dev-only settings. */
  FRONTDOOR_ENV?: string;
  /** Most mirrors listed in a metalink or in `Link: rel=duplicate` headers (default 10). */
  MIRROR_LIST_CAP?: string;
}

/** Values one request's handlers share, set by the app's middleware. */
export interface Variables {
  settings: Settings;
  registry: RegistryStore;
  mirrors: MirrorStore;
  /** Facts for the request's log line. */
  logDigest?: string;
  logMirror?: string;
}

export type AppEnv = { Bindings: Env; Variables: Variables };
