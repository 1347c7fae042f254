import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("GET /v2/", () => {
  it("Should answer the version check with {} and the API version header", async () => {
    const response = await exports.default.fetch("http://frontdoor.test/v2/");
    expect(response.status).toBe(200);
    expect(response.headers.get("Docker-Distribution-API-Version")).toBe("registry/2.0");
    expect(await response.json()).toEqual({});
  });
});
