import { env } from "cloudflare:workers";
import type { ClientLocation } from "../../../src/mirrors/select";
import type { CrawlState, Mirror, MirrorHealth, MirrorTable } from "../../../src/mirrors/types";
import { crawlStateEntry, mirrorsEntry, putEntry } from "../../../src/store/encode";

export const ORIGIN_URL = "https://origin.example.org/tree";

/** A public, enabled mirror in Germany at `http://<id>.mirror.test/tree`, with no netblocks or ASNs; tests override what they need. */
export function mirror(id: string, overrides: Partial<Mirror> = {}): Mirror {
  return {
    id,
    baseUrl: `http://${id}.mirror.test/tree`,
    country: "DE",
    continent: "EU",
    asns: [],
    netblocks: [],
    bandwidth: 100,
    private: false,
    enabled: true,
    ...overrides,
  };
}

/** Health of a mirror that the crawler found current at `generation`. */
export function healthy(generation: number, overrides: Partial<MirrorHealth> = {}): MirrorHealth {
  return {
    generation,
    down: false,
    consecutiveFailures: 0,
    lastSuccess: "2026-11-27T00:00:00Z",
    lastFailure: null,
    lastFailureReason: null,
    responseTime: 10,
    lastChecked: "2026-11-27T00:00:00Z",
    ...overrides,
  };
}

/** Crawl state in which every listed mirror is healthy at `generation`. */
export function crawledAt(mirrors: Mirror[], generation: number): CrawlState {
  return Object.fromEntries(mirrors.map((m) => [m.id, healthy(generation)]));
}

let tables = 0;

/** A table of `mirrors`, with the origin unless told otherwise; a fresh version each time, as the loader writes. */
export function table(mirrors: Mirror[], origin: MirrorTable["origin"] = { baseUrl: ORIGIN_URL, country: "US" }): MirrorTable {
  return { version: `test-${++tables}`, origin, mirrors };
}

/** A client with an address and nothing else known; tests add what `request.cf` would report. */
export function client(fields: Partial<ClientLocation> = {}): ClientLocation {
  return { ip: "198.51.100.7", country: null, continent: null, asn: null, latitude: null, longitude: null, ...fields };
}

/** Stores the operator's mirror table only, under a fresh version, as `frontdoor mirrors load` does: crawl keys are left alone. */
export async function loadMirrorTable(mirrors: Mirror[], origin: MirrorTable["origin"] = null): Promise<void> {
  await putEntry(env.REGISTRY, mirrorsEntry({ version: crypto.randomUUID(), origin, mirrors }));
}

/** Stores a mirror table and crawl state, each under a fresh version, as the CLI and the crawler do. */
export async function seedMirrors(table: Omit<MirrorTable, "version">, crawl: CrawlState = {}): Promise<void> {
  await loadMirrorTable(table.mirrors, table.origin);
  await putEntry(env.REGISTRY, crawlStateEntry(crawl));
}
