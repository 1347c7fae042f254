import { mapWithConcurrency } from "../../../src/crawl/pool";
import { ByteBudget, checkBlob, ProbeFailure, readMarker, type FetchLimits } from "../../../src/crawl/probe";
import { MAX_CONNECTIONS } from "../../../src/crawl/sweep";
import type { CheckFailure } from "../../../src/mirrors/types";
import { InventoryReader, type JsonKv } from "../../../src/store/inventory-store";
import { keys } from "../../../src/store/keys";
import type { InventoryEntry } from "../../../src/store/records";
import { CliError } from "../cli/error";
import type { KvTarget } from "../kv/kv-target";
import { installDigestStream } from "./digest-stream";

export interface CandidateOptions {
  /** Most blob paths to check, from the oldest inventory entry on; every entry up to the marker's generation by default. */
  blobs?: number;
  /** Bytes of large blobs to download whole and hash; larger ones past it get the Range probe, as in the crawler. */
  hashBytes: number;
  limits: FetchLimits;
  /** Called after each blob check, for progress. */
  onBlob?: (done: number, total: number) => void;
}

/** What the crawler's checks found on a candidate mirror. */
export interface CandidateReport {
  baseUrl: string;
  /** The marker's generation, or why reading it failed. */
  marker: { generation: number; responseTime: number } | { failure: CheckFailure };
  /** The newest publication's generation; null when nothing was published. */
  newest: number | null;
  /** Inventory entries first seen up to the marker's generation (or the newest, when the marker is ahead). */
  total: number;
  checked: number;
  failures: Array<{ entry: InventoryEntry; failure: CheckFailure }>;
  /** The generation the crawler would verify the mirror for once it has checked what was checked here; null when it would not. */
  verifiableFor: number | null;
}

/** A target's values as the inventory reader reads them. */
function jsonReader(target: KvTarget): JsonKv {
  return {
    async get<T>(key: string): Promise<T | null> {
      const text = await target.readText(key);
      return text === null ? null : (JSON.parse(text) as T);
    },
  };
}

/**
 * Checks a mirror that is not in the table yet the way the crawler checks
 * one (docs/crawler.md, "What a check is"): its marker must be the
 * publisher's and name a publication, then every blob path of the newest
 * publication's inventory first seen up to that generation gets one GET with
 * the crawler's own rules (src/crawl/probe.ts). Unlike a crawler run it
 * checks them all in one go and lists every failure.
 */
export async function checkCandidate(baseUrl: string, target: KvTarget, options: CandidateOptions): Promise<CandidateReport> {
  installDigestStream();
  const publication = await target.readPublication();
  if (publication === null) throw new CliError("the namespace holds no publication: publish a tree first, there is nothing to check a mirror against");
  if (publication.inventory === undefined) throw new CliError(`publication ${publication.generation} has no inventory: publish the tree again with this version of frontdoor`);
  const report: CandidateReport = { baseUrl, marker: { generation: 0, responseTime: 0 }, newest: publication.generation, total: 0, checked: 0, failures: [], verifiableFor: null };

  const started = options.limits.now();
  let announced: number;
  try {
    announced = await readMarker(baseUrl, options.limits);
  } catch (error) {
    if (!(error instanceof ProbeFailure)) throw error;
    report.marker = { failure: error.toRecord() };
    return report;
  }
  report.marker = { generation: announced, responseTime: options.limits.now() - started };
  if ((await target.readText(keys.generation(announced))) === null) {
    const url = `${baseUrl}/frontdoor/generation`;
    report.marker = { failure: { url, reason: "bad-marker", detail: `${url} names generation ${announced}, which was never published: ahead of every publication` } };
    return report;
  }

  const through = Math.min(announced, publication.generation);
  const inventory = new InventoryReader(jsonReader(target), publication);
  report.total = inventory.countThrough(through);
  const { entries } = await inventory.after(null, through, options.blobs ?? report.total);
  const hashing = new ByteBudget(options.hashBytes);
  let done = 0;
  const results = await mapWithConcurrency(entries, MAX_CONNECTIONS, async (entry) => {
    let failure: CheckFailure | null = null;
    try {
      await checkBlob(baseUrl, entry, options.limits, hashing);
    } catch (error) {
      if (!(error instanceof ProbeFailure)) throw error;
      failure = error.toRecord();
    }
    options.onBlob?.(++done, entries.length);
    return { entry, failure };
  });
  report.checked = results.length;
  report.failures = results.flatMap(({ entry, failure }) => (failure === null ? [] : [{ entry, failure }]));
  if (report.failures.length === 0 && report.checked === report.total) report.verifiableFor = through;
  return report;
}

/** The report as the CLI prints it. */
export function formatCandidate(report: CandidateReport): string {
  const lines: string[] = [];
  if ("failure" in report.marker) {
    lines.push(`Marker: FAIL ${report.marker.failure.reason}: ${report.marker.failure.detail}`);
    lines.push("The crawler would count this as a failed check; no blob was checked.");
    return lines.join("\n");
  }
  lines.push(`Marker: generation ${report.marker.generation} (${report.marker.responseTime} ms); newest publication: ${report.newest}.`);
  if (report.newest !== null && report.marker.generation < report.newest) lines.push(`The mirror is ${report.newest - report.marker.generation} publication(s) behind: it can only serve content up to generation ${report.marker.generation}.`);
  for (const { entry, failure } of report.failures) lines.push(`FAIL ${failure.reason} ${entry.digest} (generation ${entry.generation}, ${entry.size} bytes): ${failure.detail}`);
  lines.push(`${report.checked - report.failures.length} of ${report.checked} blob paths checked passed (${report.total} first seen up to the marker's generation).`);
  if (report.verifiableFor !== null) lines.push(`OK: the crawler would verify this mirror for generation ${report.verifiableFor}.`);
  else if (report.failures.length === 0) lines.push(`Passed so far; ${report.total - report.checked} blob paths were not checked (--blobs).`);
  else lines.push("Not ready: the crawler would hold this mirror back until these blob paths pass.");
  return lines.join("\n");
}
