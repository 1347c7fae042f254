import type { Env } from "../env";
import type { SqlApiSettings } from "./analytics-engine";

export type DownloadStatsMode = "analytics-engine" | "memory" | "off";
const MODES: ReadonlySet<string> = new Set<DownloadStatsMode>(["analytics-engine", "memory", "off"]);

/** The dataset wrangler.toml binds to `STATS`, unless `STATS_DATASET` names another. */
export const DEFAULT_DATASET = "frontdoor_downloads";

export interface DownloadStatsSettings {
  mode: DownloadStatsMode;
  /** How to read the Analytics Engine back; null without an account id and token. */
  api: SqlApiSettings | null;
}

/**
 * Reads `DOWNLOAD_STATS` (docs/operations.md): `analytics-engine` by
 * default when the `STATS` binding exists, else `off`; `memory` counts in
 * the isolate (local stack, tests). An invalid value, or
 * `analytics-engine` without the binding, fails loudly.
 */
export function downloadStatsSettings(env: Env): DownloadStatsSettings {
  const value = env.DOWNLOAD_STATS;
  const mode = value === undefined || value === "" ? (env.STATS === undefined ? "off" : "analytics-engine") : value;
  if (!MODES.has(mode)) throw new Error(`DOWNLOAD_STATS must be "analytics-engine", "memory" or "off", got ${JSON.stringify(value)}`);
  if (mode === "analytics-engine" && env.STATS === undefined) throw new Error('DOWNLOAD_STATS is "analytics-engine" but no STATS binding is declared ([[analytics_engine_datasets]] in wrangler.toml)');
  const accountId = env.STATS_ACCOUNT_ID ?? "";
  const token = env.STATS_API_TOKEN ?? "";
  const api = mode === "analytics-engine" && accountId !== "" && token !== "" ? { accountId, token, dataset: env.STATS_DATASET || DEFAULT_DATASET } : null;
  return { mode: mode as DownloadStatsMode, api };
}
