import { describe, expect, it } from "vitest";
import { firstError, request } from "../helpers/fetch";
import { crawledAt, mirror, ORIGIN_URL, seedMirrors } from "../helpers/mirrors";
import { seedImage, type SeededImage } from "../helpers/seed";

/**
 * The status codes of OCI Distribution Spec v1.1.1 for every pull endpoint,
 * section by section, as its conformance suite checks them in pull-only mode.
 */

const MISSING_DIGEST = `sha256:${"0".repeat(64)}`;

async function world(): Promise<SeededImage> {
  const image = await seedImage("conformance/image", "tagtest0");
  const mirrors = [mirror("de-fra")];
  await seedMirrors({ origin: { baseUrl: ORIGIN_URL }, mirrors }, crawledAt(mirrors, 1));
  return image;
}

describe('Distribution Spec, "Determining support": GET /v2/', () => {
  it("Should answer 200", async () => {
    expect((await request("/v2/")).status).toBe(200);
  });
});

describe('Distribution Spec, "Pulling manifests"', () => {
  it.each(["GET", "HEAD"])("Should answer %s of a manifest by tag and by digest with 200 and Docker-Content-Digest", async (method) => {
    const image = await world();
    for (const reference of [image.tag, image.manifestDigest]) {
      const response = await request(`/v2/${image.repository}/manifests/${reference}`, { method });
      expect(response.status).toBe(200);
      expect(response.headers.get("Docker-Content-Digest")).toBe(image.manifestDigest);
      await response.body?.cancel();
    }
  });

  it.each([
    ["GET", ".INVALID_MANIFEST_NAME"],
    ["HEAD", ".INVALID_MANIFEST_NAME"],
    ["GET", "no-such-tag"],
    ["HEAD", "no-such-tag"],
    ["GET", MISSING_DIGEST],
    ["HEAD", MISSING_DIGEST],
  ])("Should answer %s of a manifest that is not there (%s) with 404", async (method, reference) => {
    const image = await world();
    const response = await request(`/v2/${image.repository}/manifests/${reference}`, { method });
    expect(response.status).toBe(404);
    if (method === "GET") expect((await firstError(response)).code).toBe("MANIFEST_UNKNOWN");
  });
});

describe('Distribution Spec, "Pulling blobs"', () => {
  it("Should answer GET of a blob by sending the client to the bytes (307 to a mirror) and HEAD with 200", async () => {
    const image = await world();
    const get = await request(`/v2/${image.repository}/blobs/${image.layerDigest}`);
    expect(get.status).toBe(307);
    expect(get.headers.get("Location")).toMatch(/\/blobs\/sha256\/[0-9a-f]{64}$/);
    const head = await request(`/v2/${image.repository}/blobs/${image.layerDigest}`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("Content-Length")).toBe(String(image.layerSize));
  });

  it.each(["GET", "HEAD"])("Should answer %s of a blob that is not there with 404", async (method) => {
    const image = await world();
    const response = await request(`/v2/${image.repository}/blobs/${MISSING_DIGEST}`, { method });
    expect(response.status).toBe(404);
    if (method === "GET") expect((await firstError(response)).code).toBe("BLOB_UNKNOWN");
  });
});

describe('Distribution Spec, "Listing Tags"', () => {
  it("Should answer 200 with the tags, and n and last paginate", async () => {
    const image = await world();
    await seedImage(image.repository, "tagtest1");
    const all = await request(`/v2/${image.repository}/tags/list`);
    expect(all.status).toBe(200);
    expect(await all.json()).toEqual({ name: image.repository, tags: ["tagtest0", "tagtest1"] });
    const page = await request(`/v2/${image.repository}/tags/list?n=1&last=tagtest0`);
    expect(await page.json()).toEqual({ name: image.repository, tags: ["tagtest1"] });
  });

  it("Should answer 404 for a repository that is not there", async () => {
    await world();
    expect((await request("/v2/no/such/repository/tags/list")).status).toBe(404);
  });
});

describe('Distribution Spec, "Listing Referrers"', () => {
  it("Should answer 200 with an empty image index for a digest nothing refers to, never 404", async () => {
    const image = await world();
    const response = await request(`/v2/${image.repository}/referrers/${MISSING_DIGEST}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("application/vnd.oci.image.index.v1+json");
    expect(await response.json()).toMatchObject({ schemaVersion: 2, manifests: [] });
  });

  it("Should say OCI-Filters-Applied when it filtered by artifactType", async () => {
    const image = await world();
    const response = await request(`/v2/${image.repository}/referrers/${image.manifestDigest}?artifactType=application/example`);
    expect(response.status).toBe(200);
    expect(response.headers.get("OCI-Filters-Applied")).toBe("artifactType");
  });
});

describe('Distribution Spec, "Pushing" on a read-only registry', () => {
  it.each([
    ["POST", "/v2/conformance/image/blobs/uploads/"],
    ["PUT", "/v2/conformance/image/manifests/tagtest0"],
    ["DELETE", "/v2/conformance/image/manifests/tagtest0"],
  ])("Should answer %s %s with 405 UNSUPPORTED", async (method, path) => {
    const response = await request(path, { method });
    expect(response.status).toBe(405);
    expect((await firstError(response)).code).toBe("UNSUPPORTED");
  });
});
