import { env, reset } from "cloudflare:test";
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { blobPath, LAYOUT_FILES } from "../../../src/oci/layout";
import { computeDigest, type Digest } from "../../../src/oci/reference";
import { buildDemoLayout } from "../../../src/publish/demo-image";
import type { MemoryLayout } from "../../../src/publish/layout";
import { planPublication, PublishError } from "../../../src/publish/plan";
import { applyPlan, listPublishedKeys } from "../../../src/store/publication-store";
import { lookasidePath } from "../../../src/signing/lookaside";
import { keys } from "../../../src/store/keys";
import { firstError, request } from "../helpers/fetch";
import { healthy, mirror, ORIGIN_URL, seedMirrors, table } from "../helpers/mirrors";
import { rootDescriptor } from "../publish/layouts";

const MIRROR = "https://mirror.example.net/pub/containers";
const PUBLIC_KEY = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n";
const SIGNATURE = new TextEncoder().encode("an OpenPGP message, opaque to the front door");

let layout: MemoryLayout;
let subject: Digest;
let signatureDigest: Digest;

async function publish(generation: number): Promise<void> {
  const plan = await planPublication(layout, { generation, published: "2026-12-01T00:00:00Z", currentKeys: await listPublishedKeys(env.REGISTRY) });
  await applyPlan(env.REGISTRY, plan);
  layout.writeFile(LAYOUT_FILES.firstSeen, JSON.stringify(plan.firstSeen));
}

beforeEach(async () => {
  await reset();
  layout = await buildDemoLayout();
  subject = (await rootDescriptor(layout)).digest;
  signatureDigest = await computeDigest(SIGNATURE);
  layout.writeFile(lookasidePath({ repository: "demo/hello", digest: subject, index: 1 }), SIGNATURE);
  layout.writeFile(blobPath(signatureDigest), SIGNATURE);
  layout.writeFile(LAYOUT_FILES.signingKey, PUBLIC_KEY);
  await publish(2);
  await seedMirrors(table([mirror("mirror-de", { baseUrl: MIRROR })]), { "mirror-de": healthy(2) });
});

function signatureUrl(index: number, digest: Digest = subject, repository = "demo/hello"): string {
  return `/signatures/${repository}@${digest.replace(":", "=")}/signature-${index}`;
}

describe("GET /signatures/<repository>@<alg>=<hex>/signature-<n>", () => {
  it("Should redirect to a mirror's content-addressed copy of the signature", async () => {
    const response = await request(signatureUrl(1));
    expect(response.status).toBe(307);
    expect(response.headers.get("Location")).toBe(`${MIRROR}/${blobPath(signatureDigest)}`);
    expect(response.headers.get("Digest")).toMatch(/^SHA-256=/);
  });

  it("Should send clients to the origin while no mirror has the signature's generation", async () => {
    await seedMirrors(table([mirror("mirror-de", { baseUrl: MIRROR })]), { "mirror-de": healthy(1) });
    const response = await request(signatureUrl(1));
    expect(response.headers.get("Location")).toBe(`${ORIGIN_URL}/${blobPath(signatureDigest)}`);
  });

  it("Should answer HEAD from KV with the signature's size", async () => {
    const response = await request(signatureUrl(1), { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Length")).toBe(String(SIGNATURE.byteLength));
    expect(response.headers.get("Location")).toBeNull();
  });

  it("Should answer 404 for the number after the last, which ends a client's search", async () => {
    const response = await request(signatureUrl(2));
    expect(response.status).toBe(404);
    expect(response.headers.get("Location")).toBeNull();
  });

  it("Should answer 404 for a manifest of another repository", async () => {
    expect((await request(signatureUrl(1, subject, "demo/other"))).status).toBe(404);
  });

  it.each([
    ["a colon instead of the equals sign", `/signatures/demo/hello@${"sha256:" + "a".repeat(64)}/signature-1`],
    ["a short digest", `/signatures/demo/hello@sha256=${"a".repeat(63)}/signature-1`],
    ["signature-0", `/signatures/demo/hello@sha256=${"a".repeat(64)}/signature-0`],
    ["an invalid repository name", `/signatures/Demo@sha256=${"a".repeat(64)}/signature-1`],
  ])("Should refuse a path with %s as NOT_FOUND", async (_, path) => {
    const response = await request(path);
    expect(response.status).toBe(404);
    expect((await firstError(response)).code).toBe("NOT_FOUND");
  });

  it("Should drop the record when the tree no longer holds the file", async () => {
    layout.deleteFile(lookasidePath({ repository: "demo/hello", digest: subject, index: 1 }));
    await publish(3);
    expect(await env.REGISTRY.get(keys.signature("demo/hello", subject, 1))).toBeNull();
    expect((await request(signatureUrl(1))).status).toBe(404);
  });

  it("Should refuse to publish a lookaside file without its blob copy", async () => {
    layout.deleteFile(blobPath(signatureDigest));
    await expect(publish(3)).rejects.toThrow(PublishError);
  });

  it("Should keep the generation a signature first appeared in", async () => {
    await publish(3);
    expect(await env.REGISTRY.get(keys.signature("demo/hello", subject, 1), "json")).toEqual({ digest: signatureDigest, size: SIGNATURE.byteLength, generation: 2 });
  });
});

describe("the lookaside surface", () => {
  it("Should answer any path under /signatures/ with the signature's redirect or a well-formed 404, never echoing it", async () => {
    const part = fc.oneof(
      fc.constantFrom("demo/hello", "demo", "Demo", "..", "%2e%2e", "%00", "a".repeat(300), "@", "=", "sha256", "signature-1"),
      fc.stringMatching(/^[a-z0-9._=@:-]{0,20}$/),
      fc.string({ maxLength: 12 }).map(encodeURIComponent),
    );
    const path = fc.oneof(
      fc.array(part, { minLength: 1, maxLength: 5 }).map((parts) => `/signatures/${parts.join("/")}`),
      fc.tuple(part, fc.oneof(fc.constant(subject.replace(":", "=")), part), fc.oneof(fc.integer({ min: -1, max: 99 }).map(String), part)).map(([name, digest, n]) => `/signatures/${name}@${digest}/signature-${n}`),
    );
    await fc.assert(
      fc.asyncProperty(path, fc.constantFrom("GET", "HEAD"), async (target, method) => {
        const response = await request(target, { method });
        const body = await response.text();
        expect([200, 307, 404]).toContain(response.status);
        if (response.status === 307) expect(response.headers.get("Location")).toBe(`${MIRROR}/${blobPath(signatureDigest)}`);
        if (response.status === 404 && method === "GET") expect(JSON.parse(body).errors[0].code).toBe("NOT_FOUND");
        for (const [, value] of response.headers) expect(value).not.toContain(target);
      }),
      { numRuns: 150 },
    );
  });
});

describe("GET /signing-key.pub", () => {
  it("Should serve the public key the publisher stored", async () => {
    const response = await request("/signing-key.pub");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("application/x-pem-file");
    expect(await response.text()).toBe(PUBLIC_KEY);
  });

  it("Should answer 404 once a publication has no key", async () => {
    layout.deleteFile(LAYOUT_FILES.signingKey);
    await publish(3);
    expect((await request("/signing-key.pub")).status).toBe(404);
  });

  it("Should refuse to publish a key file that is not PEM public keys", async () => {
    layout.writeFile(LAYOUT_FILES.signingKey, "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n");
    await expect(publish(3)).rejects.toThrow(/PEM public keys/);
  });
});
