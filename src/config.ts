import type { Env } from "./env";
import { parseDevClient, type ClientOverride } from "./mirrors/client";

export interface Settings {
  production: boolean;
  mirrorListCap: number;
  /** Dev-only default client location (`DEV_CLIENT_LOCATION`); null in production, where no override applies. */
  devClient: ClientOverride | null;
  /** Whether blob GETs walk the client's ranked list on retries (`RETRY_MEMORY`, "on" unless "off"; docs/selection.md). */
  retryMemory: boolean;
}

const DEFAULT_MIRROR_LIST_CAP = 10;
const parsed = new WeakMap<Env, Settings>();

/** Reads an optional positive-integer variable; anything else fails loudly. */
export function parsePositiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === "") return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return number;
}

/** Reads an optional "on"/"off" switch; anything else fails loudly. */
export function parseSwitch(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === "") return fallback;
  if (value === "on" || value === "off") return value === "on";
  throw new Error(`${name} must be "on" or "off", got ${JSON.stringify(value)}`);
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
      retryMemory: parseSwitch("RETRY_MEMORY", env.RETRY_MEMORY, true),
    };
    parsed.set(env, settings);
  }
  return settings;
}
