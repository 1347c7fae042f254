import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../../../src/errors";
import { firstError, request } from "../helpers/fetch";
import { seedImage } from "../helpers/seed";

describe("GET and HEAD /v2/", () => {
  it("Should answer the version check with {} and the API version header", async () => {
    const response = await request("/v2/");
    expect(response.status).toBe(200);
    expect(response.headers.get("Docker-Distribution-API-Version")).toBe("registry/2.0");
    expect(await response.json()).toEqual({});
  });

  it("Should answer HEAD with GET's headers and no body", async () => {
    const get = await request("/v2/");
    const head = await request("/v2/", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(Object.fromEntries(head.headers)).toEqual(Object.fromEntries(get.headers));
    expect(await head.text()).toBe("");
  });
});

describe("Writes to a read-only registry", () => {
  it.each([
    ["POST", "/v2/demo/hello/blobs/uploads/"],
    ["PUT", "/v2/demo/hello/manifests/latest"],
    ["PATCH", "/v2/demo/hello/blobs/uploads/1234"],
    ["DELETE", `/v2/demo/hello/manifests/sha256:${"0".repeat(64)}`],
    ["DELETE", `/v2/demo/hello/blobs/sha256:${"0".repeat(64)}`],
  ])("Should refuse %s %s with 405 UNSUPPORTED and an Allow header", async (method, path) => {
    await seedImage("demo/hello", "latest");
    const response = await request(path, { method, body: method === "DELETE" ? null : "x" });
    expect(response.status).toBe(405);
    expect(response.headers.get("Allow")).toBe("GET, HEAD");
    expect((await firstError(response)).code).toBe("UNSUPPORTED");
  });
});

describe("Errors", () => {
  it("Should answer an unknown endpoint with NOT_FOUND in the OCI error shape", async () => {
    const response = await request("/v2/demo/hello/nonsense/latest");
    expect(response.status).toBe(404);
    expect(response.headers.get("Content-Type")).toContain("application/json");
    const error = await firstError(response);
    expect(error.code).toBe("NOT_FOUND");
    expect(error.message).toBe(ERROR_CODES.NOT_FOUND.message);
  });

  it("Should carry the API version header on errors", async () => {
    const response = await request("/v2/nobody/manifests/latest");
    expect(response.headers.get("Docker-Distribution-API-Version")).toBe("registry/2.0");
  });
});
