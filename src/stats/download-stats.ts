import type { MirrorTable } from "../mirrors/types";

/** One blob redirect: where it sent the client, from where, and how many bytes the client will fetch there. */
export interface DownloadEvent {
  /** Mirror id, or "origin". */
  mirror: string;
  /** ISO country code of the client, null when unknown. */
  country: string | null;
  /** The content set the blob belongs to; null until content sets exist. */
  set: string | null;
  /** The blob's size, less the bytes a `Range` resume skips. */
  bytes: number;
}

export interface DownloadCounts {
  redirects: number;
  bytes: number;
}

/** One window's totals, by mirror, by country and by set, each largest first. */
export interface WindowSummary extends DownloadCounts {
  mirrors: Array<{ id: string } & DownloadCounts>;
  countries: Array<{ country: string } & DownloadCounts>;
  sets: Array<{ set: string } & DownloadCounts>;
}

/** The download statistics shown on the status page and in `/status.json`. */
export interface DownloadSummary {
  /** Where the figures come from: this isolate's counters, or Workers Analytics Engine. */
  source: "memory" | "analytics-engine";
  /** RFC 3339 time the figures were read. */
  asOf: string;
  hour: WindowSummary;
  day: WindowSummary;
}

/**
 * Where blob redirects are counted (docs/operations.md, "Download
 * statistics"). `record` is called once per blob redirect and must not wait
 * on I/O: no KV write per request.
 */
export interface DownloadStats {
  record(event: DownloadEvent): void;
  /** The last hour's and day's figures as of `now`; null when they cannot be read (not configured). */
  summary(now: number): Promise<DownloadSummary | null>;
}

/** Counts nothing, reads nothing: `DOWNLOAD_STATS=off`. */
export const NO_STATS: DownloadStats = Object.freeze({
  record: () => undefined,
  summary: () => Promise.resolve(null),
});

/** One aggregated row: a (mirror, country, set) triple and its counts. */
export interface DownloadRow extends DownloadCounts {
  mirror: string;
  country: string | null;
  set: string | null;
}

/** Country shown for clients the edge could not place. */
export const UNKNOWN_COUNTRY = "unknown";

function add(groups: Map<string, DownloadCounts>, key: string, row: DownloadCounts): void {
  const group = groups.get(key) ?? { redirects: 0, bytes: 0 };
  group.redirects += row.redirects;
  group.bytes += row.bytes;
  groups.set(key, group);
}

function largestFirst<K extends string>(groups: Map<string, DownloadCounts>, name: K): Array<Record<K, string> & DownloadCounts> {
  return [...groups]
    .map(([key, counts]) => ({ [name]: key, ...counts }) as Record<K, string> & DownloadCounts)
    .sort((a, b) => b.redirects - a.redirects || b.bytes - a.bytes || (a[name] < b[name] ? -1 : 1));
}

/** Totals and groups of one window's rows. */
export function summariseRows(rows: Iterable<DownloadRow>): WindowSummary {
  const mirrors = new Map<string, DownloadCounts>();
  const countries = new Map<string, DownloadCounts>();
  const sets = new Map<string, DownloadCounts>();
  let redirects = 0;
  let bytes = 0;
  for (const row of rows) {
    redirects += row.redirects;
    bytes += row.bytes;
    add(mirrors, row.mirror, row);
    add(countries, row.country ?? UNKNOWN_COUNTRY, row);
    if (row.set !== null) add(sets, row.set, row);
  }
  return { redirects, bytes, mirrors: largestFirst(mirrors, "id"), countries: largestFirst(countries, "country"), sets: largestFirst(sets, "set") };
}

/** Name under which private mirrors' downloads are shown: together, never by id. */
export const PRIVATE_MIRRORS = "(private)";

function publicWindow(window: WindowSummary, hidden: ReadonlySet<string>): WindowSummary {
  const mirrors = new Map<string, DownloadCounts>();
  for (const row of window.mirrors) add(mirrors, hidden.has(row.id) ? PRIVATE_MIRRORS : row.id, row);
  return { ...window, mirrors: largestFirst(mirrors, "id") };
}

/** The figures as the public may see them: private mirrors' counts summed under `PRIVATE_MIRRORS`. */
export function publicSummary(summary: DownloadSummary, table: MirrorTable): DownloadSummary {
  const hidden = new Set(table.mirrors.filter((mirror) => mirror.private).map((mirror) => mirror.id));
  return { ...summary, hour: publicWindow(summary.hour, hidden), day: publicWindow(summary.day, hidden) };
}
