/** What the console shows of one mirror after a crawl: a change in any of these is printed. */
interface Seen {
  ok: boolean;
  down: boolean;
  announced: number;
  verified: number;
  reason: string | null;
}

function isCrawlReport(json: Record<string, unknown> | null): json is { crawl: unknown; checked: unknown[] } {
  return json !== null && "crawl" in json && Array.isArray(json.checked);
}

function describe(id: string, now: Seen): string {
  const state = now.down ? "down" : now.ok ? "passing" : `failing (${now.reason ?? "held"})`;
  return `${id} ${state}, verified ${now.verified < 0 ? "none" : now.verified}, announced ${now.announced < 0 ? "none" : now.announced}`;
}

/**
 * Turns the crawler's per-run JSON lines (src/crawl/scheduled.ts) into
 * console lines about what changed: the local stack crawls every 5 seconds,
 * and one line per sweep would bury the request log. The first report, and
 * each mirror whose outcome, state or generations changed, is printed.
 */
export class CrawlChanges {
  private readonly seen = new Map<string, Seen>();

  /** The line to print for a worker log line: null for a crawl report with nothing new; the line itself when it is no crawl report. */
  line(json: Record<string, unknown> | null, message: string): string | null {
    if (!isCrawlReport(json)) return message;
    const changes: string[] = [];
    for (const entry of json.checked) {
      if (typeof entry !== "object" || entry === null) continue;
      const { id, ok, down, announced, verified, reason } = entry as Record<string, unknown>;
      if (typeof id !== "string") continue;
      const now: Seen = { ok: ok === true, down: down === true, announced: Number(announced), verified: Number(verified), reason: typeof reason === "string" ? reason : null };
      const before = this.seen.get(id);
      this.seen.set(id, now);
      if (before === undefined || before.ok !== now.ok || before.down !== now.down || before.announced !== now.announced || before.verified !== now.verified || before.reason !== now.reason) {
        changes.push(describe(id, now));
      }
    }
    return changes.length === 0 ? null : `crawler: ${changes.join("; ")}`;
  }
}
