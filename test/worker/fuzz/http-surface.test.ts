import { env } from "cloudflare:workers";
import { createExecutionContext } from "cloudflare:test";
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../../../src/index";
import { ERROR_CODES } from "../../../src/errors";
import { FRONTDOOR } from "../helpers/fetch";
import { crawledAt, mirror, ORIGIN_URL, seedMirrors } from "../helpers/mirrors";
import { seedImage, type SeededImage } from "../helpers/seed";

/**
 * Property tests over the whole HTTP surface, in both modes: whatever a
 * client sends, the answer is a valid success or a well-formed OCI error,
 * never a 5xx of our own, every `Location` is a configured base URL plus a
 * published digest's path, and no header echoes unvalidated input.
 */

const MIRRORS = [mirror("de-fra"), mirror("us-iad", { country: "US", continent: "NA" })];
const BASES = [...MIRRORS.map((m) => m.baseUrl), ORIGIN_URL];
let image: SeededImage;
let published: Set<string>;

beforeEach(async () => {
  image = await seedImage("demo/hello", "latest");
  await seedMirrors({ origin: { baseUrl: ORIGIN_URL, country: "US" }, mirrors: MIRRORS }, crawledAt(MIRRORS, 1));
  published = new Set([image.manifestDigest, image.configDigest, image.layerDigest]);
});

const hex64 = fc.stringMatching(/^[a-f0-9]{64}$/);
const nasty = fc.constantFrom("%00", "%0d%0a", "%2e%2e", "..", "%2F", "\u00e9", "%ff", "<script>", "'\"", "\\", "%", "?", "#", ";", " ", "\t", "~");
const segment = fc.oneof(
  fc.constantFrom("demo", "hello", "demo/hello", "v2", "_catalog", "library", "a".repeat(300)),
  fc.stringMatching(/^[a-z0-9._-]{1,20}$/),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
  nasty,
);
const reference = fc.oneof(
  fc.constantFrom("latest", "LATEST", "-bad", "a".repeat(129), "sha256:", "md5:abc"),
  hex64.map((hex) => `sha256:${hex}`),
  hex64.map((hex) => `sha512:${hex}`),
  hex64.map((hex) => `SHA256:${hex}`),
  fc.constant(null).map(() => image.manifestDigest),
  fc.constant(null).map(() => image.layerDigest),
  fc.string({ maxLength: 30 }).map(encodeURIComponent),
);
const endpoint = fc.constantFrom("manifests", "blobs", "referrers", "tags/list", "blobs/uploads");
const publishedBlob = fc.constantFrom("config", "layer").map((which) => `/v2/demo/hello/blobs/${which === "config" ? image.configDigest : image.layerDigest}`);
const path = fc.oneof(
  publishedBlob,
  fc.tuple(endpoint, reference).map(([kind, ref]) => `/v2/demo/hello/${kind}/${ref}`),
  fc.tuple(fc.array(segment, { minLength: 1, maxLength: 4 }), endpoint, reference).map(([name, kind, ref]) => `/v2/${name.join("/")}/${kind}/${ref}`),
  fc.constantFrom("/v2/", "/v2", "/", "/status.json", "/v2/_catalog", "/debug/selection/demo/hello/blobs/" + "x", "/favicon.ico", "//v2//", "/v2/demo/hello/tags/list"),
  fc.tuple(fc.constantFrom("/debug/selection/", "/mirrors/"), fc.array(segment, { maxLength: 3 })).map(([prefix, rest]) => prefix + rest.join("/")),
);
const query = fc.oneof(
  fc.constant(""),
  fc.tuple(fc.constantFrom("n", "last", "artifactType", "token"), fc.oneof(fc.integer({ min: -5, max: 5000 }).map(String), fc.string({ maxLength: 20 }).map(encodeURIComponent), nasty)).map(([k, v]) => `?${k}=${v}`),
);
const headerValue = fc.oneof(fc.string({ maxLength: 40 }).filter((s) => !/[\r\n\0]/.test(s) && /^[\x20-\x7e]*$/.test(s)), nasty.filter((s) => /^[\x20-\x7e]+$/.test(s)));
const headers = fc.record(
  {
    Accept: fc.oneof(
      fc.constantFrom("application/metalink4+xml", "*/*", "application/vnd.oci.image.manifest.v1+json;q=0.5, application/metalink4+xml", ",,,;q=x", "a/b,".repeat(60)),
      headerValue,
    ),
    Range: fc.oneof(fc.constantFrom("bytes=0-", "bytes=100-", "bytes=-5", "bytes=9-1", "items=1-2"), headerValue),
    "CF-Connecting-IP": fc.oneof(fc.constantFrom("203.0.113.9", "::1", "2001:db8::1", "999.1.1.1", "::ffff:10.0.0.1"), headerValue),
    "X-Frontdoor-Client-Country": fc.oneof(fc.constantFrom("JP", "US", "zz", "A1"), headerValue),
    "X-Frontdoor-Client-Ip": headerValue,
    "X-Frontdoor-Client-Lat": fc.oneof(fc.double().map(String), headerValue),
    "X-Frontdoor-Client-Asn": fc.oneof(fc.constantFrom("-1", "4294967296", "13335"), headerValue),
  },
  { requiredKeys: [] },
);
const method = fc.constantFrom("GET", "HEAD", "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND");

const ALLOWED_HEADERS = new Set([
  "allow", "cache-control", "content-length", "content-security-policy", "content-type", "digest", "docker-content-digest",
  "docker-distribution-api-version", "etag", "link", "location", "oci-filters-applied", "vary", "x-content-type-options",
  "referrer-policy", "x-frame-options", "cross-origin-resource-policy", "cross-origin-opener-policy", "origin-agent-cluster",
  "strict-transport-security", "x-dns-prefetch-control", "x-download-options", "x-permitted-cross-domain-policies", "x-xss-protection",
]);
const DIGEST_PATH = /\/blobs\/(sha256|sha512)\/([a-f0-9]+)$/;

function checkLocation(location: string): void {
  const base = BASES.find((candidate) => location.startsWith(`${candidate}/blobs/`));
  expect(base, `Location ${location} is not a configured base`).toBeDefined();
  const match = DIGEST_PATH.exec(location);
  expect(match, `Location ${location} is not a blob path`).not.toBeNull();
  expect(published.has(`${match![1]}:${match![2]}`), `Location ${location} names an unpublished digest`).toBe(true);
}

async function checkAnswer(response: Response, requestMethod: string): Promise<void> {
  const label = `${requestMethod} -> ${response.status}`;
  expect(response.status, label).toBeLessThan(500);
  for (const [name, value] of response.headers) {
    expect(ALLOWED_HEADERS.has(name), `unexpected header ${name}: ${value}`).toBe(true);
    if (name === "docker-content-digest") expect(published.has(value), `${name}: ${value}`).toBe(true);
    if (name === "link" && !value.includes('rel="next"')) {
      for (const part of value.split(/,\s*(?=<)/)) checkLocation(/^<([^>]+)>/.exec(part)![1]!);
    }
  }
  const location = response.headers.get("Location");
  if (response.status >= 300 && response.status < 400) {
    expect(location, label).not.toBeNull();
    checkLocation(location!);
  }
  if (response.status >= 400 && requestMethod !== "HEAD") {
    const body = (await response.json()) as { errors: Array<{ code: keyof typeof ERROR_CODES; message: string }> };
    expect(body.errors, label).toHaveLength(1);
    const [error] = body.errors;
    expect(Object.hasOwn(ERROR_CODES, error!.code), `${label} code ${error!.code}`).toBe(true);
    expect(ERROR_CODES[error!.code].status, `${label} ${error!.code}`).toBe(response.status);
    expect(typeof error!.message).toBe("string");
  } else {
    await response.body?.cancel();
  }
}

describe.each([
  ["development", env],
  ["production", { ...env, FRONTDOOR_ENV: "production" }],
])("The HTTP surface in %s mode", (_mode, workerEnv) => {
  it("Should answer every request with a valid success or a well-formed OCI error", async () => {
    const seen = new Set<number>();
    await fc.assert(
      fc.asyncProperty(method, path, query, headers, async (verb, target, search, sent) => {
        let requestObject: Request;
        try {
          requestObject = new Request(`${FRONTDOOR}${target}${search}`, { method: verb, headers: sent, redirect: "manual" });
        } catch {
          return; // not a request the runtime would deliver (an invalid URL or header)
        }
        const response = await worker.fetch(requestObject as Parameters<typeof worker.fetch>[0], workerEnv as typeof env, createExecutionContext());
        seen.add(response.status);
        await checkAnswer(response, verb);
      }),
      { numRuns: 1500 },
    );
    // The generators reach every kind of answer, so the checks above were exercised.
    for (const status of [200, 307, 400, 404, 405]) expect(seen, `no ${status} answer was generated`).toContain(status);
  });
});
