import type { CrawlState, Mirror, MirrorTable } from "./types";

/** Where a client is, as far as the edge can tell. */
export interface ClientLocation {
  ip: string | null;
  country: string | null;
  continent: string | null;
  asn: number | null;
  latitude: number | null;
  longitude: number | null;
}

export type Tier = "netblock" | "asn" | "country" | "continent" | "world" | "origin";
export type ExclusionReason = "disabled" | "down" | "stale" | "private" | "unchecked";

export interface ChosenMirror {
  /** Mirror id, or "origin". */
  id: string;
  baseUrl: string;
  country: string | null;
  tier: Tier;
}

export interface Selection {
  chosen: ChosenMirror[];
  excluded: Array<{ id: string; reason: ExclusionReason }>;
}

export interface SelectionRequest {
  client: ClientLocation;
  /** Generation the requested content was first published in. */
  generation: number;
  repository: string;
  /** Most mirrors to return, the origin not counted. */
  limit: number;
}

function exclusionReason(mirror: Mirror, crawl: CrawlState, generation: number): ExclusionReason | null {
  if (!mirror.enabled) return "disabled";
  if (mirror.private) return "private";
  const health = crawl[mirror.id];
  if (health === undefined || health.generation < 0) return "unchecked";
  if (health.down) return "down";
  if (health.generation < generation) return "stale";
  return null;
}

/** Orders the mirrors that can serve content of `generation` for this client; the origin comes last. */
export function selectMirrors(table: MirrorTable, crawl: CrawlState, request: SelectionRequest): Selection {
  const chosen: ChosenMirror[] = [];
  const excluded: Selection["excluded"] = [];
  for (const mirror of table.mirrors) {
    const reason = exclusionReason(mirror, crawl, request.generation);
    if (reason !== null) excluded.push({ id: mirror.id, reason });
    else if (chosen.length < request.limit) chosen.push({ id: mirror.id, baseUrl: mirror.baseUrl, country: mirror.country, tier: "world" });
  }
  if (table.origin !== null) {
    chosen.push({ id: "origin", baseUrl: table.origin.baseUrl, country: table.origin.country ?? null, tier: "origin" });
  }
  return { chosen, excluded };
}
