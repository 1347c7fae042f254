import { reset } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { firstError, request } from "../helpers/fetch";
import { healthy, mirror, ORIGIN_URL, seedMirrors, table } from "../helpers/mirrors";
import { seedImage, type SeededImage } from "../helpers/seed";

beforeEach(() => reset());

const MIRROR = "https://mirror.example.net/pub/containers";
const MIRROR_DE = mirror("mirror-de", { baseUrl: MIRROR });

let image: SeededImage;

beforeEach(async () => {
  image = await seedImage("fedora/fedora-minimal", "41", 2);
  await seedMirrors(table([MIRROR_DE]), { "mirror-de": healthy(2) });
});

describe("GET /v2/<name>/blobs/<digest>", () => {
  it("Should redirect with 307 to the blob's path in a mirror's tree", async () => {
    const response = await request(`/v2/fedora/fedora-minimal/blobs/${image.layerDigest}`);
    expect(response.status).toBe(307);
    expect(response.headers.get("Location")).toBe(`${MIRROR}/blobs/sha256/${image.layerDigest.slice(7)}`);
    expect(response.headers.get("Docker-Content-Digest")).toBe(image.layerDigest);
  });

  it("Should redirect a ranged GET the same way", async () => {
    const response = await request(`/v2/fedora/fedora-minimal/blobs/${image.layerDigest}`, { headers: { Range: "bytes=5-" } });
    expect(response.status).toBe(307);
    expect(response.headers.get("Location")).toBe(`${MIRROR}/blobs/sha256/${image.layerDigest.slice(7)}`);
  });

  it("Should fall back to the origin when no mirror has the blob's generation", async () => {
    await seedMirrors(table([MIRROR_DE]), { "mirror-de": healthy(1) });
    const response = await request(`/v2/fedora/fedora-minimal/blobs/${image.layerDigest}`);
    expect(response.status).toBe(307);
    expect(response.headers.get("Location")).toBe(`${ORIGIN_URL}/blobs/sha256/${image.layerDigest.slice(7)}`);
  });

  it("Should answer 503 MIRROR_UNAVAILABLE when neither a mirror nor an origin can serve", async () => {
    await seedMirrors({ origin: null, mirrors: [] });
    const response = await request(`/v2/fedora/fedora-minimal/blobs/${image.layerDigest}`);
    expect(response.status).toBe(503);
    expect((await firstError(response)).code).toBe("MIRROR_UNAVAILABLE");
  });

  it("Should answer BLOB_UNKNOWN, never a redirect, for a digest that was never published", async () => {
    const response = await request(`/v2/fedora/fedora-minimal/blobs/sha256:${"1".repeat(64)}`);
    expect(response.status).toBe(404);
    expect(response.headers.get("Location")).toBeNull();
    expect((await firstError(response)).code).toBe("BLOB_UNKNOWN");
  });

  it("Should not redirect to a blob of another repository", async () => {
    await seedImage("other/image", "1");
    const response = await request(`/v2/other/image/blobs/${image.layerDigest}`);
    expect(response.status).toBe(404);
    expect((await firstError(response)).code).toBe("BLOB_UNKNOWN");
  });

  it("Should answer NAME_UNKNOWN for a repository that was never published", async () => {
    const response = await request(`/v2/nobody/blobs/${image.layerDigest}`);
    expect(response.status).toBe(404);
    expect((await firstError(response)).code).toBe("NAME_UNKNOWN");
  });

  it.each(["sha256:xyz", "sha256:..%2F..%2Fetc%2Fpasswd", `SHA256:${"1".repeat(64)}`])(
    "Should reject the malformed digest %s with DIGEST_INVALID",
    async (digest) => {
      const response = await request(`/v2/fedora/fedora-minimal/blobs/${digest}`);
      expect(response.status).toBe(400);
      expect((await firstError(response)).code).toBe("DIGEST_INVALID");
    },
  );
});

describe("HEAD /v2/<name>/blobs/<digest>", () => {
  it("Should answer from KV with 200, Content-Length and digest, without redirecting", async () => {
    const response = await request(`/v2/fedora/fedora-minimal/blobs/${image.layerDigest}`, { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(response.headers.get("Location")).toBeNull();
    expect(response.headers.get("Content-Length")).toBe(String(image.layerSize));
    expect(response.headers.get("Docker-Content-Digest")).toBe(image.layerDigest);
    expect(response.headers.get("Cache-Control")).toContain("no-transform");
    expect((await response.arrayBuffer()).byteLength).toBe(0);
  });

  it("Should answer 404 with no body for an unknown blob", async () => {
    const response = await request(`/v2/fedora/fedora-minimal/blobs/sha256:${"1".repeat(64)}`, { method: "HEAD" });
    expect(response.status).toBe(404);
    expect((await response.arrayBuffer()).byteLength).toBe(0);
  });
});
