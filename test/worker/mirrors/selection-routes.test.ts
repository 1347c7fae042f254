import { reset } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { buildApp } from "../../../src/app";
import type { Digest } from "../../../src/oci/reference";
import { blobEntry, putEntry, tagListEntry } from "../../../src/store/encode";
import type { MirrorTable, CrawlState } from "../../../src/mirrors/types";
import { healthy, mirror, ORIGIN_URL, seedMirrors } from "../helpers/mirrors";

const FRONTDOOR = "http://frontdoor.test";
const REPOSITORY = "library/busybox";
const DIGEST: Digest = `sha256:${"ab".repeat(32)}`;
const GERMANY = { country: "DE", continent: "EU", asn: 3320, latitude: 52.5, longitude: 13.4 };

const de = mirror("mirror-de");
const jp = mirror("mirror-jp", { country: "JP", continent: "AS" });

/** Seeds one blob of `generation` and a mirror table with its crawl state, each under a fresh version. */
async function seed(mirrors = [de, jp], crawl: CrawlState = { "mirror-de": healthy(3), "mirror-jp": healthy(3) }, origin: MirrorTable["origin"] = { baseUrl: ORIGIN_URL }, generation = 2) {
  await putEntry(env.REGISTRY, blobEntry(REPOSITORY, DIGEST, { size: 12, generation }));
  await putEntry(env.REGISTRY, tagListEntry(REPOSITORY, ["latest"]));
  await seedMirrors({ origin, mirrors }, crawl);
}

function blobRequest(path: string, headers: Record<string, string> = {}, cf: Record<string, unknown> = GERMANY): Request {
  return new Request(`${FRONTDOOR}${path}`, { redirect: "manual", headers: { "CF-Connecting-IP": "192.0.2.10", ...headers }, cf } as RequestInit);
}

const blobPath = `/v2/${REPOSITORY}/blobs/${DIGEST}`;
const debugPath = `/debug/selection/${REPOSITORY}/blobs/${DIGEST}`;

/** The worker as deployed: same code, FRONTDOOR_ENV=production. */
function production(request: Request): Promise<Response> {
  return Promise.resolve(buildApp().fetch(request, { ...env, FRONTDOOR_ENV: "production" }));
}

beforeEach(() => reset());

describe("blob redirects through selection", () => {
  it("Should redirect to the mirror in the client's country as request.cf reports it", async () => {
    await seed();
    const response = await exports.default.fetch(blobRequest(blobPath));
    expect([response.status, response.headers.get("Location")]).toEqual([307, `${de.baseUrl}/blobs/sha256/${"ab".repeat(32)}`]);
  });

  it("Should move the pull to another country's mirror with the dev override header", async () => {
    await seed();
    const response = await exports.default.fetch(blobRequest(blobPath, { "X-Frontdoor-Client-Country": "JP", "X-Frontdoor-Client-Continent": "AS" }));
    expect(response.headers.get("Location")).toBe(`${jp.baseUrl}/blobs/sha256/${"ab".repeat(32)}`);
  });

  it("Should ignore the dev override header in production", async () => {
    await seed();
    const response = await production(blobRequest(blobPath, { "X-Frontdoor-Client-Country": "JP", "X-Frontdoor-Client-Continent": "AS" }));
    expect(response.headers.get("Location")).toBe(`${de.baseUrl}/blobs/sha256/${"ab".repeat(32)}`);
  });

  it("Should redirect to the origin when every mirror is behind the blob's generation", async () => {
    await seed([de, jp], { "mirror-de": healthy(1), "mirror-jp": healthy(1) });
    const response = await exports.default.fetch(blobRequest(blobPath));
    expect(response.headers.get("Location")).toBe(`${ORIGIN_URL}/blobs/sha256/${"ab".repeat(32)}`);
  });

  it("Should answer 503 MIRROR_UNAVAILABLE when no mirror qualifies and there is no origin", async () => {
    await seed([de, jp], { "mirror-de": healthy(1), "mirror-jp": healthy(3, { down: true }) }, null);
    const response = await exports.default.fetch(blobRequest(blobPath));
    const body = (await response.json()) as { errors: Array<{ code: string }> };
    expect([response.status, body.errors.map((e) => e.code)]).toEqual([503, ["MIRROR_UNAVAILABLE"]]);
  });
});

describe("GET /debug/selection/<name>/blobs/<digest>", () => {
  it("Should show the chosen mirrors with their tiers and the excluded ones with their reasons", async () => {
    const fr = mirror("mirror-fr", { country: "FR" });
    await seed([de, jp, fr, mirror("mirror-off", { enabled: false })], { "mirror-de": healthy(3), "mirror-jp": healthy(3), "mirror-fr": healthy(1) });
    const body = (await (await exports.default.fetch(blobRequest(debugPath))).json()) as Record<string, unknown>;
    expect([body.chosen, body.excluded]).toEqual([
      [
        { id: "mirror-de", tier: "country", country: "DE", url: `${de.baseUrl}/blobs/sha256/${"ab".repeat(32)}` },
        { id: "mirror-jp", tier: "world", country: "JP", url: `${jp.baseUrl}/blobs/sha256/${"ab".repeat(32)}` },
        { id: "origin", tier: "origin", country: null, url: `${ORIGIN_URL}/blobs/sha256/${"ab".repeat(32)}` },
      ],
      [
        { id: "mirror-fr", reason: "stale" },
        { id: "mirror-off", reason: "disabled" },
      ],
    ]);
  });

  it("Should show the client location after the dev overrides, naming headers it ignored", async () => {
    await seed();
    const response = await exports.default.fetch(blobRequest(debugPath, { "X-Frontdoor-Client-Asn": "64511", "X-Frontdoor-Client-Lon": "east" }));
    const body = (await response.json()) as { client: { asn: number; longitude: number }; ignoredHeaders: string[] };
    expect([body.client.asn, body.client.longitude, body.ignoredHeaders]).toEqual([64511, 13.4, ["X-Frontdoor-Client-Lon"]]);
  });

  it("Should answer BLOB_UNKNOWN for a blob the repository does not have", async () => {
    await seed();
    const response = await exports.default.fetch(blobRequest(`/debug/selection/${REPOSITORY}/blobs/sha256:${"cd".repeat(32)}`));
    const body = (await response.json()) as { errors: Array<{ code: string }> };
    expect([response.status, body.errors[0]?.code]).toEqual([404, "BLOB_UNKNOWN"]);
  });

  it("Should answer 404 NOT_FOUND in production", async () => {
    await seed();
    const response = await production(blobRequest(debugPath));
    const body = (await response.json()) as { errors: Array<{ code: string }> };
    expect([response.status, body.errors[0]?.code]).toEqual([404, "NOT_FOUND"]);
  });
});
