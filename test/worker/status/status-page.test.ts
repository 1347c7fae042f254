import { reset } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { CrawlState, Mirror } from "../../../src/mirrors/types";
import type { StatusReport } from "../../../src/render/status-report";
import { publicationEntry, publishingEntry, putEntry } from "../../../src/store/encode";
import { healthy, mirror, seedMirrors } from "../helpers/mirrors";

const MIRRORS: Mirror[] = [
  mirror("berlin"),
  mirror("paris", { country: "FR", bandwidth: 50 }),
  mirror("tokyo", { country: "JP", continent: "AS", bandwidth: 400 }),
  mirror("osaka", { country: "JP", continent: "AS" }),
  mirror("ohio", { country: "US", continent: "NA" }),
  mirror("retired", { country: "US", continent: "NA", enabled: false }),
  mirror("campus", { private: true, netblocks: ["192.0.2.0/24"], country: "NL", baseUrl: "https://campus.internal.test/oci" }),
];

const CRAWL: CrawlState = {
  berlin: healthy(3),
  paris: healthy(1),
  tokyo: healthy(3, { down: true, consecutiveFailures: 3, lastFailure: "2026-11-27T12:00:00.000Z", lastFailureReason: "timeout" }),
  osaka: healthy(3, { consecutiveFailures: 1, lastFailureReason: "size-mismatch" }),
  campus: healthy(3),
};

async function seedWorld(mirrors: Mirror[] = MIRRORS, crawl: CrawlState = CRAWL): Promise<void> {
  await seedMirrors({ origin: null, mirrors }, crawl);
  await putEntry(env.REGISTRY, publicationEntry({ generation: 3, published: "2026-11-27T11:00:00.000Z" }));
}

async function statusJson(): Promise<StatusReport> {
  const response = await exports.default.fetch("http://frontdoor.test/status.json");
  expect(response.status).toBe(200);
  return response.json();
}

async function statusHtml(): Promise<Response> {
  return exports.default.fetch("http://frontdoor.test/");
}

describe("GET /status.json", () => {
  beforeEach(() => reset());

  it("Should list each public mirror with its country, continent, bandwidth, generation and lag", async () => {
    await seedWorld();
    const paris = (await statusJson()).mirrors.find((row) => row.id === "paris");
    expect(paris).toMatchObject({ country: "FR", continent: "EU", bandwidth: 50, generation: 1, lag: 2, status: "stale" });
  });

  it("Should give each mirror the status its crawl state implies", async () => {
    await seedWorld();
    const statuses = Object.fromEntries((await statusJson()).mirrors.map((row) => [row.id, row.status]));
    expect(statuses).toEqual({ berlin: "up", paris: "stale", tokyo: "down", osaka: "failing", ohio: "unchecked", retired: "disabled" });
  });

  it("Should show private mirrors only as a count", async () => {
    await seedWorld();
    const report = await statusJson();
    expect(report.private).toEqual({ mirrors: 1, up: 1 });
    expect(JSON.stringify(report)).not.toContain("campus");
  });

  it("Should count public mirrors per status and per continent", async () => {
    await seedWorld();
    const { counts } = await statusJson();
    expect(counts.status).toEqual({ up: 1, stale: 1, failing: 1, down: 1, unchecked: 1, disabled: 1 });
    expect(counts.continents).toEqual([
      { continent: "AS", mirrors: 2, up: 0, bandwidth: 100 },
      { continent: "EU", mirrors: 2, up: 1, bandwidth: 150 },
      { continent: "NA", mirrors: 2, up: 0, bandwidth: 0 },
    ]);
  });

  it("Should leave out fields of the mirror config that the page does not list, such as contact data", async () => {
    await seedWorld([{ ...mirror("berlin"), contact: "admin@berlin.mirrors.test" } as Mirror]);
    expect(JSON.stringify(await statusJson())).not.toContain("admin@");
  });

  it("Should show a mirror's contact and sponsor only where the config marks them public", async () => {
    const about = { contact: "admin@berlin.mirrors.test", sponsor: "Berlin University", sponsorUrl: "https://uni.berlin.test/" };
    await seedWorld([
      mirror("berlin", { about: { ...about, publicContact: false, publicSponsor: true } }),
      mirror("paris", { about: { ...about, contact: "ops@paris.mirrors.test", publicContact: true, publicSponsor: false } }),
      mirror("lyon", { about: { ...about, contact: "hidden@lyon.mirrors.test", sponsor: "Hidden Sponsor", publicContact: false, publicSponsor: false } }),
    ]);
    const report = await statusJson();
    const rows = Object.fromEntries(report.mirrors.map((row) => [row.id, { contact: row.contact, sponsor: row.sponsor }]));
    expect(rows).toEqual({
      berlin: { contact: null, sponsor: { name: "Berlin University", url: "https://uni.berlin.test/" } },
      paris: { contact: "ops@paris.mirrors.test", sponsor: null },
      lyon: { contact: null, sponsor: null },
    });
    const page = await (await statusHtml()).text();
    expect(page).toContain("Sponsored by <a href=\"https://uni.berlin.test/\"");
    expect(page).toContain("mailto:ops@paris.mirrors.test");
    for (const hidden of ["admin@berlin", "hidden@lyon", "Hidden Sponsor"]) {
      expect(JSON.stringify(report)).not.toContain(hidden);
      expect(page).not.toContain(hidden);
    }
  });
});

describe("GET /", () => {
  beforeEach(() => reset());

  it("Should answer server-rendered HTML without scripts, cached briefly", async () => {
    await seedWorld();
    const response = await statusHtml();
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^text\/html/);
    expect(response.headers.get("Cache-Control")).toBe("public, max-age=30");
    expect(await response.text()).not.toMatch(/<script/i);
  });

  it("Should send a page of hundreds of mirrors whole, and an empty HEAD", async () => {
    const many = Array.from({ length: 400 }, (_, i) => mirror(`mirror-${i}`, { country: i % 2 === 0 ? "DE" : "FR" }));
    await seedWorld(many, Object.fromEntries(many.map((m) => [m.id, healthy(3)])));
    for (const path of ["/", "/status.json"]) {
      const response = await exports.default.fetch(`http://frontdoor.test${path}`);
      const body = new Uint8Array(await response.arrayBuffer());
      expect(body.byteLength).toBeGreaterThan(64 * 1024);
      const head = await exports.default.fetch(`http://frontdoor.test${path}`, { method: "HEAD" });
      expect(head.status).toBe(200);
      expect(await head.text()).toBe("");
    }
    expect((await statusJson()).mirrors).toHaveLength(400);
    const page = await (await statusHtml()).text();
    expect([...page.matchAll(/<tr data-mirror="/g)]).toHaveLength(400);
    expect(page.trimEnd()).toMatch(/<\/html>$/);
  });

  it("Should list one table row per public mirror and none for private ones", async () => {
    await seedWorld();
    const page = await (await statusHtml()).text();
    const rows = [...page.matchAll(/<tr data-mirror="([^"]+)"/g)].map((match) => match[1]).sort();
    expect(rows).toEqual(["berlin", "ohio", "osaka", "paris", "retired", "tokyo"]);
    expect(page).not.toContain("campus");
  });

  it("Should escape mirror fields in the HTML", async () => {
    await seedWorld([mirror("<b>bold</b>")], {});
    const page = await (await statusHtml()).text();
    expect(page).toContain("&lt;b&gt;bold&lt;/b&gt;");
    expect(page).not.toContain("<b>bold</b>");
  });

  it("Should say so when no mirror is configured", async () => {
    await seedWorld([], {});
    expect(await (await statusHtml()).text()).toContain("No public mirrors are configured.");
  });
});

describe("A publication that was started and not finished", () => {
  beforeEach(() => reset());

  it("Should be named on the page and in the JSON while it is newer than the publication", async () => {
    await seedWorld();
    await putEntry(env.REGISTRY, publishingEntry({ generation: 4, started: "2026-11-27T11:05:00Z" }));
    expect((await statusJson()).publishing).toEqual({ generation: 4, started: "2026-11-27T11:05:00Z" });
    const page = await (await exports.default.fetch(new Request("http://frontdoor.test/"))).text();
    expect(page).toMatch(/id="publishing">Generation <strong>4<\/strong> was started/);
  });

  it("Should be forgotten once the publication reached it", async () => {
    await seedWorld();
    await putEntry(env.REGISTRY, publishingEntry({ generation: 3, started: "2026-11-27T10:59:00Z" }));
    expect((await statusJson()).publishing).toBeNull();
    const page = await (await exports.default.fetch(new Request("http://frontdoor.test/"))).text();
    expect(page).not.toContain('id="publishing"');
  });
});
