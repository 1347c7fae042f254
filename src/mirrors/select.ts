import { hashWords, rendezvousScore, unitHash } from "./hash";
import { cidrContains, clientNetwork, parseCidr, parseIp, type IpAddress } from "./ip";
import { isCoordinate, unitVector } from "./geo";
import { firstPointAt } from "./ring";
import { netblockMembers, ringFor, selectionIndex, type SelectionIndex } from "./selection-index";
import type { CrawlState, Mirror, MirrorTable } from "./types";
import type { Digest } from "../oci/reference";
import type { ClientChoice } from "./choice";

/** Where a client is, as far as the edge can tell. */
export interface ClientLocation {
  ip: string | null;
  country: string | null;
  continent: string | null;
  asn: number | null;
  latitude: number | null;
  longitude: number | null;
}

/** Tiers, best first; "pinned" is the mirror the client chose; "origin" marks the origin, listed after every mirror. */
export type Tier = "pinned" | "netblock" | "asn" | "country" | "continent" | "world" | "origin";
/** `stale`: not verified for the content's generation; `bad-blob`: excluded for this digest after a content error. */
/**
 * Why the explain view did not list a mirror; `ranked-lower` qualified, but
 * the list was full or a better tier had already filled it.
 */
export type ExclusionReason =
  | "disabled"
  | "down"
  | "stale"
  | "private"
  | "out-of-scope"
  | "unchecked"
  | "not-carried"
  | "bad-blob"
  | "avoided"
  | "ranked-lower";

export interface ChosenMirror {
  /** Mirror id, or "origin". */
  id: string;
  baseUrl: string;
  country: string | null;
  tier: Tier;
}

export interface Selection {
  chosen: ChosenMirror[];
  /** Filled only when the request asks to `explain`. */
  excluded: Array<{ id: string; reason: ExclusionReason }>;
}

export interface SelectionRequest {
  client: ClientLocation;
  /** Generation the requested content was first published in. */
  generation: number;
  /** The content's digest, so mirrors that failed a content check for it are left out; unset for no such exclusion. */
  digest?: Digest;
  repository: string;
  /** Most mirrors to return, the origin not counted (setting `mirrorListCap`). */
  limit: number;
  /** Also list every mirror that was ruled out, with its reason (debug view; costs a pass over the table). */
  explain?: boolean;
  /**
   * The content sets holding the content (docs/content-sets.md; `all` is
   * implied): only mirrors carrying the whole tree or one of these may serve
   * it. Unset or empty: only whole-tree mirrors.
   */
  sets?: readonly string[];
  /** The client's own pin and avoid choices (src/mirrors/choice.ts); unset for none. */
  choice?: ClientChoice;
}

/** A list shorter than this is filled from wider tiers (docs/selection.md: at least five where that many qualify). */
export const MINIMUM_LIST = 5;

/**
 * One selection's working state over a shared, read-only index. `taken`
 * is the pass's own: 1 for a mirror already listed or excluded for the digest.
 */
interface Pass {
  index: SelectionIndex;
  generation: number;
  key1: number;
  key2: number;
  taken: Uint8Array;
  picked: number[];
  tiers: Tier[];
  /** The content's sets as bits (`TableIndex.setIds`), or null when every mirror carries the whole tree. */
  setMask: Uint32Array | null;
  /** 1 when the client's pinned mirror heads the list, else 0. */
  pinned: number;
}

/** Whether the mirror carries a set holding the content: the whole tree, or one of the content's sets. */
function carries(index: SelectionIndex, mask: Uint32Array | null, mirror: number): boolean {
  if (mask === null || index.carriesAll[mirror] === 1) return true;
  const base = mirror * index.setWords;
  for (let w = 0; w < mask.length; w++) if ((index.setBits[base + w]! & mask[w]!) !== 0) return true;
  return false;
}

function qualifies(pass: Pass, mirror: number): boolean {
  return pass.index.verified[mirror]! >= pass.generation && pass.taken[mirror] === 0 && carries(pass.index, pass.setMask, mirror);
}

/** The content's sets as a mask over the index's set numbers; null when no mirror carries only part of the tree. */
function setMaskOf(index: SelectionIndex, sets: readonly string[] | undefined): Uint32Array | null {
  if (!index.partial) return null;
  const mask = new Uint32Array(index.setWords);
  for (const set of sets ?? []) {
    const bit = index.setIds.get(set);
    if (bit !== undefined) mask[bit >>> 5]! |= 1 << (bit & 31);
  }
  return mask;
}

function take(pass: Pass, mirrors: readonly number[], tier: Tier): void {
  for (const mirror of mirrors) {
    pass.taken[mirror] = 1;
    pass.picked.push(mirror);
    pass.tiers.push(tier);
  }
}

/** Inserts `mirror` into a best-first list of at most `want` entries; equal scores keep the earlier entry first. */
function insertRanked(ranked: number[], scores: number[], want: number, mirror: number, score: number): void {
  if (ranked.includes(mirror)) return;
  let position = ranked.length;
  while (position > 0 && scores[position - 1]! < score) position--;
  if (position >= want) return;
  ranked.splice(position, 0, mirror);
  scores.splice(position, 0, score);
  if (ranked.length > want) {
    ranked.pop();
    scores.pop();
  }
}

/**
 * The `want` best qualifying members by weighted rendezvous hashing of the
 * request key against each mirror id. A candidate whose score provably cannot
 * beat the current last place is skipped before the logarithm: since
 * -ln(u) >= 1 - u, score <= weight / (1 - u).
 */
function rendezvousTop(pass: Pass, lists: readonly Int32Array[], want: number): number[] {
  const { index, key1, key2, generation: minimum, taken } = pass;
  const { verified, idHash1, idHash2, weight } = index;
  const ranked: number[] = [];
  const scores: number[] = [];
  let threshold = 0;
  for (const list of lists) {
    for (let j = 0; j < list.length; j++) {
      const mirror = list[j]!;
      if (verified[mirror]! < minimum || taken[mirror] !== 0 || !carries(index, pass.setMask, mirror)) continue;
      const unit = unitHash(key1, key2, idHash1[mirror]!, idHash2[mirror]!);
      const w = weight[mirror]!;
      if (threshold * (1 - unit) >= w) continue;
      const score = rendezvousScore(w, unit);
      if (score <= threshold) continue;
      insertRanked(ranked, scores, want, mirror, score);
      if (ranked.length === want) threshold = scores[want - 1]!;
    }
  }
  return ranked;
}

/**
 * The first `want` distinct qualifying mirrors clockwise from the request
 * key's point on the tier's ring. Every point is visited at most once, so a
 * tier whose mirrors are nearly all stale costs one pass over its points.
 */
function ringTop(pass: Pass, members: Int32Array, want: number): number[] {
  const ring = ringFor(pass.index, members);
  const ranked: number[] = [];
  const size = ring.owners.length;
  const start = firstPointAt(ring, Math.floor(unitHash(pass.key1, pass.key2, 0x85ebca6b, 0xc2b2ae35) * 4294967296));
  for (let step = 0; step < size && ranked.length < want; step++) {
    const mirror = ring.owners[(start + step) % size]!;
    if (qualifies(pass, mirror) && !ranked.includes(mirror)) ranked.push(mirror);
  }
  return ranked;
}

/** Orders a geographic tier: weighted rendezvous over its members, or its ring when it has `ringThreshold` members or more. */
function tierTop(pass: Pass, members: Int32Array, want: number): number[] {
  if (members.length >= pass.index.ringThreshold) return ringTop(pass, members, want);
  return rendezvousTop(pass, [members], want);
}

/** The `want` qualifying located mirrors nearest to the client: largest dot product of unit vectors. */
function nearestTop(pass: Pass, point: { x: number; y: number; z: number }, want: number): number[] {
  const { index } = pass;
  const ranked: number[] = [];
  const scores: number[] = [];
  let threshold = -Infinity;
  const members = index.located;
  for (let j = 0; j < members.length; j++) {
    const mirror = members[j]!;
    if (!qualifies(pass, mirror)) continue;
    const closeness = point.x * index.x[mirror]! + point.y * index.y[mirror]! + point.z * index.z[mirror]!;
    if (ranked.length === want && closeness <= threshold) continue;
    insertRanked(ranked, scores, want, mirror, closeness);
    if (ranked.length === want) threshold = scores[want - 1]!;
  }
  return ranked;
}

const NO_LISTS: readonly Int32Array[] = [];

function listOf(list: Int32Array | undefined): readonly Int32Array[] {
  return list === undefined ? NO_LISTS : [list];
}

/** How many more to take from the next tier: the first tier that yields anything fills up to the cap, later ones up to the minimum. */
function wanted(pass: Pass, limit: number): number {
  return pass.picked.length === pass.pinned ? limit - pass.pinned : Math.min(MINIMUM_LIST, limit) - pass.picked.length;
}

function isPrivateVisible(mirror: Mirror, address: IpAddress | null, asn: number | null): boolean {
  if (asn !== null && (mirror.asns ?? []).includes(asn)) return true;
  if (address === null) return false;
  return (mirror.netblocks ?? []).some((text) => {
    const cidr = parseCidr(text);
    return cidr !== null && cidrContains(cidr, address);
  });
}

/**
 * Whether a scoped mirror may serve this client (MirrorBrain's scopes): its
 * own networks always; a `country` scope its country and `otherCountries`, a
 * `continent` scope its continent and `otherCountries`. Unscoped public
 * mirrors serve everyone; private ones only their networks.
 */
export function inScope(mirror: Mirror, client: ClientLocation, address: IpAddress | null): boolean {
  if (mirror.private) return isPrivateVisible(mirror, address, client.asn);
  if (mirror.scope === undefined) return true;
  if (isPrivateVisible(mirror, address, client.asn)) return true;
  if (client.country !== null && (client.country === mirror.country || (mirror.otherCountries ?? []).includes(client.country))) return true;
  return mirror.scope === "continent" && client.continent !== null && client.continent === mirror.continent;
}

/** Mirrors the client's choice avoids: by id, and every mirror standing in an avoided country. */
function avoidedBy(index: SelectionIndex, choice: ClientChoice | undefined): number[] {
  if (choice === undefined) return [];
  const avoided: number[] = [];
  for (const id of choice.avoid) {
    const i = index.byId.get(id);
    if (i !== undefined) avoided.push(i);
  }
  for (const country of choice.avoidCountries) for (const i of index.byHomeCountry.get(country) ?? []) avoided.push(i);
  return avoided;
}

function exclusions(index: SelectionIndex, request: SelectionRequest, address: IpAddress | null, picked: readonly number[], mask: Uint32Array | null): Selection["excluded"] {
  const listed = new Set(picked);
  const excluded: Selection["excluded"] = [];
  const bad = new Set(request.digest === undefined ? [] : index.badBlobs.get(request.digest) ?? []);
  const avoided = new Set(avoidedBy(index, request.choice));
  for (const [i, mirror] of index.mirrors.entries()) {
    const fixed = index.staticExclusion[i];
    let reason: ExclusionReason | null = null;
    if (fixed === "disabled") reason = "disabled";
    else if (mirror.private && !isPrivateVisible(mirror, address, request.client.asn)) reason = "private";
    else if (!inScope(mirror, request.client, address)) reason = "out-of-scope";
    else if (fixed !== null && fixed !== undefined) reason = fixed;
    else if (!carries(index, mask, i)) reason = "not-carried";
    else if (index.verified[i]! < request.generation) reason = "stale";
    else if (bad.has(i)) reason = "bad-blob";
    else if (avoided.has(i)) reason = "avoided";
    else if (!listed.has(i)) reason = "ranked-lower";
    if (reason !== null) excluded.push({ id: mirror.id, reason });
  }
  return excluded;
}

/** Fills `pass` tier by tier, best first, until `limit` or the list rule is met. */
function pickMirrors(pass: Pass, client: ClientLocation, address: IpAddress | null, limit: number): void {
  const { index } = pass;
  // Network tiers are small by nature: always rendezvous. Geographic tiers may be large: tierTop.
  const networkTiers: Array<[Tier, () => readonly Int32Array[]]> = [
    ["netblock", () => netblockMembers(index, address)],
    ["asn", () => listOf(client.asn === null ? undefined : index.byAsn.get(client.asn))],
  ];
  for (const [tier, lists] of networkTiers) {
    const want = wanted(pass, limit);
    if (want > 0) take(pass, rendezvousTop(pass, lists(), want), tier);
  }
  const placeTiers: Array<[Tier, Int32Array | undefined]> = [
    ["country", client.country === null ? undefined : index.byCountry.get(client.country)],
    ["continent", client.continent === null ? undefined : index.byContinent.get(client.continent)],
  ];
  for (const [tier, members] of placeTiers) {
    const want = wanted(pass, limit);
    if (want > 0 && members !== undefined) take(pass, tierTop(pass, members, want), tier);
  }
  const located = isCoordinate(client.latitude, client.longitude);
  if (wanted(pass, limit) > 0 && located) {
    take(pass, nearestTop(pass, unitVector(client.latitude as number, client.longitude as number), wanted(pass, limit)), "world");
  }
  if (wanted(pass, limit) > 0) take(pass, tierTop(pass, located ? index.unlocated : index.world, wanted(pass, limit)), "world");
}

/**
 * Orders the mirrors that can serve content of `generation` to this client
 * (docs/selection.md): only enabled mirrors in rotation, verified for that generation
 * or later, and not excluded for the content's digest;
 * tiers netblock, ASN, country, continent, world (nearest first where
 * coordinates are known); weighted rendezvous within a tier on (client
 * network, repository), so one pull stays on one mirror (a weighted
 * consistent-hash ring for a geographic tier of `ringThreshold` mirrors or
 * more; docs/selection.md). The first tier with
 * a qualifying mirror lists up to `limit`, wider tiers fill up to five; the
 * origin comes last. Deterministic for the same inputs; the only state it
 * keeps is the isolate's index cache, keyed by `table.version` and
 * `crawlVersion` (src/mirrors/selection-index.ts, `SelectionCache`).
 */
export function selectMirrors(table: MirrorTable, crawl: CrawlState, request: SelectionRequest, crawlVersion: string | null = null): Selection {
  return selectFromIndex(selectionIndex(table, crawl, crawlVersion), table.origin, request);
}

/** `selectMirrors` over an index already built, e.g. with a non-default ring threshold; reads the index, never writes it (rings aside, see `TableIndex.rings`). */
export function selectFromIndex(index: SelectionIndex, origin: MirrorTable["origin"], request: SelectionRequest): Selection {
  const { client } = request;
  const address = client.ip === null ? null : parseIp(client.ip);
  const [key1, key2] = hashWords(`${clientNetwork(address)}\n${request.repository}`);
  const setMask = setMaskOf(index, request.sets);
  const pass: Pass = { index, generation: request.generation, key1, key2, taken: new Uint8Array(index.mirrors.length), picked: [], tiers: [], setMask, pinned: 0 };
  if (request.digest !== undefined) for (const mirror of index.badBlobs.get(request.digest) ?? []) pass.taken[mirror] = 1;
  for (const mirror of avoidedBy(index, request.choice)) pass.taken[mirror] = 1;
  const limit = Math.max(0, Math.floor(request.limit));

  // A pin that may serve this client and content goes first; one that may not (unknown, down, stale,
  // out of scope, avoided, not carrying the content) is ignored: normal selection, never an unverified mirror.
  const pinned = request.choice?.pin === null || request.choice?.pin === undefined ? undefined : index.byId.get(request.choice.pin);
  if (limit > 0 && pinned !== undefined && qualifies(pass, pinned) && inScope(index.mirrors[pinned]!, client, address)) {
    pass.taken[pinned] = 1;
    pass.picked.push(pinned);
    pass.tiers.push("pinned");
    pass.pinned = 1;
  }

  // Right after a publication no mirror has the new content yet: answer with the origin at once
  // instead of walking every tier (and every point of the large tiers' rings) to find nothing.
  if (request.generation <= index.newestGeneration) pickMirrors(pass, client, address, limit);

  const chosen: ChosenMirror[] = pass.picked.map((i, position) => {
    const mirror = index.mirrors[i]!;
    return { id: mirror.id, baseUrl: mirror.baseUrl, country: mirror.country, tier: pass.tiers[position]! };
  });
  if (origin !== null) {
    chosen.push({ id: "origin", baseUrl: origin.baseUrl, country: origin.country ?? null, tier: "origin" });
  }
  return { chosen, excluded: request.explain === true ? exclusions(index, request, address, pass.picked, setMask) : [] };
}
