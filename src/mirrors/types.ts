/** One mirror as the operator declared it (`mirrors.toml`, loaded into KV key `mirrors`). */
export interface Mirror {
  id: string;
  /** Absolute http(s) URL of the mirror's copy of the tree, without a trailing slash. */
  baseUrl: string;
  /** ISO 3166-1 alpha-2, upper case. */
  country: string;
  /** Two-letter continent code as in `request.cf.continent` (AF, AN, AS, EU, NA, OC, SA). */
  continent: string;
  latitude?: number;
  longitude?: number;
  asns: number[];
  /** IPv4 and IPv6 CIDR blocks. */
  netblocks: string[];
  /** Relative bandwidth weight, > 0. */
  bandwidth: number;
  /** A private mirror serves only clients inside its netblocks or ASNs. */
  private: boolean;
  enabled: boolean;
}

/** The origin: the master copy of the tree, used when no mirror qualifies. */
export interface Origin {
  baseUrl: string;
  country?: string;
}

/** Value of KV key `mirrors`. `version` changes whenever the table does. */
export interface MirrorTable {
  version: string;
  origin: Origin | null;
  mirrors: Mirror[];
}

/** Why one check of a mirror failed (docs/crawler.md, "What a check is"). */
export type CrawlFailureReason = "timeout" | "network" | "http-status" | "bad-marker" | "size-mismatch";

/** What the crawler last learned about one mirror (KV key `crawl:state`, keyed by mirror id). */
export interface MirrorHealth {
  /** Generation read from the mirror's marker file; -1 before the first successful check. */
  generation: number;
  down: boolean;
  consecutiveFailures: number;
  lastSuccess: string | null;
  lastFailure: string | null;
  lastFailureReason: CrawlFailureReason | null;
  /** Human-readable facts about the last failure, e.g. `HTTP 404 for the marker`. */
  lastFailureDetail?: string | null;
  /** Milliseconds taken by the last check. */
  responseTime: number | null;
  lastChecked: string | null;
}

export type CrawlState = Record<string, MirrorHealth>;
