import { summariseRows, type DownloadEvent, type DownloadRow, type DownloadStats, type DownloadSummary } from "./download-stats";

/** Analytics Engine dataset names, as they go into SQL: letters, digits and `_`. */
const DATASET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** How long an isolate reuses the figures it read, so the status page costs at most one query a minute per isolate. */
export const SUMMARY_TTL_MS = 60_000;

/** Where and how to read the dataset back: the account's Analytics Engine SQL API. */
export interface SqlApiSettings {
  accountId: string;
  /** An API token with the Account Analytics Read permission (`STATS_API_TOKEN`, a secret). */
  token: string;
  dataset: string;
  /** Default `https://api.cloudflare.com/client/v4`; tests point it at a local server. */
  apiBase?: string;
}

/**
 * The data point of one blob redirect: blob1 mirror id, blob2 client
 * country ("" unknown), blob3 content set ("" none yet); double1 1 (one
 * redirect), double2 bytes; index1 the mirror id, the sampling key.
 */
export function dataPoint(event: DownloadEvent): AnalyticsEngineDataPoint {
  return { blobs: [event.mirror, event.country ?? "", event.set ?? ""], doubles: [1, event.bytes], indexes: [event.mirror] };
}

/**
 * One query for both windows, over the last day grouped by (mirror,
 * country, set); the hour's sums count only the last hour's rows. Sums are
 * weighted by `_sample_interval`, as Analytics Engine samples at high rates.
 */
export function summaryQuery(dataset: string): string {
  if (!DATASET_NAME.test(dataset)) throw new Error(`STATS_DATASET must be letters, digits and _, got ${JSON.stringify(dataset)}`);
  const inHour = "timestamp > NOW() - INTERVAL '1' HOUR";
  return [
    "SELECT blob1 AS mirror, blob2 AS country, blob3 AS content_set,",
    `SUM(IF(${inHour}, _sample_interval * double1, 0)) AS hour_redirects,`,
    `SUM(IF(${inHour}, _sample_interval * double2, 0)) AS hour_bytes,`,
    "SUM(_sample_interval * double1) AS day_redirects,",
    "SUM(_sample_interval * double2) AS day_bytes",
    `FROM ${dataset}`,
    "WHERE timestamp > NOW() - INTERVAL '1' DAY",
    "GROUP BY mirror, country, content_set",
    "FORMAT JSON",
  ].join(" ");
}

function count(value: unknown): number {
  const number = typeof value === "string" ? Number(value) : value;
  return typeof number === "number" && Number.isFinite(number) && number >= 0 ? Math.round(number) : 0;
}

function text(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value.slice(0, 64) : null;
}

/** The SQL API's `FORMAT JSON` answer (`{data: [...]}`) as the two windows' summaries. */
export function parseSummary(body: unknown, asOf: Date): DownloadSummary {
  const data = typeof body === "object" && body !== null && Array.isArray((body as { data?: unknown }).data) ? (body as { data: unknown[] }).data : null;
  if (data === null) throw new Error("the Analytics Engine SQL API answered without a data array");
  const hour: DownloadRow[] = [];
  const day: DownloadRow[] = [];
  for (const entry of data) {
    if (typeof entry !== "object" || entry === null) continue;
    const row = entry as Record<string, unknown>;
    const mirror = text(row.mirror);
    if (mirror === null) continue;
    const key = { mirror, country: text(row.country), set: text(row.content_set) };
    if (count(row.hour_redirects) > 0) hour.push({ ...key, redirects: count(row.hour_redirects), bytes: count(row.hour_bytes) });
    day.push({ ...key, redirects: count(row.day_redirects), bytes: count(row.day_bytes) });
  }
  return { source: "analytics-engine", asOf: asOf.toISOString(), hour: summariseRows(hour), day: summariseRows(day) };
}

/**
 * Workers Analytics Engine (`DOWNLOAD_STATS=analytics-engine`, binding
 * `STATS`): one `writeDataPoint` per redirect, which the runtime sends
 * after the response, never a KV write. Reading back goes through the SQL
 * API, which needs an account token and is outside the worker's bindings;
 * without `STATS_ACCOUNT_ID` and `STATS_API_TOKEN` the figures are only
 * written, and the status page says so. A read is reused for
 * `SUMMARY_TTL_MS` by this isolate; a failed read counts as none.
 */
export class AnalyticsEngineStats implements DownloadStats {
  private cached: { at: number; summary: Promise<DownloadSummary | null> } | null = null;

  constructor(
    private readonly dataset: AnalyticsEngineDataset,
    private readonly api: SqlApiSettings | null,
    private readonly fetcher: typeof fetch = (input, init) => fetch(input, init),
  ) {
    if (api !== null) summaryQuery(api.dataset);
  }

  record(event: DownloadEvent): void {
    this.dataset.writeDataPoint(dataPoint(event));
  }

  summary(now: number): Promise<DownloadSummary | null> {
    if (this.api === null) return Promise.resolve(null);
    if (this.cached === null || now - this.cached.at >= SUMMARY_TTL_MS) this.cached = { at: now, summary: this.query(this.api, now) };
    return this.cached.summary;
  }

  private async query(api: SqlApiSettings, now: number): Promise<DownloadSummary | null> {
    try {
      const response = await this.fetcher(`${api.apiBase ?? "https://api.cloudflare.com/client/v4"}/accounts/${encodeURIComponent(api.accountId)}/analytics_engine/sql`, {
        method: "POST",
        headers: { Authorization: `Bearer ${api.token}`, "Content-Type": "text/plain" },
        body: summaryQuery(api.dataset),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}: ${(await response.text()).slice(0, 200)}`);
      return parseSummary(await response.json(), new Date(now));
    } catch (error) {
      console.error(JSON.stringify({ downloadStats: "Analytics Engine SQL read failed", error: error instanceof Error ? error.message : String(error) }));
      return null;
    }
  }
}
