import { classifyMirror, IN_ROTATION, MIRROR_STATUSES, type MirrorStatus } from "../mirrors/mirror-state";
import { healthOf, type CheckRecord, type CrawlFailureReason, type CrawlState, type Mirror, type MirrorHealth, type MirrorScope, type MirrorTable } from "../mirrors/types";
import { WHOLE_TREE_SET } from "../oci/sets";
import type { Publication, PublishingRecord } from "../store/records";
import type { DownloadSummary } from "../stats/download-stats";

export { MIRROR_STATUSES, type MirrorStatus } from "../mirrors/mirror-state";

/** The last failed request of a public mirror, for its admin to reproduce. */
export interface LastFailure {
  url: string | null;
  reason: CrawlFailureReason;
  detail: string | null;
  /** RFC 3339 time. */
  at: string;
}

/** One row of the public mirror list; fields are picked one by one, so nothing private slips in. */
export interface PublicMirrorRow {
  id: string;
  baseUrl: string;
  country: string;
  continent: string;
  bandwidth: number;
  status: MirrorStatus;
  /** The generation the mirror is verified for (selection serves it content up to there); null before its first full pass. */
  generation: number | null;
  /** Same as `generation`, named as the crawler names it. */
  verified: number | null;
  /** Generation of the mirror's marker at its last check; null before one was read. */
  announced: number | null;
  /** Inventory entries verified on the mirror, of those first seen up to `announced`. */
  progress: { verified: number; total: number };
  /** Digests the mirror is excluded for after a content error. */
  excludedBlobs: number;
  /** Publications the mirror's verified content is behind the newest; null when either is unknown. */
  lag: number | null;
  lastChecked: string | null;
  lastSuccess: string | null;
  responseTime: number | null;
  lastFailureReason: CrawlFailureReason | null;
  lastFailure: LastFailure | null;
  /** `country` or `continent` for a mirror that serves only there (and `otherCountries`); null: the world. */
  scope: MirrorScope | null;
  otherCountries: string[];
  /**
   * The content sets the mirror carries (`all`: the whole tree), each with
   * the generation its marker announced and whether the mirror is fresh for
   * it: in rotation and verified for the newest publication.
   */
  sets: Array<{ name: string; announced: number | null; verified: number | null; fresh: boolean }>;
  /** The mirror's contact, only when the config marks it public (`public_contact`). */
  contact: string | null;
  /** The mirror's sponsor, only when the config marks it public (`public_sponsor`). */
  sponsor: { name: string; url: string | null } | null;
}

/** One public mirror's page, `GET /mirrors/<id>`: its row and its recent checks, newest first. */
export interface MirrorReport {
  generated: string;
  publication: { generation: number; published: string } | null;
  mirror: PublicMirrorRow;
  badBlobs: Array<{ digest: string; generation: number; since: string }>;
  recent: CheckRecord[];
}

export interface GroupCount {
  mirrors: number;
  /** Mirrors serving the newest publication. */
  up: number;
  /** Sum of the declared bandwidth weights of the mirrors in rotation (up, stale or failing). */
  bandwidth: number;
}

/** The status page's content, and the body of `GET /status.json`. */
export interface StatusReport {
  generated: string;
  publication: { generation: number; published: string } | null;
  /** A publication newer than `publication` that a publisher started and has not finished: under way, or cut off. */
  publishing: PublishingRecord | null;
  mirrors: PublicMirrorRow[];
  /** Private mirrors serve only their own networks: shown as counts, never listed. */
  private: { mirrors: number; up: number };
  counts: {
    status: Record<MirrorStatus, number>;
    continents: Array<{ continent: string } & GroupCount>;
    countries: Array<{ country: string; continent: string } & GroupCount>;
    /** Per content set, public mirrors fresh for it per continent (a whole-tree mirror is fresh for every set). */
    sets: Array<{ set: string; fresh: number; continents: Array<{ continent: string; fresh: number }> }>;
  };
  /** Redirects and bytes per mirror, country and set over the last hour and day; null when not counted or not readable. Private mirrors are summed as one. */
  downloads: DownloadSummary | null;
}

function compareRows(a: PublicMirrorRow, b: PublicMirrorRow): number {
  return a.continent.localeCompare(b.continent) || a.country.localeCompare(b.country) || a.id.localeCompare(b.id);
}

function tally<K extends string>(groups: Map<K, GroupCount>, key: K, row: PublicMirrorRow): void {
  const group = groups.get(key) ?? { mirrors: 0, up: 0, bandwidth: 0 };
  group.mirrors += 1;
  if (row.status === "up") group.up += 1;
  if (IN_ROTATION.has(row.status)) group.bandwidth += row.bandwidth;
  groups.set(key, group);
}

/** One public mirror's row; fields are picked one by one, so nothing private slips in. */
function publicRow(mirror: Mirror, health: MirrorHealth | undefined, status: MirrorStatus, newest: number | null): PublicMirrorRow {
  const verified = health !== undefined && health.verified >= 0 ? health.verified : null;
  const announced = health !== undefined && health.announced >= 0 ? health.announced : null;
  const reason = health?.lastFailureReason ?? null;
  const fresh = IN_ROTATION.has(status) && verified !== null && (newest === null || verified >= newest);
  const sets = (mirror.sets ?? [WHOLE_TREE_SET]).map((name) => {
    const seen = health?.sets?.find((set) => set.name === name)?.announced ?? (mirror.sets === undefined ? announced : null);
    return { name, announced: seen !== null && seen >= 0 ? seen : null, verified, fresh };
  });
  return {
    id: mirror.id,
    baseUrl: mirror.baseUrl,
    country: mirror.country,
    continent: mirror.continent,
    bandwidth: mirror.bandwidth,
    status,
    generation: verified,
    verified,
    announced,
    progress: { verified: health?.progress?.verified ?? 0, total: health?.progress?.total ?? 0 },
    excludedBlobs: health?.badBlobs?.length ?? 0,
    lag: verified !== null && newest !== null ? Math.max(0, newest - verified) : null,
    lastChecked: health?.lastChecked ?? null,
    lastSuccess: health?.lastSuccess ?? null,
    responseTime: health?.responseTime ?? null,
    lastFailureReason: reason,
    lastFailure:
      reason === null || health?.lastFailure == null
        ? null
        : { url: health.lastFailureUrl ?? null, reason, detail: health.lastFailureDetail ?? null, at: health.lastFailure },
    scope: mirror.scope ?? null,
    otherCountries: [...(mirror.otherCountries ?? [])],
    sets,
    ...publicAbout(mirror),
  };
}

/** Contact and sponsor as far as the operator made them public; nothing else of `about` leaves the table. */
function publicAbout(mirror: Mirror): Pick<PublicMirrorRow, "contact" | "sponsor"> {
  const about = mirror.about;
  return {
    contact: about?.publicContact === true && about.contact !== undefined ? about.contact : null,
    sponsor: about?.publicSponsor === true && about.sponsor !== undefined ? { name: about.sponsor, url: about.sponsorUrl ?? null } : null,
  };
}

function publicationSummary(publication: Publication | null): StatusReport["publication"] {
  return publication === null ? null : { generation: publication.generation, published: publication.published };
}

/**
 * One public mirror's report, or null for an id the table does not hold
 * or a private mirror: those answer NOT_FOUND, as an unknown id does.
 */
export function buildMirrorReport(mirrors: ReadonlyMap<string, Mirror>, id: string, crawl: CrawlState, publication: Publication | null, now: Date): MirrorReport | null {
  const mirror = mirrors.get(id);
  if (mirror === undefined || mirror.private) return null;
  const health = healthOf(crawl, id);
  const newest = publication?.generation ?? null;
  return {
    generated: now.toISOString(),
    publication: publicationSummary(publication),
    mirror: publicRow(mirror, health, classifyMirror(mirror, health, newest), newest),
    badBlobs: (health?.badBlobs ?? []).map(({ digest, generation, since }) => ({ digest, generation, since })),
    recent: [...(health?.recent ?? [])].reverse(),
  };
}

/** Builds the public mirror list from the operator's table and the crawler's findings. */
export function buildStatusReport(
  table: MirrorTable,
  crawl: CrawlState,
  publication: Publication | null,
  now: Date,
  downloads: DownloadSummary | null = null,
  publishing: PublishingRecord | null = null,
): StatusReport {
  const newest = publication?.generation ?? null;
  const rows: PublicMirrorRow[] = [];
  const privateCount = { mirrors: 0, up: 0 };
  for (const mirror of table.mirrors) {
    const health = healthOf(crawl, mirror.id);
    const status = classifyMirror(mirror, health, newest);
    if (mirror.private) {
      privateCount.mirrors += 1;
      if (status === "up") privateCount.up += 1;
      continue;
    }
    rows.push(publicRow(mirror, health, status, newest));
  }
  rows.sort(compareRows);

  const status = Object.fromEntries(MIRROR_STATUSES.map((name) => [name, 0])) as Record<MirrorStatus, number>;
  const continents = new Map<string, GroupCount>();
  const countries = new Map<string, GroupCount>();
  for (const row of rows) {
    status[row.status] += 1;
    tally(continents, row.continent, row);
    tally(countries, `${row.continent}/${row.country}`, row);
  }
  const setNames = new Set<string>([WHOLE_TREE_SET, ...(publication?.inventory?.sets ?? []).map((set) => set.name)]);
  for (const row of rows) for (const set of row.sets) setNames.add(set.name);
  const perSet = [...setNames].sort().map((set) => {
    const byContinent = new Map<string, number>();
    let fresh = 0;
    for (const row of rows) {
      const carried = row.sets.find((entry) => entry.name === set || entry.name === WHOLE_TREE_SET);
      if (carried === undefined || !carried.fresh) continue;
      fresh += 1;
      byContinent.set(row.continent, (byContinent.get(row.continent) ?? 0) + 1);
    }
    return { set, fresh, continents: [...byContinent].sort(([a], [b]) => a.localeCompare(b)).map(([continent, count]) => ({ continent, fresh: count })) };
  });
  return {
    generated: now.toISOString(),
    publication: publicationSummary(publication),
    mirrors: rows,
    private: privateCount,
    counts: {
      status,
      continents: [...continents].map(([continent, count]) => ({ continent, ...count })),
      countries: [...countries].map(([key, count]) => {
        const [continent = "", country = ""] = key.split("/");
        return { country, continent, ...count };
      }),
      sets: perSet,
    },
    downloads,
    publishing: publishing !== null && publishing.generation > (publication?.generation ?? 0) ? { generation: publishing.generation, started: publishing.started } : null,
  };
}
