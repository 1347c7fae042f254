import type { ClientLocation } from "../../../src/mirrors/select";
import type { CrawlState, Mirror, MirrorHealth, MirrorTable } from "../../../src/mirrors/types";

/** A public, enabled mirror in Germany with no netblocks or ASNs; tests override what they need. */
export function mirror(id: string, fields: Partial<Mirror> = {}): Mirror {
  return {
    id,
    baseUrl: `https://${id}.example.net/tree`,
    country: "DE",
    continent: "EU",
    asns: [],
    netblocks: [],
    bandwidth: 100,
    private: false,
    enabled: true,
    ...fields,
  };
}

export function health(generation: number, fields: Partial<MirrorHealth> = {}): MirrorHealth {
  return {
    generation,
    down: false,
    consecutiveFailures: 0,
    lastSuccess: "2026-11-27T00:00:00Z",
    lastFailure: null,
    lastFailureReason: null,
    responseTime: 10,
    lastChecked: "2026-11-27T00:00:00Z",
    ...fields,
  };
}

export const ORIGIN_URL = "https://origin.example.org/tree";

let tables = 0;

/** A table of `mirrors`, with the origin unless told otherwise; a fresh version each time, as the loader writes. */
export function table(mirrors: Mirror[], origin: MirrorTable["origin"] = { baseUrl: ORIGIN_URL, country: "US" }): MirrorTable {
  return { version: `test-${++tables}`, origin, mirrors };
}

/** Crawl state in which every listed mirror is healthy at `generation`. */
export function crawledAt(mirrors: Mirror[], generation: number): CrawlState {
  return Object.fromEntries(mirrors.map((m) => [m.id, health(generation)]));
}

export function client(fields: Partial<ClientLocation> = {}): ClientLocation {
  return { ip: "198.51.100.7", country: null, continent: null, asn: null, latitude: null, longitude: null, ...fields };
}
