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
  /** Content sets the mirror carries (docs/content-sets.md); absent: `all`, the whole tree. */
  sets?: string[];
  /**
   * MirrorBrain's scopes: `country` serves only clients of its country (and
   * `otherCountries`), `continent` only clients of its continent (and
   * `otherCountries`); clients inside its netblocks or ASNs always. Absent: the world.
   */
  scope?: MirrorScope;
  /** Countries the mirror also serves as if it stood there (the country tier). */
  otherCountries?: string[];
  /** Who runs the mirror and who pays for it; absent when the config names neither. */
  about?: MirrorAbout;
}

/**
 * Contact and sponsor of a mirror (`contact`, `sponsor`, `sponsor_url` in
 * mirrors.toml). Each is shown publicly only when its flag says so; the
 * status report copies them field by field under those flags.
 */
export interface MirrorAbout {
  /** An e-mail address or an http(s) URL for the mirror's admins. */
  contact?: string;
  sponsor?: string;
  /** http(s) URL of the sponsor. */
  sponsorUrl?: string;
  /** Whether the status page and status.json may show `contact`. */
  publicContact: boolean;
  /** Whether they may show `sponsor` and `sponsorUrl`. */
  publicSponsor: boolean;
}

export type MirrorScope = "country" | "continent";

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

/**
 * Why one check of a mirror failed (docs/crawler.md, "What a check is").
 * `timeout`, `network`, `http-status` and `bad-marker` can come from the
 * marker; every reason can come from a blob.
 */
export type CrawlFailureReason =
  | "timeout"
  | "network"
  | "http-status"
  | "bad-marker"
  | "size-mismatch"
  | "digest-mismatch"
  | "content-encoding"
  | "no-range"
  | "redirect"
  | "slow";

/** A place in a publication's inventory, which is sorted by `(generation, digest)`. */
export interface InventoryKey {
  generation: number;
  digest: string;
}

/** A blob path that failed a content check on a mirror verified for it. */
export interface BadBlob extends InventoryKey {
  size: number;
  /** RFC 3339 time of the failure that excluded it. */
  since: string;
}

/** One failed request of a check: what was asked and why it failed. */
export interface CheckFailure {
  url: string;
  reason: CrawlFailureReason;
  /** Human-readable facts, e.g. `HTTP 404 for <url>`. */
  detail: string;
}

/** One check of one mirror, as `/mirrors/<id>` lists it. */
export interface CheckRecord {
  /** RFC 3339 time of the check. */
  at: string;
  /** `pass`: everything checked passed; `fail`: the marker or a verified blob failed (counts toward down); `held`: only a blob not yet verified failed. */
  outcome: "pass" | "fail" | "held";
  /** Marker generation read, or null when the marker failed. */
  announced: number | null;
  verified: number;
  /** Blob paths checked in this check. */
  blobs: number;
  failure: CheckFailure | null;
}

/** What the crawler last learned about one mirror (KV key `crawl:state`, keyed by mirror id; docs/crawler.md, "States"). */
export interface MirrorHealth {
  /** Generation of the mirror's marker at the last check that read it; -1 before one. */
  announced: number;
  /**
   * The newest generation G for which every inventory entry first seen in G
   * or earlier was checked on this mirror and passed; -1 before the first
   * full pass. Selection serves content of generation g only when g <= verified.
   */
  verified: number;
  down: boolean;
  /** Checks in a row that failed (outcome `fail`). */
  consecutiveFailures: number;
  /** Checks in a row that passed, which a down mirror needs `passesBeforeUp` of. */
  consecutivePasses: number;
  /** Outcomes of the last `failureWindow` checks, oldest first: `P` passed or held, `F` failed. */
  outcomes: string;
  /** Cursor of the pass toward `announced`: entries up to `after` passed; null: start after `verified`. `done` counts them. */
  pass: { after: InventoryKey | null; done: number };
  /** Cursor of the rolling re-verification over entries up to `verified`; null: start from the first. */
  reverify: InventoryKey | null;
  /** Verified blob paths that failed a content check: selection excludes this mirror for them. */
  badBlobs: BadBlob[];
  /** Entries first seen in `verified` or earlier, and in `announced` or earlier, at the last check: for progress. */
  progress: { verified: number; total: number };
  lastSuccess: string | null;
  lastFailure: string | null;
  lastFailureReason: CrawlFailureReason | null;
  /** Human-readable facts about the last failure, e.g. `HTTP 404 for the marker`. */
  lastFailureDetail?: string | null;
  /** The URL whose answer failed last. */
  lastFailureUrl?: string | null;
  /** Milliseconds taken by the last marker request. */
  responseTime: number | null;
  lastChecked: string | null;
  /** The last few checks, newest last (`RECENT_CHECKS`). */
  recent: CheckRecord[];
  /** Per content set the mirror carries, the generation its marker announced at the last check (-1: the marker failed); absent for a whole-tree mirror. */
  sets?: Array<{ name: string; announced: number }>;
}

export type CrawlState = Record<string, MirrorHealth>;

/**
 * A mirror's entry in the crawl state, or undefined: own entries only, so an
 * id such as `constructor` or `__proto__` never finds what Object.prototype holds.
 */
export function healthOf(crawl: CrawlState, id: string): MirrorHealth | undefined {
  return Object.hasOwn(crawl, id) ? crawl[id] : undefined;
}

/** An empty crawl state to fill by mirror id; without a prototype, so `__proto__` is an id like any other. */
export function emptyCrawlState(): CrawlState {
  return Object.create(null) as CrawlState;
}
