/**
 * Retries are also a signal: a mirror that clients keep coming back from is
 * probably failing between the crawler's checks. Each isolate counts come-backs
 * per mirror and, past a threshold, reports the mirror so the crawler checks it
 * ahead of its turn (KV `crawl:suspect:<id>`, docs/crawler.md). A report is
 * written at most once per mirror per isolate per period: never a KV write per request.
 */

/** Come-backs from one mirror within one period that make it a suspect. */
export const SUSPECT_THRESHOLD = 3;
/** Length of a counting period, and the least time between two reports of one mirror from one isolate. */
export const SUSPECT_PERIOD_MS = 5 * 60 * 1000;
/** Most mirrors one isolate counts at once; the least recently counted is forgotten first. */
export const SUSPECT_TRACKED = 1024;

/** The value of `crawl:suspect:<mirror id>`. */
export interface SuspectReport {
  mirror: string;
  /** RFC 3339 start of the counting period. */
  since: string;
  /** Come-backs counted in it. */
  retries: number;
}

interface Count {
  since: number;
  retries: number;
  reportedAt: number | null;
}

export class RetrySignal {
  private readonly counts = new Map<string, Count>();

  constructor(
    readonly threshold = SUSPECT_THRESHOLD,
    readonly periodMs = SUSPECT_PERIOD_MS,
  ) {}

  /**
   * Counts one ask that came back from `mirror` (an id from the loaded table) at
   * `now`; the report to write when this crosses the threshold and the mirror was
   * not reported from this isolate in the last period, else null.
   */
  comeBack(mirror: string, now: number): SuspectReport | null {
    let count = this.counts.get(mirror);
    if (count === undefined || now - count.since >= this.periodMs) {
      count = { since: now, retries: 0, reportedAt: count?.reportedAt ?? null };
    }
    this.counts.delete(mirror);
    this.counts.set(mirror, count);
    while (this.counts.size > SUSPECT_TRACKED) this.counts.delete(this.counts.keys().next().value as string);
    count.retries++;
    if (count.retries < this.threshold) return null;
    if (count.reportedAt !== null && now - count.reportedAt < this.periodMs) return null;
    count.reportedAt = now;
    return { mirror, since: new Date(count.since).toISOString(), retries: count.retries };
  }
}
