import { isCoordinate, unitVector } from "./geo";
import { hashWords } from "./hash";
import { ipv4Network, ipv6Network, parseCidr, type IpAddress } from "./ip";
import { classifyMirror } from "./mirror-state";
import { buildRing, ringScale, type Ring } from "./ring";
import { healthOf, type CrawlState, type Mirror, type MirrorTable } from "./types";
import { WHOLE_TREE_SET } from "../oci/sets";

/** Why a mirror can serve nobody, whatever the client or content. */
export type StaticExclusion = "disabled" | "unchecked" | "down";

interface Blocks<N> {
  length: number;
  members: Map<N, Int32Array>;
}

/**
 * What selection derives from the operator's table alone: per-mirror columns
 * in typed arrays and, per tier, the mirrors a client reaches through it.
 * Built once per table version; health is joined per crawl state.
 */
export interface TableIndex {
  mirrors: readonly Mirror[];
  weight: Float64Array;
  idHash1: Uint32Array;
  idHash2: Uint32Array;
  /** Per mirror: unit vector of its coordinates (NaN when unknown). */
  x: Float64Array;
  y: Float64Array;
  z: Float64Array;
  /** Netblocks by prefix length, longest first; each maps a network number to its mirrors. */
  v4Blocks: Array<Blocks<number>>;
  v6Blocks: Array<Blocks<bigint>>;
  byAsn: Map<number, Int32Array>;
  byCountry: Map<string, Int32Array>;
  byContinent: Map<string, Int32Array>;
  /**
   * Public mirrors with coordinates, without, and all of them. Like the
   * country and continent lists they keep disabled mirrors (health filters
   * them), so disabling one leaves the tier's ring as it was.
   */
  located: Int32Array;
  unlocated: Int32Array;
  world: Int32Array;
  /** Mirror id -> its position, for a client's pin and avoid choices. */
  byId: Map<string, number>;
  /** Mirrors by the country they stand in (not `otherCountries`), for a client avoiding a country. */
  byHomeCountry: Map<string, Int32Array>;
  /**
   * Content sets (docs/content-sets.md): 1 for a mirror that carries the
   * whole tree; otherwise its sets as bits, `setWords` words per mirror, of
   * the set numbers in `setIds`. `partial` is false when every mirror carries
   * the whole tree, and selection then skips the set test entirely.
   */
  carriesAll: Uint8Array;
  setIds: Map<string, number>;
  setWords: number;
  setBits: Uint32Array;
  partial: boolean;
  /** Tiers at least this large are ordered on a consistent-hash ring instead of by scanning every member. */
  ringThreshold: number;
  ringScale: number;
  /**
   * The ring of each large tier's member list (one of this index's own
   * arrays), built on first use by `ringFor`: the one thing selection adds
   * to an index after it is built, and the same for every request.
   */
  rings: WeakMap<Int32Array, Ring>;
}

/** What selection derives from the crawl state: rebuilt each crawl, in one pass over the table. */
export interface HealthColumns {
  /**
   * Per mirror: the generation it is verified for (every blob path first
   * seen up to it checked), or -Infinity when disabled, down or unchecked, so
   * one comparison filters.
   */
  verified: Float64Array;
  staticExclusion: ReadonlyArray<StaticExclusion | null>;
  /** The newest generation any usable mirror is verified for; content newer than this can only come from the origin. */
  newestGeneration: number;
  /** Digest -> mirrors excluded for it after a content error on a verified path: one lookup per request. */
  badBlobs: ReadonlyMap<string, Int32Array>;
}

export type SelectionIndex = TableIndex & HealthColumns;

/** Tiers of this many members or more use a ring: scanning them would cost more than the 50 µs budget at 10,000 mirrors. */
export const DEFAULT_RING_THRESHOLD = 2048;

function pushTo<K>(map: Map<K, number[]>, key: K, index: number): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [index]);
  else if (list[list.length - 1] !== index) list.push(index);
}

function frozenLists<K>(map: Map<K, number[]>): Map<K, Int32Array> {
  return new Map([...map].map(([key, list]) => [key, Int32Array.from(list)]));
}

function blocksByLength<K>(byLength: Map<number, Map<K, number[]>>): Array<Blocks<K>> {
  return [...byLength].sort(([a], [b]) => b - a).map(([length, members]) => ({ length, members: frozenLists(members) }));
}

function invalidMirror(mirror: Mirror, problem: string): Error {
  return new Error(`mirror ${JSON.stringify(mirror.id)}: ${problem}`);
}

function addNetblock(v4: Map<number, Map<number, number[]>>, v6: Map<number, Map<bigint, number[]>>, mirror: Mirror, text: string, i: number): void {
  const cidr = parseCidr(text);
  if (cidr === null) throw invalidMirror(mirror, `invalid netblock ${JSON.stringify(text)}`);
  if (cidr.version === 4) {
    if (!v4.has(cidr.length)) v4.set(cidr.length, new Map());
    pushTo(v4.get(cidr.length)!, cidr.network, i);
  } else {
    if (!v6.has(cidr.length)) v6.set(cidr.length, new Map());
    pushTo(v6.get(cidr.length)!, cidr.network, i);
  }
}

/**
 * Builds the table's tier indexes, precomputed once per table version and
 * held in the isolate (docs/selection.md). Throws on an invalid netblock or bandwidth, naming
 * the mirror.
 */
export function buildTableIndex(table: MirrorTable, options: { ringThreshold?: number } = {}): TableIndex {
  const mirrors = table.mirrors;
  const count = mirrors.length;
  const weight = new Float64Array(count);
  const idHash1 = new Uint32Array(count);
  const idHash2 = new Uint32Array(count);
  const x = new Float64Array(count).fill(NaN);
  const y = new Float64Array(count).fill(NaN);
  const z = new Float64Array(count).fill(NaN);
  const v4 = new Map<number, Map<number, number[]>>();
  const v6 = new Map<number, Map<bigint, number[]>>();
  const byAsn = new Map<number, number[]>();
  const byCountry = new Map<string, number[]>();
  const byContinent = new Map<string, number[]>();
  const located: number[] = [];
  const unlocated: number[] = [];
  const world: number[] = [];
  const byId = new Map<string, number>();
  const byHomeCountry = new Map<string, number[]>();
  const carriesAll = new Uint8Array(count);
  const setIds = new Map<string, number>();
  for (const mirror of mirrors) for (const set of mirror.sets ?? []) if (set !== WHOLE_TREE_SET && !setIds.has(set)) setIds.set(set, setIds.size);
  const setWords = Math.max(1, Math.ceil(setIds.size / 32));
  const setBits = new Uint32Array(count * setWords);
  let partial = false;

  for (const [i, mirror] of mirrors.entries()) {
    if (!(typeof mirror.bandwidth === "number" && mirror.bandwidth > 0 && Number.isFinite(mirror.bandwidth))) {
      throw invalidMirror(mirror, `bandwidth must be a positive number, got ${JSON.stringify(mirror.bandwidth)}`);
    }
    weight[i] = mirror.bandwidth;
    [idHash1[i], idHash2[i]] = hashWords(mirror.id);
    if (isCoordinate(mirror.latitude, mirror.longitude)) {
      const point = unitVector(mirror.latitude, mirror.longitude as number);
      x[i] = point.x;
      y[i] = point.y;
      z[i] = point.z;
    }
    for (const text of mirror.netblocks ?? []) addNetblock(v4, v6, mirror, text, i);
    for (const asn of mirror.asns ?? []) pushTo(byAsn, asn, i);
    if (!byId.has(mirror.id)) byId.set(mirror.id, i);
    pushTo(byHomeCountry, mirror.country, i);
    if (mirror.sets === undefined || mirror.sets.includes(WHOLE_TREE_SET)) carriesAll[i] = 1;
    else {
      partial = true;
      for (const set of mirror.sets) {
        const bit = setIds.get(set)!;
        setBits[i * setWords + (bit >>> 5)]! |= 1 << (bit & 31);
      }
    }
    if (mirror.private) continue;
    // Scopes (MirrorBrain's countryOnly, regionOnly, otherCountries) only leave a mirror out of the wider tiers' lists.
    pushTo(byCountry, mirror.country, i);
    for (const other of mirror.otherCountries ?? []) pushTo(byCountry, other, i);
    if (mirror.scope === "country") continue;
    pushTo(byContinent, mirror.continent, i);
    if (mirror.scope === "continent") continue;
    (Number.isNaN(x[i]!) ? unlocated : located).push(i);
    world.push(i);
  }

  return {
    mirrors,
    weight,
    idHash1,
    idHash2,
    x,
    y,
    z,
    v4Blocks: blocksByLength(v4),
    v6Blocks: blocksByLength(v6),
    byAsn: frozenLists(byAsn),
    byCountry: frozenLists(byCountry),
    byContinent: frozenLists(byContinent),
    located: Int32Array.from(located),
    unlocated: Int32Array.from(unlocated),
    world: Int32Array.from(world),
    byId,
    byHomeCountry: frozenLists(byHomeCountry),
    carriesAll,
    setIds,
    setWords,
    setBits,
    partial,
    ringThreshold: options.ringThreshold ?? DEFAULT_RING_THRESHOLD,
    ringScale: ringScale(weight),
    rings: new WeakMap(),
  };
}

function staticExclusion(mirror: Mirror, crawl: CrawlState): StaticExclusion | null {
  const status = classifyMirror(mirror, healthOf(crawl, mirror.id), null);
  return status === "disabled" || status === "unchecked" || status === "down" ? status : null;
}

/** Reads each mirror's verified generation, health and bad blob paths into columns aligned with the table. */
export function buildHealthColumns(mirrors: readonly Mirror[], crawl: CrawlState): HealthColumns {
  const verified = new Float64Array(mirrors.length);
  const exclusions: Array<StaticExclusion | null> = [];
  const bad = new Map<string, number[]>();
  let newestGeneration = -Infinity;
  for (const [i, mirror] of mirrors.entries()) {
    const exclusion = staticExclusion(mirror, crawl);
    exclusions.push(exclusion);
    const health = healthOf(crawl, mirror.id);
    verified[i] = exclusion === null ? health!.verified : -Infinity;
    newestGeneration = Math.max(newestGeneration, verified[i]!);
    if (exclusion === null) for (const blob of health!.badBlobs ?? []) pushTo(bad, blob.digest, i);
  }
  return { verified, staticExclusion: exclusions, newestGeneration, badBlobs: frozenLists(bad) };
}

/** Joins a table index with the columns for one crawl state. */
export function withHealth(tableIndex: TableIndex, crawl: CrawlState): SelectionIndex {
  return { ...tableIndex, ...buildHealthColumns(tableIndex.mirrors, crawl) };
}

/**
 * The indexes of the newest table and crawl state an isolate has seen, keyed
 * by their KV versions (`mirrors` and `crawl:state` metadata), not by object
 * identity: a table is re-indexed only when its version changes, health
 * columns only when the table's or the crawl state's does. One slot each, so
 * memory stays one table's worth. Tests create their own.
 */
export class SelectionCache {
  private table: { version: string; index: TableIndex } | null = null;
  private joined: { table: string; crawl: string; index: SelectionIndex } | null = null;

  /** The index for this table and crawl state; without a crawl version the health columns are built afresh. */
  index(table: MirrorTable, crawl: CrawlState, crawlVersion: string | null = null): SelectionIndex {
    if (this.table?.version !== table.version) this.table = { version: table.version, index: buildTableIndex(table) };
    const tableIndex = this.table.index;
    if (crawlVersion === null) return withHealth(tableIndex, crawl);
    if (this.joined?.table !== table.version || this.joined.crawl !== crawlVersion) {
      this.joined = { table: table.version, crawl: crawlVersion, index: withHealth(tableIndex, crawl) };
    }
    return this.joined.index;
  }

  /** Versions held now, for tests and the debug view. */
  versions(): { table: string | null; crawl: string | null } {
    return { table: this.table?.version ?? null, crawl: this.joined?.crawl ?? null };
  }
}

/** The isolate's cache, shared by every request the isolate serves. */
export const isolateSelectionCache = new SelectionCache();

/** The index for this table and crawl state, through the isolate's cache. */
export function selectionIndex(table: MirrorTable, crawl: CrawlState, crawlVersion: string | null = null): SelectionIndex {
  return isolateSelectionCache.index(table, crawl, crawlVersion);
}

/** The ring for one tier's member list, built on first use. */
export function ringFor(index: TableIndex, members: Int32Array): Ring {
  let ring = index.rings.get(members);
  if (ring === undefined) {
    ring = buildRing(members, index.weight, index.idHash1, index.idHash2, index.ringScale);
    index.rings.set(members, ring);
  }
  return ring;
}

/** Member lists of every netblock that contains `address`, longest prefix first. */
export function netblockMembers(index: TableIndex, address: IpAddress | null): Int32Array[] {
  const found: Int32Array[] = [];
  if (address === null) return found;
  if (address.version === 4) {
    for (const blocks of index.v4Blocks) {
      const members = blocks.members.get(ipv4Network(address.value, blocks.length));
      if (members !== undefined) found.push(members);
    }
  } else {
    for (const blocks of index.v6Blocks) {
      const members = blocks.members.get(ipv6Network(address.value, blocks.length));
      if (members !== undefined) found.push(members);
    }
  }
  return found;
}
