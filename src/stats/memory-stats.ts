import { summariseRows, type DownloadEvent, type DownloadRow, type DownloadStats, type DownloadSummary } from "./download-stats";

const MINUTE_MS = 60_000;
const HOUR_MINUTES = 60;
const DAY_MINUTES = 24 * 60;

/** Most (mirror, country, set) triples one minute keeps; later ones of that minute are summed under "(other)". */
export const MAX_KEYS_PER_MINUTE = 4096;

/**
 * Download counters kept in the isolate, in one bucket per minute for the
 * last day: the local stack's and the tests' stand-in for Workers Analytics
 * Engine (`DOWNLOAD_STATS=memory`). One isolate sees only its own requests,
 * so in production it would undercount; there the Analytics Engine is used.
 */
export class MemoryDownloadStats implements DownloadStats {
  private readonly minutes = new Map<number, Map<string, DownloadRow>>();
  /** The minute of the latest pruning: buckets are dropped once per minute, not on every redirect. */
  private prunedAt = -Infinity;

  constructor(private readonly clock: () => number = Date.now) {}

  record(event: DownloadEvent): void {
    const minute = Math.floor(this.clock() / MINUTE_MS);
    this.prune(minute);
    let bucket = this.minutes.get(minute);
    if (bucket === undefined) {
      bucket = new Map();
      this.minutes.set(minute, bucket);
    }
    let key = JSON.stringify([event.mirror, event.country, event.set]);
    let row = bucket.get(key);
    if (row === undefined && bucket.size >= MAX_KEYS_PER_MINUTE) {
      key = "(other)";
      row = bucket.get(key);
    }
    if (row === undefined) {
      row = key === "(other)" ? { mirror: "(other)", country: null, set: null, redirects: 0, bytes: 0 } : { mirror: event.mirror, country: event.country, set: event.set, redirects: 0, bytes: 0 };
      bucket.set(key, row);
    }
    row.redirects += 1;
    row.bytes += event.bytes;
  }

  private prune(minute: number): void {
    if (minute === this.prunedAt) return;
    this.prunedAt = minute;
    for (const kept of this.minutes.keys()) if (kept <= minute - DAY_MINUTES) this.minutes.delete(kept);
  }

  private window(now: number, minutes: number): DownloadRow[] {
    const current = Math.floor(now / MINUTE_MS);
    const merged = new Map<string, DownloadRow>();
    for (const [minute, bucket] of this.minutes) {
      if (minute <= current - minutes || minute > current) continue;
      for (const [key, row] of bucket) {
        const sum: DownloadRow = merged.get(key) ?? { ...row, redirects: 0, bytes: 0 };
        sum.redirects += row.redirects;
        sum.bytes += row.bytes;
        merged.set(key, sum);
      }
    }
    return [...merged.values()];
  }

  async summary(now: number): Promise<DownloadSummary> {
    return { source: "memory", asOf: new Date(now).toISOString(), hour: summariseRows(this.window(now, HOUR_MINUTES)), day: summariseRows(this.window(now, DAY_MINUTES)) };
  }
}
