import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cidrContains, parseCidr, parseIp } from "../../../src/mirrors/ip";
import { selectFromIndex, selectMirrors, type ClientLocation, type Selection, type SelectionRequest } from "../../../src/mirrors/select";
import { buildTableIndex, withHealth } from "../../../src/mirrors/selection-index";
import type { CrawlState, Mirror, MirrorTable } from "../../../src/mirrors/types";
import { client, crawledAt, healthy, mirror, table } from "../helpers/mirrors";

const PLACES = [
  { country: "DE", continent: "EU", latitude: 51, longitude: 10 },
  { country: "FR", continent: "EU", latitude: 46, longitude: 2 },
  { country: "US", continent: "NA", latitude: 39, longitude: -98 },
  { country: "JP", continent: "AS", latitude: 36, longitude: 138 },
];

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((parts) => parts.join("."));
const smallAsn = fc.integer({ min: 64500, max: 64505 });
const place = fc.constantFrom(...PLACES);

/** Mirrors sharing a small address space and ASN range, so random clients often land in their networks. */
const mirrorFields = fc.record({
  place,
  located: fc.boolean(),
  asns: fc.array(smallAsn, { maxLength: 2 }),
  netblock: fc.option(fc.tuple(fc.nat(3), fc.constantFrom(8, 16, 24)), { nil: undefined }),
  bandwidth: fc.integer({ min: 1, max: 1000 }),
  private: fc.boolean(),
  enabled: fc.boolean(),
  crawled: fc.integer({ min: -1, max: 4 }),
  down: fc.boolean(),
});

const randomTable = fc.array(mirrorFields, { minLength: 1, maxLength: 25 }).map((list) => {
  const mirrors = list.map((fields, i) =>
    mirror(`m${i}`, {
      country: fields.place.country,
      continent: fields.place.continent,
      ...(fields.located ? { latitude: fields.place.latitude, longitude: fields.place.longitude } : {}),
      asns: fields.asns,
      netblocks: fields.netblock === undefined ? [] : [`10.${fields.netblock[0]}.0.0/${fields.netblock[1]}`],
      bandwidth: fields.bandwidth,
      private: fields.private,
      enabled: fields.enabled,
    }),
  );
  const crawl: CrawlState = {};
  list.forEach((fields, i) => {
    if (fields.crawled !== -1 || i % 2 === 0) crawl[`m${i}`] = healthy(fields.crawled, { down: fields.down });
  });
  return { table: table(mirrors), crawl };
});

const randomClient: fc.Arbitrary<ClientLocation> = fc.record({
  ip: fc.oneof(ipv4, fc.tuple(fc.nat(3), fc.nat(255), fc.nat(255)).map(([b, c, d]) => `10.${b}.${c}.${d}`), fc.constant(null)),
  country: fc.option(fc.constantFrom("DE", "FR", "US", "JP", "BR"), { nil: null }),
  continent: fc.option(fc.constantFrom("EU", "NA", "AS", "SA"), { nil: null }),
  asn: fc.option(smallAsn, { nil: null }),
  latitude: fc.option(fc.double({ min: -90, max: 90, noNaN: true }), { nil: null }),
  longitude: fc.option(fc.double({ min: -180, max: 180, noNaN: true }), { nil: null }),
});

function visibleTo(m: Mirror, who: ClientLocation): boolean {
  if (who.asn !== null && m.asns.includes(who.asn)) return true;
  const address = who.ip === null ? null : parseIp(who.ip);
  return address !== null && m.netblocks.some((block) => cidrContains(parseCidr(block)!, address));
}

function qualifies(m: Mirror, crawl: CrawlState, generation: number, who: ClientLocation): boolean {
  const state = crawl[m.id];
  return m.enabled && state !== undefined && state.verified >= 0 && !state.down && state.verified >= generation && (!m.private || visibleTo(m, who));
}

/**
 * Selection with every single-list tier on a consistent-hash ring, as large tiers are in production.
 * The index (and the rings, built on first use) is built once here; the returned function reuses it.
 */
function ringSelector(mirrors: MirrorTable, crawl: CrawlState): (request: SelectionRequest) => Selection {
  const index = withHealth(buildTableIndex(mirrors, { ringThreshold: 1 }), crawl);
  return (request) => selectFromIndex(index, mirrors.origin, request);
}

// Each property runs hundreds of random tables; the default 5 s is too tight on a busy machine.
describe("selectMirrors properties", { timeout: 60_000 }, () => {
  it("Should never return a stale, down, disabled, unchecked or someone else's private mirror", () => {
    fc.assert(
      fc.property(randomTable, randomClient, fc.integer({ min: 0, max: 4 }), ({ table: mirrors, crawl }, who, generation) => {
        const chosen = selectMirrors(mirrors, crawl, { client: who, generation, repository: "r", limit: 10 }).chosen.filter((m) => m.tier !== "origin");
        for (const entry of chosen) {
          const declared = mirrors.mirrors.find((m) => m.id === entry.id)!;
          expect(qualifies(declared, crawl, generation, who)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("Should list at least five mirrors where that many qualify, and never more than the cap", () => {
    fc.assert(
      fc.property(randomTable, randomClient, fc.integer({ min: 1, max: 12 }), ({ table: mirrors, crawl }, who, cap) => {
        const qualifying = mirrors.mirrors.filter((m) => qualifies(m, crawl, 0, who)).length;
        const listed = selectMirrors(mirrors, crawl, { client: who, generation: 0, repository: "r", limit: cap }).chosen.filter((m) => m.tier !== "origin").length;
        expect(listed).toBeGreaterThanOrEqual(Math.min(5, qualifying, cap));
        expect(listed).toBeLessThanOrEqual(Math.min(cap, qualifying));
      }),
      { numRuns: 300 },
    );
  });

  it("Should give each mirror of one tier a share of clients within 3 points of its bandwidth share", () => {
    const clients = 6000;
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 2, maxLength: 6 }), fc.nat(), (bandwidths, seed) => {
        const mirrors = bandwidths.map((bandwidth, i) => mirror(`de-${seed}-${i}`, { bandwidth }));
        const shared = table(mirrors);
        const crawl = crawledAt(mirrors, 1);
        const counts = new Map<string, number>();
        for (let i = 0; i < clients; i++) {
          const ip = `${(i >> 8) & 255}.${i & 255}.${seed & 255}.1`;
          const first = selectMirrors(shared, crawl, { client: client({ ip, country: "DE", continent: "EU" }), generation: 1, repository: `repo-${i % 7}`, limit: 10 }).chosen[0]!;
          counts.set(first.id, (counts.get(first.id) ?? 0) + 1);
        }
        const total = bandwidths.reduce((sum, b) => sum + b, 0);
        for (const [i, m] of mirrors.entries()) {
          expect(Math.abs((counts.get(m.id) ?? 0) / clients - bandwidths[i]! / total)).toBeLessThan(0.03);
        }
      }),
      { numRuns: 12 },
    );
  });

  it("Should move only the removed mirror's clients when a mirror is removed", () => {
    fc.assert(
      fc.property(randomTable, fc.array(randomClient, { minLength: 20, maxLength: 60 }), fc.nat(), ({ table: mirrors, crawl }, clients, pick) => {
        const removed = mirrors.mirrors[pick % mirrors.mirrors.length]!;
        const without: MirrorTable = { ...mirrors, version: `${mirrors.version}-without`, mirrors: mirrors.mirrors.filter((m) => m !== removed) };
        for (const who of clients) {
          const ask = { client: who, generation: 0, repository: "team/app", limit: 10 };
          const before = selectMirrors(mirrors, crawl, ask).chosen[0]?.id;
          const after = selectMirrors(without, crawl, ask).chosen[0]?.id;
          if (before !== after) expect(before).toBe(removed.id);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("Should never return a stale, down, disabled, unchecked or someone else's private mirror from a ring", () => {
    fc.assert(
      fc.property(randomTable, randomClient, fc.integer({ min: 0, max: 4 }), ({ table: mirrors, crawl }, who, generation) => {
        const chosen = ringSelector(mirrors, crawl)({ client: who, generation, repository: "r", limit: 10 }).chosen.filter((m) => m.tier !== "origin");
        for (const entry of chosen) {
          expect(qualifies(mirrors.mirrors.find((m) => m.id === entry.id)!, crawl, generation, who)).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("Should move only a mirror's own clients when it leaves rotation on a ring", () => {
    fc.assert(
      fc.property(randomTable, fc.array(randomClient, { minLength: 20, maxLength: 60 }), fc.nat(), fc.constantFrom("down", "stale", "disabled"), ({ table: mirrors, crawl }, clients, pick, how) => {
        const leaving = mirrors.mirrors[pick % mirrors.mirrors.length]!;
        const after: CrawlState = { ...crawl, [leaving.id]: healthy(how === "stale" ? 0 : 4, { down: how === "down" }) };
        const afterTable: MirrorTable = how === "disabled" ? { ...mirrors, mirrors: mirrors.mirrors.map((m) => (m === leaving ? { ...m, enabled: false } : m)) } : mirrors;
        const selectBefore = ringSelector(mirrors, crawl);
        const selectNow = ringSelector(afterTable, after);
        for (const who of clients) {
          const ask = { client: who, generation: 1, repository: "team/app", limit: 10 };
          const before = selectBefore(ask).chosen[0]?.id;
          const now = selectNow(ask).chosen[0]?.id;
          if (before !== now) expect(before).toBe(leaving.id);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("Should move only the deleted mirror's clients when a mirror of the common bandwidth is deleted from a ring", () => {
    const sameBandwidth = randomTable.map(({ table: mirrors, crawl }) => ({ table: { ...mirrors, mirrors: mirrors.mirrors.map((m) => ({ ...m, bandwidth: 10 })) }, crawl }));
    fc.assert(
      fc.property(sameBandwidth, fc.array(randomClient, { minLength: 20, maxLength: 60 }), fc.nat(), ({ table: mirrors, crawl }, clients, pick) => {
        const removed = mirrors.mirrors[pick % mirrors.mirrors.length]!;
        const without: MirrorTable = { ...mirrors, mirrors: mirrors.mirrors.filter((m) => m !== removed) };
        const selectBefore = ringSelector(mirrors, crawl);
        const selectAfter = ringSelector(without, crawl);
        for (const who of clients) {
          const ask = { client: who, generation: 0, repository: "team/app", limit: 10 };
          const before = selectBefore(ask).chosen[0]?.id;
          const after = selectAfter(ask).chosen[0]?.id;
          if (before !== after) expect(before).toBe(removed.id);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("Should spread clients over a ring's mirrors by bandwidth, at most 8% of them placed otherwise", () => {
    const clients = 8000;
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 5, max: 20 }), { minLength: 20, maxLength: 40 }), fc.nat(), (bandwidths, seed) => {
        const mirrors = bandwidths.map((bandwidth, i) => mirror(`de-${seed}-${i}`, { bandwidth }));
        const ringed = withHealth(buildTableIndex(table(mirrors), { ringThreshold: 1 }), crawledAt(mirrors, 1));
        const counts = new Map<string, number>();
        for (let i = 0; i < clients; i++) {
          const ip = `${(i >> 8) & 255}.${i & 255}.${seed & 255}.1`;
          const first = selectFromIndex(ringed, null, { client: client({ ip, country: "DE", continent: "EU" }), generation: 1, repository: `repo-${i % 7}`, limit: 10 }).chosen[0]!;
          counts.set(first.id, (counts.get(first.id) ?? 0) + 1);
        }
        const total = bandwidths.reduce((sum, b) => sum + b, 0);
        // Total variation distance: the fraction of clients that would have to move for shares to match bandwidth exactly.
        const misplaced = mirrors.reduce((sum, m, i) => sum + Math.abs((counts.get(m.id) ?? 0) / clients - bandwidths[i]! / total), 0) / 2;
        expect(misplaced).toBeLessThan(0.08);
      }),
      { numRuns: 6 },
    );
  });
});
