import type { SuspectReport } from "../mirrors/retry-signal";
import { keys } from "./keys";

/** Lifetime of a report in KV (`expirationTtl`): long enough for the next crawler runs to see it. */
export const SUSPECT_TTL_SECONDS = 600;

/** Writes the blob route's retry signal, `crawl:suspect:<mirror id>`; the crawler lists the prefix and checks those mirrors first. */
export class SuspectStore {
  constructor(private readonly kv: KVNamespace) {}

  /** One report, gone after SUSPECT_TTL_SECONDS; `report.mirror` is an id from the loaded table, never from the client. */
  async report(report: SuspectReport): Promise<void> {
    const value = JSON.stringify({ since: report.since, retries: report.retries });
    await this.kv.put(keys.crawlSuspect(report.mirror), value, { expirationTtl: SUSPECT_TTL_SECONDS });
  }
}
