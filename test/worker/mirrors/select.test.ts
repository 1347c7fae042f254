import { describe, expect, it } from "vitest";
import { selectFromIndex, selectMirrors, type SelectionRequest } from "../../../src/mirrors/select";
import { buildTableIndex, SelectionCache, withHealth } from "../../../src/mirrors/selection-index";
import type { CrawlState, Mirror, MirrorTable } from "../../../src/mirrors/types";
import { client, crawledAt, healthy, mirror, ORIGIN_URL, table } from "../helpers/mirrors";

function request(fields: Partial<SelectionRequest> = {}): SelectionRequest {
  return { client: client(), generation: 1, repository: "library/alpine", limit: 10, ...fields };
}

function select(mirrors: Mirror[], fields: Partial<SelectionRequest> = {}, crawl: CrawlState = crawledAt(mirrors, 1), origin?: MirrorTable["origin"]) {
  return selectMirrors(table(mirrors, origin), crawl, request(fields));
}

function firstOf(mirrors: Mirror[], fields: Partial<SelectionRequest> = {}, crawl?: CrawlState) {
  const [first] = select(mirrors, fields, crawl).chosen;
  return first === undefined ? null : { id: first.id, tier: first.tier };
}

const germany = { country: "DE", continent: "EU" };

describe("selectMirrors tiers", () => {
  it("Should put a mirror whose netblock holds the client's address first, ahead of the client's country", () => {
    const mirrors = [mirror("de"), mirror("us-campus", { country: "US", continent: "NA", netblocks: ["198.51.100.0/24"] })];
    expect(firstOf(mirrors, { client: client({ ip: "198.51.100.7", ...germany }) })).toEqual({ id: "us-campus", tier: "netblock" });
  });

  it("Should match an IPv6 client against a mirror's IPv6 netblock", () => {
    const mirrors = [mirror("de"), mirror("v6-campus", { country: "US", continent: "NA", netblocks: ["2001:db8:5::/48"] })];
    expect(firstOf(mirrors, { client: client({ ip: "2001:db8:5:1::7", ...germany }) })).toEqual({ id: "v6-campus", tier: "netblock" });
  });

  it("Should put a mirror in the client's ASN first, ahead of the client's country", () => {
    const mirrors = [mirror("de"), mirror("fr-isp", { country: "FR", asns: [64500] })];
    expect(firstOf(mirrors, { client: client({ asn: 64500, ...germany }) })).toEqual({ id: "fr-isp", tier: "asn" });
  });

  it("Should put a mirror in the client's country ahead of one on the same continent", () => {
    const mirrors = [mirror("fr", { country: "FR" }), mirror("de")];
    expect(firstOf(mirrors, { client: client(germany) })).toEqual({ id: "de", tier: "country" });
  });

  it("Should put a mirror on the client's continent ahead of the rest of the world", () => {
    const mirrors = [mirror("us", { country: "US", continent: "NA" }), mirror("fr", { country: "FR" })];
    expect(firstOf(mirrors, { client: client({ country: "AT", continent: "EU" }) })).toEqual({ id: "fr", tier: "continent" });
  });

  it("Should order the rest of the world by great-circle distance from the client", () => {
    const mirrors = [
      mirror("frankfurt", { latitude: 50.1, longitude: 8.7 }),
      mirror("san-francisco", { country: "US", continent: "NA", latitude: 37.8, longitude: -122.4 }),
      mirror("sydney", { country: "AU", continent: "OC", latitude: -33.9, longitude: 151.2 }),
    ];
    const tokyo = client({ country: "JP", continent: "AS", latitude: 35.7, longitude: 139.7 });
    expect(select(mirrors, { client: tokyo }).chosen.map((m) => `${m.id}:${m.tier}`)).toEqual([
      "sydney:world",
      "san-francisco:world",
      "frankfurt:world",
      "origin:origin",
    ]);
  });

  it("Should list mirrors without coordinates after the located ones in the rest of the world", () => {
    const mirrors = [mirror("nowhere", { bandwidth: 1_000_000 }), mirror("frankfurt", { latitude: 50.1, longitude: 8.7 })];
    const tokyo = client({ country: "JP", continent: "AS", latitude: 35.7, longitude: 139.7 });
    expect(select(mirrors, { client: tokyo }).chosen.map((m) => m.id)).toEqual(["frankfurt", "nowhere", "origin"]);
  });

  it("Should place a client that the edge could not locate in the rest of the world", () => {
    const mirrors = [mirror("de"), mirror("us", { country: "US", continent: "NA" })];
    expect(select(mirrors, { client: client({ ip: null }) }).chosen.map((m) => m.tier)).toEqual(["world", "world", "origin"]);
  });
});

describe("selectMirrors list length", () => {
  const europe = Array.from({ length: 12 }, (_, i) => mirror(`fr-${i}`, { country: "FR" }));

  it("Should fill a short first tier from wider tiers up to five mirrors", () => {
    const mirrors = [mirror("de-1"), mirror("de-2"), ...europe];
    expect(select(mirrors, { client: client(germany) }).chosen.map((m) => m.tier)).toEqual([
      "country",
      "country",
      "continent",
      "continent",
      "continent",
      "origin",
    ]);
  });

  it("Should list the whole first tier up to the cap without filling from wider tiers", () => {
    const mirrors = [...Array.from({ length: 7 }, (_, i) => mirror(`de-${i}`)), ...europe];
    expect(select(mirrors, { client: client(germany) }).chosen.filter((m) => m.tier === "country")).toHaveLength(7);
  });

  it("Should list no wider-tier mirror when the first tier already holds five", () => {
    const mirrors = [...Array.from({ length: 7 }, (_, i) => mirror(`de-${i}`)), ...europe];
    expect(select(mirrors, { client: client(germany) }).chosen.map((m) => m.tier)).not.toContain("continent");
  });

  it("Should stop at the configured cap, the origin not counted", () => {
    expect(select(europe, { client: client({ country: "FR", continent: "EU" }), limit: 10 }).chosen).toHaveLength(11);
  });

  it("Should list fewer than five when the cap is lower", () => {
    expect(select(europe, { client: client({ country: "FR", continent: "EU" }), limit: 3 }).chosen.map((m) => m.tier)).toEqual([
      "country",
      "country",
      "country",
      "origin",
    ]);
  });

  it("Should list a mirror only once even when several of its netblocks hold the client", () => {
    const mirrors = [mirror("campus", { netblocks: ["198.51.0.0/16", "198.51.100.0/24"], asns: [64500] })];
    expect(select(mirrors, { client: client({ ip: "198.51.100.7", asn: 64500, ...germany }) }).chosen.map((m) => m.id)).toEqual(["campus", "origin"]);
  });
});

describe("selectMirrors private mirrors", () => {
  const campus = mirror("campus", { private: true, netblocks: ["192.0.2.0/24"], asns: [64501] });

  it("Should offer a private mirror to a client inside its netblock", () => {
    expect(firstOf([mirror("de"), campus], { client: client({ ip: "192.0.2.9", ...germany }) })).toEqual({ id: "campus", tier: "netblock" });
  });

  it("Should offer a private mirror to a client in its ASN", () => {
    expect(firstOf([mirror("de"), campus], { client: client({ asn: 64501, ...germany }) })).toEqual({ id: "campus", tier: "asn" });
  });

  it("Should hide a private mirror from a client in its country but outside its networks", () => {
    expect(select([campus], { client: client(germany) }).chosen.map((m) => m.id)).toEqual(["origin"]);
  });

  it("Should explain a hidden private mirror with the reason private", () => {
    expect(select([campus], { client: client(germany), explain: true }).excluded).toEqual([{ id: "campus", reason: "private" }]);
  });
});

describe("selectMirrors health and generation", () => {
  const de = mirror("de");

  it("Should never choose a mirror that has not synced the content's generation", () => {
    expect(select([de], { generation: 5 }, { de: healthy(4) }).chosen.map((m) => m.id)).toEqual(["origin"]);
  });

  it("Should choose a mirror that synced a later generation than the content's", () => {
    expect(firstOf([de], { generation: 5 }, { de: healthy(9) })).toEqual({ id: "de", tier: "world" });
  });

  it("Should explain a mirror behind the content's generation as stale", () => {
    expect(select([de], { generation: 5, explain: true }, { de: healthy(4) }).excluded).toEqual([{ id: "de", reason: "stale" }]);
  });

  it("Should exclude a mirror the crawler never checked as unchecked", () => {
    expect(select([de, mirror("fr")], { explain: true }, { fr: healthy(-1) }).excluded).toEqual([
      { id: "de", reason: "unchecked" },
      { id: "fr", reason: "unchecked" },
    ]);
  });

  it("Should exclude a mirror marked down, whatever its generation", () => {
    const selection = select([de], { explain: true }, { de: healthy(9, { down: true }) });
    expect([selection.chosen.map((m) => m.id), selection.excluded]).toEqual([["origin"], [{ id: "de", reason: "down" }]]);
  });

  it("Should exclude a disabled mirror", () => {
    const selection = select([mirror("de", { enabled: false })], { explain: true });
    expect([selection.chosen.map((m) => m.id), selection.excluded]).toEqual([["origin"], [{ id: "de", reason: "disabled" }]]);
  });

  it("Should leave the exclusions out unless asked to explain", () => {
    expect(select([de], {}, { de: healthy(9, { down: true }) }).excluded).toEqual([]);
  });
});

describe("selectMirrors fallbacks", () => {
  it("Should list the origin last, after every mirror", () => {
    expect(select([mirror("de")]).chosen.map((m) => m.tier)).toEqual(["world", "origin"]);
  });

  it("Should answer only the origin when no mirror qualifies", () => {
    expect(select([mirror("de")], {}, {}).chosen).toEqual([{ id: "origin", baseUrl: ORIGIN_URL, country: "US", tier: "origin" }]);
  });

  it("Should answer an empty list when no mirror qualifies and there is no origin", () => {
    expect(select([mirror("de")], {}, {}, null).chosen).toEqual([]);
  });
});

describe("selectMirrors determinism and stickiness", () => {
  const mirrors = Array.from({ length: 8 }, (_, i) => mirror(`de-${i}`, { bandwidth: 10 + i }));
  const crawl = crawledAt(mirrors, 1);

  it("Should give the same ordering for the same inputs, even from a separately built table", () => {
    const ask = request({ client: client({ ip: "203.0.113.5", ...germany }) });
    const once = selectMirrors(table(mirrors), crawl, ask);
    const again = selectMirrors(table(structuredClone(mirrors)), structuredClone(crawl), ask);
    expect(again).toEqual(once);
  });

  it("Should give every client of one /24 the same ordering for one repository", () => {
    const shared = table(mirrors);
    const orderings = new Set(
      [1, 77, 254].map((host) => selectMirrors(shared, crawl, request({ client: client({ ip: `203.0.113.${host}`, ...germany }) })).chosen.map((m) => m.id).join()),
    );
    expect(orderings.size).toBe(1);
  });

  it("Should spread one network's pulls of different repositories over the tier", () => {
    const shared = table(mirrors);
    const firsts = new Set(
      Array.from({ length: 40 }, (_, i) => selectMirrors(shared, crawl, request({ client: client({ ip: "203.0.113.5", ...germany }), repository: `team/image-${i}` })).chosen[0]!.id),
    );
    expect(firsts.size).toBeGreaterThan(3);
  });
});

describe("selection index", () => {
  it("Should reuse the index while the table's and the crawl state's versions are unchanged, even for new objects", () => {
    const mirrors = [mirror("de")];
    const shared = table(mirrors);
    const cache = new SelectionCache();
    const first = cache.index(shared, crawledAt(mirrors, 1), "crawl-1");
    expect(cache.index({ ...shared, mirrors: [...mirrors] }, crawledAt(mirrors, 1), "crawl-1")).toBe(first);
    expect(cache.versions()).toEqual({ table: shared.version, crawl: "crawl-1" });
  });

  it("Should build new health columns for a new crawl state version", () => {
    const mirrors = [mirror("de")];
    const shared = table(mirrors);
    const cache = new SelectionCache();
    const first = cache.index(shared, crawledAt(mirrors, 1), "crawl-1");
    const second = cache.index(shared, crawledAt(mirrors, 2), "crawl-2");
    expect(first.verified).not.toBe(second.verified);
    expect([...second.verified]).toEqual([2]);
  });

  it("Should build health columns afresh for a crawl state without a version", () => {
    const mirrors = [mirror("de")];
    const shared = table(mirrors);
    const cache = new SelectionCache();
    const crawl = crawledAt(mirrors, 1);
    expect(cache.index(shared, crawl).verified).not.toBe(cache.index(shared, crawl).verified);
  });

  it("Should keep the table's tier indexes across crawl states and rebuild them for a new table version", () => {
    const mirrors = [mirror("de")];
    const shared = table(mirrors);
    const cache = new SelectionCache();
    const byCountry = cache.index(shared, crawledAt(mirrors, 1), "a").byCountry;
    expect(cache.index(shared, crawledAt(mirrors, 2), "b").byCountry).toBe(byCountry);
    expect(cache.index(table(mirrors), crawledAt(mirrors, 2), "b").byCountry).not.toBe(byCountry);
  });

  it("Should reject a table with an invalid netblock, naming the mirror", () => {
    expect(() => buildTableIndex(table([mirror("typo", { netblocks: ["192.0.2.0/40"] })]))).toThrow(/"typo".*192\.0\.2\.0\/40/);
  });

  it("Should reject a mirror without a positive bandwidth, naming it", () => {
    expect(() => buildTableIndex(table([mirror("idle", { bandwidth: 0 })]))).toThrow(/"idle".*bandwidth/);
  });
});

describe("selectMirrors on a ring (large tiers)", () => {
  const mirrors = Array.from({ length: 30 }, (_, i) => mirror(`de-${i}`, { bandwidth: 10 + i }));
  const ringed = buildTableIndex(table(mirrors), { ringThreshold: 1 });

  function ringSelect(crawl: CrawlState, fields: Partial<SelectionRequest> = {}) {
    return selectFromIndex(withHealth(ringed, crawl), null, request({ client: client({ ip: "203.0.113.5", ...germany }), ...fields })).chosen;
  }

  it("Should list distinct mirrors of the tier, up to the cap", () => {
    const chosen = ringSelect(crawledAt(mirrors, 1));
    expect([chosen.length, new Set(chosen.map((m) => m.id)).size, chosen.every((m) => m.tier === "country")]).toEqual([10, 10, true]);
  });

  it("Should skip mirrors behind the content's generation while walking the ring", () => {
    const crawl = { ...crawledAt(mirrors, 1), ...Object.fromEntries(mirrors.slice(0, 25).map((m) => [m.id, healthy(0)])) };
    expect(ringSelect(crawl).map((m) => m.id).sort()).toEqual(mirrors.slice(25).map((m) => m.id).sort());
  });

  it("Should give the same ordering as a separately built ring", () => {
    const again = buildTableIndex(table(structuredClone(mirrors)), { ringThreshold: 1 });
    const crawl = crawledAt(mirrors, 1);
    expect(selectFromIndex(withHealth(again, crawl), null, request({ client: client({ ip: "203.0.113.5", ...germany }) })).chosen).toEqual(ringSelect(crawl));
  });
});
