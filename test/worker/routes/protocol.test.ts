import { env } from "cloudflare:workers";
import { createExecutionContext, reset } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { buildApp } from "../../../src/app";
import { ERROR_CODES } from "../../../src/errors";
import { MAX_LOG_FIELD_LENGTH } from "../../../src/http/request-log";
import { firstError, request } from "../helpers/fetch";
import { seedImage } from "../helpers/seed";
import { seedCurrentMirrors } from "../metalink/fixtures";
import { settingsFrom } from "../../../src/config";
import type { Env } from "../../../src/env";

beforeEach(() => reset());

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
    expect((await head.arrayBuffer()).byteLength).toBe(0);
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

describe("The error body", () => {
  it("Should hold exactly code, message and detail in each entry", async () => {
    const response = await request("/v2/nobody/manifests/latest");
    const body = (await response.json()) as { errors: Array<Record<string, unknown>> };
    expect(Object.keys(body)).toEqual(["errors"]);
    expect(Object.keys(body.errors[0]!).sort()).toEqual(["code", "detail", "message"]);
  });

  it("Should answer 500 UNKNOWN without internals when storage fails", async () => {
    const failing = new Proxy(env.REGISTRY, {
      get(target, property, receiver) {
        if (property === "get" || property === "getWithMetadata") {
          return () => Promise.reject(new Error("storage exploded at /internal/path"));
        }
        return Reflect.get(target, property, receiver);
      },
    });
    const response = await buildApp().fetch(
      new Request("http://frontdoor.test/v2/demo/hello/manifests/latest"),
      { ...env, REGISTRY: failing },
      createExecutionContext(),
    );
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(JSON.parse(text).errors[0].code).toBe("UNKNOWN");
    expect(text).not.toContain("exploded");
  });
});

describe("HEAD on every read route", () => {
  it.each([
    "/v2/demo/hello/tags/list",
    "/v2/demo/hello/tags/list?n=1",
    "/v2/_catalog",
    `/v2/demo/hello/referrers/sha256:${"c".repeat(64)}`,
    "/",
    "/status.json",
  ])("Should answer HEAD %s with GET's status and headers and no body", async (path) => {
    await seedImage("demo/hello", "latest");
    await seedImage("demo/hello", "stable");
    const get = await request(path);
    const head = await request(path, { method: "HEAD" });
    expect(head.status).toBe(get.status);
    expect(Object.fromEntries(head.headers)).toEqual(Object.fromEntries(get.headers));
    expect((await head.arrayBuffer()).byteLength).toBe(0);
  });
});

describe("The request log", () => {
  /** Sends one request through an app whose log lines land in the returned list, with `vars` over the test bindings. */
  async function logged(path: string, init?: RequestInit, vars: Record<string, string> = {}): Promise<string[]> {
    const lines: string[] = [];
    const app = buildApp({ log: (line) => void lines.push(line) });
    await app.fetch(new Request(`http://frontdoor.test${path}`, init), { ...env, ...vars }, createExecutionContext());
    return lines;
  }

  it("Should log only 5xx answers in production unless REQUEST_LOG says otherwise", async () => {
    const image = await seedImage("demo/hello", "latest");
    await seedCurrentMirrors([], null);
    const production = { FRONTDOOR_ENV: "production" };
    expect(await logged("/v2/demo/hello/manifests/latest", undefined, production)).toHaveLength(0);
    expect(await logged("/v2/demo/hello/manifests/missing", undefined, production)).toHaveLength(0);
    const unavailable = await logged(`/v2/demo/hello/blobs/${image.layerDigest}`, undefined, production);
    expect(unavailable.map((line) => (JSON.parse(line) as { status: number }).status)).toEqual([503]);
    expect(await logged("/v2/demo/hello/manifests/latest", undefined, { ...production, REQUEST_LOG: "all" })).toHaveLength(1);
    expect(await logged("/v2/demo/hello/manifests/latest", undefined, { REQUEST_LOG: "off" })).toHaveLength(0);
  });

  it("Should fail loudly on a REQUEST_LOG value outside its modes", () => {
    expect(() => settingsFrom({ ...(env as unknown as Env), REQUEST_LOG: "verbose" })).toThrow(/REQUEST_LOG/);
    expect(settingsFrom({ ...(env as unknown as Env), REQUEST_LOG: undefined }).requestLog).toBe("all");
    expect(settingsFrom({ ...(env as unknown as Env), FRONTDOOR_ENV: "production", REQUEST_LOG: undefined }).requestLog).toBe("errors");
  });

  it("Should write one JSON line per request with route, status, digest, mirror and duration, and nothing sensitive", async () => {
    const image = await seedImage("demo/hello", "latest");
    const lines = await logged(`/v2/demo/hello/manifests/latest?token=s3cret-token`, {
      headers: { "CF-Connecting-IP": "203.0.113.77", Authorization: "Bearer s3cret-bearer" },
    });
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(entry).toMatchObject({
      method: "GET",
      route: "/v2/:name{.+}/manifests/:reference",
      status: 200,
      digest: image.manifestDigest,
      mirror: null,
    });
    expect(entry.durationMs).toEqual(expect.any(Number));
    expect(lines[0]).not.toMatch(/203\.0\.113\.77|s3cret/);
  });

  it("Should cut a long path to MAX_LOG_FIELD_LENGTH characters and mark the cut", async () => {
    const path = `/v2/${"a".repeat(3 * MAX_LOG_FIELD_LENGTH)}/tags/list`;
    const lines = await logged(path);
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!) as { path: string; status: number };
    expect(entry.status).toBe(400);
    expect(entry.path).toBe(`${path.slice(0, MAX_LOG_FIELD_LENGTH)}…`);
  });
});
