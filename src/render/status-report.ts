import type { CrawlFailureReason, CrawlState, Mirror, MirrorHealth, MirrorTable } from "../mirrors/types";
import type { Publication } from "../store/records";

/**
 * A public mirror's state as the status page shows it: `up` serves the newest
 * publication, `stale` only older content (its marker is behind), `failing`
 * missed a check but stays in rotation, `down` is out of rotation, `unchecked`
 * has never passed a check, `disabled` is switched off by the operator.
 */
export type MirrorStatus = "up" | "stale" | "failing" | "down" | "unchecked" | "disabled";

export const MIRROR_STATUSES: readonly MirrorStatus[] = ["up", "stale", "failing", "down", "unchecked", "disabled"];

/** One row of the public mirror list; fields are picked one by one, so nothing private slips in. */
export interface PublicMirrorRow {
  id: string;
  baseUrl: string;
  country: string;
  continent: string;
  bandwidth: number;
  status: MirrorStatus;
  /** Generation of the mirror's marker at its last passing check; null before one. */
  generation: number | null;
  /** Publications the mirror is behind the newest; null when either is unknown. */
  lag: number | null;
  lastChecked: string | null;
  lastSuccess: string | null;
  responseTime: number | null;
  lastFailureReason: CrawlFailureReason | null;
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
  mirrors: PublicMirrorRow[];
  /** Private mirrors serve only their own networks: shown as counts, never listed. */
  private: { mirrors: number; up: number };
  counts: {
    status: Record<MirrorStatus, number>;
    continents: Array<{ continent: string } & GroupCount>;
    countries: Array<{ country: string; continent: string } & GroupCount>;
  };
}

function statusOf(mirror: Mirror, health: MirrorHealth | undefined, newest: number | null): MirrorStatus {
  if (!mirror.enabled) return "disabled";
  if (health === undefined || health.generation < 0) return health?.down ? "down" : "unchecked";
  if (health.down) return "down";
  if (health.consecutiveFailures > 0) return "failing";
  if (newest !== null && health.generation < newest) return "stale";
  return "up";
}

const IN_ROTATION: ReadonlySet<MirrorStatus> = new Set(["up", "stale", "failing"]);

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

/** Builds the public mirror list from the operator's table and the crawler's findings. */
export function buildStatusReport(table: MirrorTable, crawl: CrawlState, publication: Publication | null, now: Date): StatusReport {
  const newest = publication?.generation ?? null;
  const rows: PublicMirrorRow[] = [];
  const privateCount = { mirrors: 0, up: 0 };
  for (const mirror of table.mirrors) {
    const health = crawl[mirror.id];
    const status = statusOf(mirror, health, newest);
    if (mirror.private) {
      privateCount.mirrors += 1;
      if (status === "up") privateCount.up += 1;
      continue;
    }
    const generation = health !== undefined && health.generation >= 0 ? health.generation : null;
    rows.push({
      id: mirror.id,
      baseUrl: mirror.baseUrl,
      country: mirror.country,
      continent: mirror.continent,
      bandwidth: mirror.bandwidth,
      status,
      generation,
      lag: generation !== null && newest !== null ? Math.max(0, newest - generation) : null,
      lastChecked: health?.lastChecked ?? null,
      lastSuccess: health?.lastSuccess ?? null,
      responseTime: health?.responseTime ?? null,
      lastFailureReason: health?.lastFailureReason ?? null,
    });
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
  return {
    generated: now.toISOString(),
    publication: publication === null ? null : { generation: publication.generation, published: publication.published },
    mirrors: rows,
    private: privateCount,
    counts: {
      status,
      continents: [...continents].map(([continent, count]) => ({ continent, ...count })),
      countries: [...countries].map(([key, count]) => {
        const [continent = "", country = ""] = key.split("/");
        return { country, continent, ...count };
      }),
    },
  };
}
