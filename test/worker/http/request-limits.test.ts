import { describe, expect, it } from "vitest";
import { checkRequestLimits, REQUEST_LIMITS } from "../../../src/http/request-limits";
import { firstError, request } from "../helpers/fetch";

const BLOB = `blobs/sha256:${"a".repeat(64)}`;

function at(path: string, headers: Record<string, string> = {}): Request {
  return new Request(`http://frontdoor.test${path}`, { headers });
}

describe("checkRequestLimits", () => {
  it("Should pass the longest legitimate request target", () => {
    const name = Array.from({ length: 128 }, () => "a").join("/").padEnd(255, "b");
    expect(checkRequestLimits(at(`/v2/${name}/referrers/sha512:${"f".repeat(128)}?artifactType=application/vnd.example+json`))).toBeNull();
  });

  it("Should refuse a path of many empty segments by its segment count", () => {
    expect(checkRequestLimits(at(`/v2/${"/".repeat(500)}${BLOB}`))).toMatchObject({ code: "URI_TOO_LONG", detail: { limit: "pathSegments" } });
  });

  it("Should refuse a path longer than the limit", () => {
    expect(checkRequestLimits(at(`/v2/${"a".repeat(REQUEST_LIMITS.pathBytes)}/${BLOB}`))).toMatchObject({ code: "URI_TOO_LONG", detail: { limit: "pathBytes" } });
  });

  it("Should refuse a query longer than the limit", () => {
    expect(checkRequestLimits(at(`/v2/_catalog?last=${"a".repeat(REQUEST_LIMITS.queryBytes)}`))).toMatchObject({ code: "URI_TOO_LONG", detail: { limit: "queryBytes" } });
  });

  it("Should refuse a header the front door reads when it is longer than the limit, and name it", () => {
    expect(checkRequestLimits(at("/v2/", { Accept: "a/b,".repeat(5000) }))).toMatchObject({ code: "HEADERS_TOO_LARGE", detail: { limit: "headerBytes", header: "Accept" } });
    expect(checkRequestLimits(at("/v2/", { "User-Agent": "x".repeat(REQUEST_LIMITS.headerBytes + 1) }))).toMatchObject({ detail: { header: "User-Agent" } });
    expect(checkRequestLimits(at("/v2/", { Accept: "a/b,".repeat(REQUEST_LIMITS.headerBytes / 8) }))).toBeNull();
  });

  it("Should leave headers it never reads to the edge's own limits", () => {
    const many = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`x-h${i}`, "1"]));
    expect(checkRequestLimits(at("/v2/", { ...many, "X-Long": "x".repeat(4 * REQUEST_LIMITS.headerBytes) }))).toBeNull();
  });

  it("Should measure the path and the query of the request target apart", () => {
    expect(checkRequestLimits(at(`/v2/_catalog?last=${"a".repeat(REQUEST_LIMITS.queryBytes - 10)}`))).toBeNull();
    expect(checkRequestLimits(at(`/v2/${"a/".repeat(REQUEST_LIMITS.pathSegments)}?n=1`))).toMatchObject({ detail: { limit: "pathSegments" } });
  });
});

describe("The worker's limits", () => {
  it("Should answer a 16,000-slash path with a well-formed OCI error before routing", async () => {
    const response = await request(`/v2/${"/".repeat(16_000)}${BLOB}`);
    expect(response.status).toBe(414);
    expect(await firstError(response)).toMatchObject({ code: "URI_TOO_LONG", detail: { limit: "pathBytes", maximum: REQUEST_LIMITS.pathBytes, actual: 16_000 + 4 + BLOB.length } });
  });

  it("Should answer oversized headers with 431", async () => {
    const response = await request("/v2/", { headers: { Accept: "x/y,".repeat(5000) } });
    expect(response.status).toBe(431);
    expect((await firstError(response)).code).toBe("HEADERS_TOO_LARGE");
  });
});
