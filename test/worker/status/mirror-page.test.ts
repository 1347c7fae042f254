import { reset } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { CheckRecord, CrawlState, Mirror } from "../../../src/mirrors/types";
import type { MirrorReport, StatusReport } from "../../../src/render/status-report";
import { keys } from "../../../src/store/keys";
import { healthy, mirror, seedMirrors } from "../helpers/mirrors";

const FAILED_URL = "http://syncing.mirror.test/tree/blobs/sha256/" + "ab".repeat(32);
const checks: CheckRecord[] = [
  { at: "2026-11-27T11:58:00.000Z", outcome: "pass", announced: 2, verified: 2, blobs: 3, failure: null },
  { at: "2026-11-27T11:59:00.000Z", outcome: "held", announced: 3, verified: 2, blobs: 3, failure: { url: FAILED_URL, reason: "http-status", detail: `HTTP 404 for ${FAILED_URL}` } },
];

const MIRRORS: Mirror[] = [mirror("syncing"), mirror("campus", { private: true, netblocks: ["192.0.2.0/24"] })];
const CRAWL: CrawlState = {
  syncing: healthy(2, {
    announced: 3,
    progress: { verified: 7, total: 9 },
    lastFailure: "2026-11-27T11:59:00.000Z",
    lastFailureReason: "http-status",
    lastFailureDetail: `HTTP 404 for ${FAILED_URL}`,
    lastFailureUrl: FAILED_URL,
    recent: checks,
  }),
  campus: healthy(3, { recent: checks }),
};

async function get(path: string, accept?: string): Promise<Response> {
  return exports.default.fetch(new Request(`http://frontdoor.test${path}`, accept === undefined ? {} : { headers: { Accept: accept } }));
}

describe("operators see why", () => {
  beforeEach(async () => {
    await reset();
    await seedMirrors({ origin: null, mirrors: MIRRORS }, CRAWL);
    await env.REGISTRY.put(keys.publication(), JSON.stringify({ generation: 3, published: "2026-11-27T11:00:00.000Z" }));
  });

  it("Should show each public mirror's verified and announced generation, progress and last failure in /status.json", async () => {
    const report: StatusReport = await (await get("/status.json")).json();
    expect(report.mirrors.find((row) => row.id === "syncing")).toMatchObject({
      status: "stale",
      verified: 2,
      announced: 3,
      progress: { verified: 7, total: 9 },
      lastFailure: { url: FAILED_URL, reason: "http-status", detail: `HTTP 404 for ${FAILED_URL}`, at: "2026-11-27T11:59:00.000Z" },
    });
  });

  it("Should show the failing URL and the verification progress on the status page, and link the mirror's page", async () => {
    const page = await (await get("/")).text();
    expect(page).toContain(FAILED_URL);
    expect(page).toContain("7 of 9");
    expect(page).toContain('href="/mirrors/syncing"');
  });

  it("Should answer /mirrors/<id>.json with the mirror's recent checks, newest first", async () => {
    const response = await get("/mirrors/syncing.json");
    expect(response.status).toBe(200);
    const report: MirrorReport = await response.json();
    expect(report.mirror).toMatchObject({ id: "syncing", verified: 2, announced: 3 });
    expect(report.recent).toEqual([...checks].reverse());
  });

  it("Should answer /mirrors/<id> as JSON for Accept: application/json and as HTML for a browser", async () => {
    const json = await get("/mirrors/syncing", "application/json");
    expect(json.headers.get("Content-Type")).toContain("application/json");
    expect(((await json.json()) as MirrorReport).recent).toHaveLength(2);
    const html = await get("/mirrors/syncing", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");
    expect(html.headers.get("Content-Type")).toContain("text/html");
    const text = await html.text();
    expect(text).toContain("held");
    expect(text).toContain(FAILED_URL);
  });

  it("Should answer NOT_FOUND for a private mirror and for an id the table does not list", async () => {
    for (const path of ["/mirrors/campus", "/mirrors/campus.json", "/mirrors/nowhere", "/mirrors/__proto__.json"]) {
      const response = await get(path);
      expect(response.status, path).toBe(404);
      expect(((await response.json()) as { errors: Array<{ code: string }> }).errors[0]?.code).toBe("NOT_FOUND");
    }
  });
});
