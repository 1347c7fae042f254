import type { Env } from "./env";
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
}

export type RetryMemoryMode = "on" | "isolate" | "off";
const RETRY_MEMORY_MODES: ReadonlySet<string> = new Set<RetryMemoryMode>(["on", "isolate", "off"]);

const DEFAULT_MIRROR_LIST_CAP = 10;
const parsed = new WeakMap<Env, Settings>();

/** Reads an optional positive-integer variable; anything else fails loudly. */
export function parsePositiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === "") return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return number;
}

/** Reads `RETRY_MEMORY`: "on" when unset; a value outside the three modes fails loudly. */
export function parseRetryMemory(value: string | undefined): RetryMemoryMode {
  if (value === undefined || value === "") return "on";
  if (RETRY_MEMORY_MODES.has(value)) return value as RetryMemoryMode;
  throw new Error(`RETRY_MEMORY must be "on", "isolate" or "off", got ${JSON.stringify(value)}`);
}

/** Parses the worker's variables once per environment object; an invalid value fails every request loudly. */
export function settingsFrom(env: Env): Settings {
  let settings = parsed.get(env);
  if (settings === undefined) {
    if (env.FRONTDOOR_ENV !== undefined && env.FRONTDOOR_ENV !== "production" && env.FRONTDOOR_ENV !== "development") {
      throw new Error(`FRONTDOOR_ENV must be "production" or "development", got ${JSON.stringify(env.FRONTDOOR_ENV)}`);
    }
    settings = {
      production: env.FRONTDOOR_ENV !== "development",
      mirrorListCap: parsePositiveInteger("MIRROR_LIST_CAP", env.MIRROR_LIST_CAP, DEFAULT_MIRROR_LIST_CAP),
      devClient: env.FRONTDOOR_ENV === "development" ? parseDevClient(env.DEV_CLIENT_LOCATION) : null,
      retryMemory: parseRetryMemory(env.RETRY_MEMORY),
    };
    parsed.set(env, settings);
  }
  return settings;
}
