import { reset } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { buildApp } from "../../../src/app";
import type { StatusReport } from "../../../src/render/status-report";
import { CompositionRoot } from "../../../src/services";
import { AnalyticsEngineStats, dataPoint, parseSummary, summaryQuery, SUMMARY_TTL_MS } from "../../../src/stats/analytics-engine";
import { PRIVATE_MIRRORS, publicSummary } from "../../../src/stats/download-stats";
import { MemoryDownloadStats } from "../../../src/stats/memory-stats";
import { downloadStatsSettings } from "../../../src/stats/stats-settings";
import { healthy, mirror, seedMirrors, table } from "../helpers/mirrors";
import { seedImage } from "../helpers/seed";

const T0 = Date.parse("2026-11-27T12:00:00Z");
const MINUTE = 60_000;

describe("MemoryDownloadStats", () => {
  it("Should count redirects and bytes per mirror, country and set over the last hour and the last day", async () => {
    let now = T0;
    const stats = new MemoryDownloadStats(() => now);
    stats.record({ mirror: "berlin", country: "DE", set: null, bytes: 100 });
    now = T0 + 30 * MINUTE;
    stats.record({ mirror: "berlin", country: "FR", set: "base", bytes: 50 });
    stats.record({ mirror: "tokyo", country: null, set: "base", bytes: 7 });
    now = T0 + 80 * MINUTE;
    stats.record({ mirror: "tokyo", country: "JP", set: null, bytes: 1 });

    const summary = await stats.summary(now);
    expect(summary.hour).toEqual({
      redirects: 3,
      bytes: 58,
      mirrors: [
        { id: "tokyo", redirects: 2, bytes: 8 },
        { id: "berlin", redirects: 1, bytes: 50 },
      ],
      countries: [
        { country: "FR", redirects: 1, bytes: 50 },
        { country: "unknown", redirects: 1, bytes: 7 },
        { country: "JP", redirects: 1, bytes: 1 },
      ],
      sets: [{ set: "base", redirects: 2, bytes: 57 }],
    });
    expect([summary.day.redirects, summary.day.bytes]).toEqual([4, 158]);
    expect((await stats.summary(T0 + 25 * 60 * MINUTE)).day.redirects).toBe(1);
    expect((await stats.summary(T0 + 26 * 60 * MINUTE)).day.redirects).toBe(0);
  });

  it("Should sum private mirrors under one name for the public", async () => {
    const stats = new MemoryDownloadStats(() => T0);
    for (const id of ["campus", "lab", "berlin"]) stats.record({ mirror: id, country: "DE", set: null, bytes: 10 });
    const shown = publicSummary(await stats.summary(T0), table([mirror("berlin"), mirror("campus", { private: true }), mirror("lab", { private: true })]));
    expect(shown.day.mirrors).toEqual([
      { id: PRIVATE_MIRRORS, redirects: 2, bytes: 20 },
      { id: "berlin", redirects: 1, bytes: 10 },
    ]);
  });
});

describe("Workers Analytics Engine", () => {
  it("Should write one data point per redirect: mirror, country and set as blobs, one and the bytes as doubles, the mirror as index", () => {
    const points: AnalyticsEngineDataPoint[] = [];
    const stats = new AnalyticsEngineStats({ writeDataPoint: (point) => void points.push(point!) }, null);
    stats.record({ mirror: "berlin", country: null, set: null, bytes: 4096 });
    expect(points).toEqual([{ blobs: ["berlin", "", ""], doubles: [1, 4096], indexes: ["berlin"] }]);
    expect(dataPoint({ mirror: "tokyo", country: "JP", set: "base", bytes: 1 }).blobs).toEqual(["tokyo", "JP", "base"]);
  });

  it("Should refuse a dataset name that is not a plain identifier, since it goes into SQL", () => {
    expect(summaryQuery("frontdoor_downloads")).toContain("FROM frontdoor_downloads WHERE timestamp > NOW() - INTERVAL '1' DAY");
    expect(() => summaryQuery("x; DROP TABLE y")).toThrow(/STATS_DATASET/);
  });

  it("Should read both windows with one SQL API query, weighted by the sample interval, and reuse it for a minute", async () => {
    const calls: Array<{ url: string; init: RequestInit }> = [];
    const body = {
      data: [
        { mirror: "berlin", country: "DE", content_set: "", hour_redirects: "2", hour_bytes: "200", day_redirects: "5", day_bytes: "500" },
        { mirror: "tokyo", country: "", content_set: "", hour_redirects: 0, hour_bytes: 0, day_redirects: 1, day_bytes: 9 },
      ],
    };
    const fetcher = (async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return Response.json(body);
    }) as unknown as typeof fetch;
    const stats = new AnalyticsEngineStats({ writeDataPoint: () => undefined }, { accountId: "acct", token: "secret", dataset: "frontdoor_downloads" }, fetcher);
    const summary = await stats.summary(T0);
    expect(summary?.hour).toMatchObject({ redirects: 2, bytes: 200, mirrors: [{ id: "berlin", redirects: 2, bytes: 200 }] });
    expect(summary?.day).toMatchObject({ redirects: 6, bytes: 509, countries: [{ country: "DE", redirects: 5, bytes: 500 }, { country: "unknown", redirects: 1, bytes: 9 }] });
    expect(calls[0]!.url).toBe("https://api.cloudflare.com/client/v4/accounts/acct/analytics_engine/sql");
    expect(new Headers(calls[0]!.init.headers).get("Authorization")).toBe("Bearer secret");
    expect(String(calls[0]!.init.body)).toContain("_sample_interval * double2");
    await stats.summary(T0 + SUMMARY_TTL_MS - 1);
    expect(calls).toHaveLength(1);
    await stats.summary(T0 + SUMMARY_TTL_MS);
    expect(calls).toHaveLength(2);
  });

  it("Should answer no figures, not an error, when the SQL API fails or is not configured", async () => {
    const failing = (async () => new Response("denied", { status: 403 })) as unknown as typeof fetch;
    const stats = new AnalyticsEngineStats({ writeDataPoint: () => undefined }, { accountId: "a", token: "t", dataset: "d" }, failing);
    expect(await stats.summary(T0)).toBeNull();
    expect(await new AnalyticsEngineStats({ writeDataPoint: () => undefined }, null).summary(T0)).toBeNull();
    expect(() => parseSummary({ errors: [] }, new Date(T0))).toThrow(/data array/);
  });

  it("Should choose the sink from DOWNLOAD_STATS and the binding, and refuse what cannot work", () => {
    const dataset = { writeDataPoint: () => undefined };
    expect(downloadStatsSettings({ REGISTRY: env.REGISTRY }).mode).toBe("off");
    expect(downloadStatsSettings({ REGISTRY: env.REGISTRY, STATS: dataset })).toEqual({ mode: "analytics-engine", api: null });
    expect(downloadStatsSettings({ REGISTRY: env.REGISTRY, STATS: dataset, STATS_ACCOUNT_ID: "a", STATS_API_TOKEN: "t" }).api).toEqual({ accountId: "a", token: "t", dataset: "frontdoor_downloads" });
    expect(() => downloadStatsSettings({ REGISTRY: env.REGISTRY, DOWNLOAD_STATS: "analytics-engine" })).toThrow(/no STATS binding/);
    expect(() => downloadStatsSettings({ REGISTRY: env.REGISTRY, DOWNLOAD_STATS: "kv" })).toThrow(/DOWNLOAD_STATS must be/);
  });
});

describe("download statistics through the blob route and the status report", () => {
  beforeEach(() => reset());

  it("Should count each blob redirect once for the mirror it names and the client's country, with the bytes a Range resume still fetches", async () => {
    const image = await seedImage("library/busybox", "latest", 1);
    const berlin = mirror("berlin");
    const tokyo = mirror("tokyo", { country: "JP", continent: "AS" });
    await seedMirrors({ origin: null, mirrors: [berlin, tokyo] }, { berlin: healthy(1), tokyo: healthy(1) });
    const app = buildApp({ root: new CompositionRoot() });
    const production = { ...env, FRONTDOOR_ENV: "production", DOWNLOAD_STATS: "memory" };
    const ask = async (path: string, cf: Record<string, unknown>, headers: Record<string, string> = {}) => {
      const request = new Request(`http://frontdoor.test${path}`, { redirect: "manual", headers: { "CF-Connecting-IP": "198.51.100.1", ...headers }, cf } as RequestInit);
      return app.fetch(request, production);
    };
    const layer = `/v2/library/busybox/blobs/${image.layerDigest}`;
    const locations: string[] = [];
    for (const [cf, headers] of [
      [{ country: "DE", continent: "EU" }, {}],
      [{ country: "DE", continent: "EU" }, { Range: "bytes=5-" }],
      [{ country: "JP", continent: "AS" }, {}],
    ] as const) {
      const response = await ask(layer, cf, headers);
      expect(response.status).toBe(307);
      locations.push(response.headers.get("Location")!);
    }
    expect((await ask(layer, { country: "JP" }, {})).status).toBe(307);
    const head = await app.fetch(new Request(`http://frontdoor.test${layer}`, { method: "HEAD" }), production);
    expect(head.status).toBe(200);

    const report = (await (await app.fetch(new Request("http://frontdoor.test/status.json"), production)).json()) as StatusReport;
    const counted = Object.fromEntries(report.downloads!.hour.mirrors.map((row) => [row.id, [row.redirects, row.bytes]]));
    expect(locations.map((location) => (location.startsWith(berlin.baseUrl) ? "berlin" : location.startsWith(tokyo.baseUrl) ? "tokyo" : location))).toEqual(["berlin", "berlin", "tokyo"]);
    expect(report.downloads!.source).toBe("memory");
    expect(counted).toEqual({ berlin: [2, 2 * image.layerSize - 5], tokyo: [2, 2 * image.layerSize] });
    expect(report.downloads!.hour.countries).toEqual([
      { country: "JP", redirects: 2, bytes: 2 * image.layerSize },
      { country: "DE", redirects: 2, bytes: 2 * image.layerSize - 5 },
    ]);
    const page = await (await app.fetch(new Request("http://frontdoor.test/"), production)).text();
    expect(page).toContain('<strong data-field="hour-total">4</strong>');
  });
});
