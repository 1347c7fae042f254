import { describe, expect, it } from "vitest";
import { parseHostChoice } from "../../../src/mirrors/choice";
import { selectMirrors, type SelectionRequest } from "../../../src/mirrors/select";
import type { CrawlState, Mirror } from "../../../src/mirrors/types";
import { client, crawledAt, healthy, mirror, table } from "../helpers/mirrors";

function request(fields: Partial<SelectionRequest> = {}): SelectionRequest {
  return { client: client({ country: "DE", continent: "EU" }), generation: 1, repository: "demo/hello", limit: 10, ...fields };
}

function ids(mirrors: Mirror[], fields: Partial<SelectionRequest> = {}, crawl: CrawlState = crawledAt(mirrors, 1)): string[] {
  return selectMirrors(table(mirrors), crawl, request(fields)).chosen.map((chosen) => chosen.id);
}

function reasons(mirrors: Mirror[], fields: Partial<SelectionRequest> = {}, crawl: CrawlState = crawledAt(mirrors, 1)) {
  return new Map(selectMirrors(table(mirrors), crawl, request({ ...fields, explain: true })).excluded.map(({ id, reason }) => [id, reason]));
}

describe("selection and content sets", () => {
  const mirrors = [mirror("whole"), mirror("amd64-only", { sets: ["amd64"] }), mirror("arm64-only", { sets: ["arm64"] })];

  it("Should send content of one set only to mirrors carrying it or the whole tree", () => {
    expect(ids(mirrors, { sets: ["amd64"] }).sort()).toEqual(["amd64-only", "origin", "whole"]);
    expect(ids(mirrors, { sets: ["arm64"] }).sort()).toEqual(["arm64-only", "origin", "whole"]);
  });

  it("Should send a blob shared by two sets to mirrors of either", () => {
    expect(ids(mirrors, { sets: ["amd64", "arm64"] }).sort()).toEqual(["amd64-only", "arm64-only", "origin", "whole"]);
  });

  it("Should send content in no set, or from a record without sets, only to whole-tree mirrors", () => {
    expect(ids(mirrors, { sets: [] })).toEqual(["whole", "origin"]);
    expect(ids(mirrors)).toEqual(["whole", "origin"]);
  });

  it("Should name a mirror not carrying the content's set as not-carried in the explain view", () => {
    expect(reasons(mirrors, { sets: ["arm64"] }).get("amd64-only")).toBe("not-carried");
  });

  it("Should treat a mirror subscribed to all as a whole-tree mirror", () => {
    expect(ids([mirror("explicit", { sets: ["all"] })], { sets: [] })).toEqual(["explicit", "origin"]);
  });

  it("Should apply the verified generation to a set mirror as to any other", () => {
    const crawl = { ...crawledAt(mirrors, 2), "amd64-only": healthy(1) };
    expect(ids(mirrors, { sets: ["amd64"], generation: 2 })).not.toContain("amd64-only");
    expect(reasons(mirrors, { sets: ["amd64"], generation: 2 }, crawl).get("amd64-only")).toBe("stale");
  });

  it("Should handle more than 32 sets in the table", () => {
    const many = Array.from({ length: 50 }, (_, i) => mirror(`s${i}`, { sets: [`set-${i}`] }));
    expect(ids(many, { sets: ["set-40"] })).toEqual(["s40", "origin"]);
    expect(ids(many, { sets: ["set-3", "set-47"] }).sort()).toEqual(["origin", "s3", "s47"]);
  });
});

describe("scopes", () => {
  const mirrors = [
    mirror("de-only", { scope: "country" }),
    mirror("eu-only", { country: "FR", scope: "continent" }),
    mirror("de-and-ch", { scope: "country", otherCountries: ["CH"] }),
    mirror("campus", { country: "US", continent: "NA", scope: "country", netblocks: ["203.0.113.0/24"] }),
  ];

  it("Should send a country-scoped mirror only clients of its country", () => {
    expect(ids(mirrors, { client: client({ country: "DE", continent: "EU" }) })).toContain("de-only");
    const austria = ids(mirrors, { client: client({ country: "AT", continent: "EU" }) });
    expect(austria).not.toContain("de-only");
    expect(austria).toContain("eu-only");
  });

  it("Should send a continent-scoped mirror only clients of its continent", () => {
    expect(ids(mirrors, { client: client({ country: "US", continent: "NA" }) })).toEqual(["campus", "origin"]);
    expect(reasons(mirrors, { client: client({ country: "US", continent: "NA" }) }).get("eu-only")).toBe("out-of-scope");
  });

  it("Should let a scoped mirror serve its other countries", () => {
    const swiss = ids(mirrors, { client: client({ country: "CH", continent: "EU" }) });
    expect(swiss[0]).toBe("de-and-ch");
    expect(swiss).not.toContain("de-only");
  });

  it("Should let a scoped mirror serve its own netblocks wherever they are", () => {
    expect(ids(mirrors, { client: client({ ip: "203.0.113.9", country: "JP", continent: "AS" }) })[0]).toBe("campus");
  });

  it("Should send a client without a known place to no scoped mirror", () => {
    expect(ids(mirrors, { client: client() })).toEqual(["origin"]);
  });
});

describe("pinning and avoiding mirrors", () => {
  const mirrors = [mirror("de-fra"), mirror("de-ber"), mirror("us-iad", { country: "US", continent: "NA" }), mirror("nl-ams", { country: "NL", sets: ["amd64"] })];
  const hosts = ["registry.example.org", "localhost"];

  it("Should read pins and avoids from the host name below the front door's own", () => {
    expect(parseHostChoice("us-iad.registry.example.org", hosts)).toEqual({ pin: "us-iad", avoid: [], avoidCountries: [] });
    expect(parseHostChoice("not-de-fra.not-us.localhost:8787", hosts)).toEqual({ pin: null, avoid: ["de-fra", "us"], avoidCountries: ["US"] });
    expect(parseHostChoice("registry.example.org", hosts).pin).toBeNull();
    expect(parseHostChoice("us-iad.elsewhere.example", hosts).pin).toBeNull();
    expect(parseHostChoice("a.b.localhost", hosts).pin).toBeNull();
    expect(parseHostChoice("bad_%.localhost", hosts).pin).toBeNull();
    expect(parseHostChoice("us-iad.localhost", []).pin).toBeNull();
  });

  it("Should put the pinned mirror first, even across continents, and keep the rest of the list", () => {
    const chosen = selectMirrors(table(mirrors), crawledAt(mirrors, 1), request({ choice: { pin: "us-iad", avoid: [], avoidCountries: [] } })).chosen;
    expect(chosen[0]).toMatchObject({ id: "us-iad", tier: "pinned" });
    expect(chosen.map((entry) => entry.id)).toContain("de-fra");
  });

  it("Should ignore a pin to an unknown, down, stale or non-carrying mirror: normal selection, never an unverified mirror", () => {
    const normal = ids(mirrors);
    expect(ids(mirrors, { choice: { pin: "nowhere", avoid: [], avoidCountries: [] } })).toEqual(normal);
    const crawl = { ...crawledAt(mirrors, 1), "us-iad": healthy(1, { down: true }) };
    expect(ids(mirrors, { choice: { pin: "us-iad", avoid: [], avoidCountries: [] } }, crawl)).toEqual(ids(mirrors, {}, crawl));
    expect(ids(mirrors, { generation: 2, choice: { pin: "us-iad", avoid: [], avoidCountries: [] } }, { ...crawledAt(mirrors, 2), "us-iad": healthy(1) })).not.toContain("us-iad");
    expect(ids(mirrors, { sets: ["arm64"], choice: { pin: "nl-ams", avoid: [], avoidCountries: [] } })[0]).not.toBe("nl-ams");
    const unchecked = { ...crawledAt(mirrors, 1) };
    delete unchecked["us-iad"];
    expect(ids(mirrors, { choice: { pin: "us-iad", avoid: [], avoidCountries: [] } }, unchecked)).not.toContain("us-iad");
  });

  it("Should ignore a pin to a scoped mirror from outside its scope", () => {
    const scoped = [...mirrors, mirror("jp-only", { country: "JP", continent: "AS", scope: "country" })];
    expect(ids(scoped, { choice: { pin: "jp-only", avoid: [], avoidCountries: [] } })).not.toContain("jp-only");
  });

  it("Should never list an avoided mirror or a mirror of an avoided country", () => {
    expect(ids(mirrors, { choice: { pin: null, avoid: ["de-fra"], avoidCountries: [] } })).not.toContain("de-fra");
    const noGermany = ids(mirrors, { choice: { pin: null, avoid: [], avoidCountries: ["DE"] } });
    expect(noGermany).not.toContain("de-fra");
    expect(noGermany).not.toContain("de-ber");
    expect(reasons(mirrors, { choice: { pin: null, avoid: ["de-ber"], avoidCountries: [] } }).get("de-ber")).toBe("avoided");
  });

  it("Should fall back to the origin when every mirror is avoided", () => {
    expect(ids(mirrors, { sets: ["amd64"], choice: { pin: null, avoid: [], avoidCountries: ["DE", "US", "NL"] } })).toEqual(["origin"]);
  });
});
