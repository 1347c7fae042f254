import { reset } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { Descriptor } from "../../../src/oci/descriptor";
import { putEntry, referrersEntry } from "../../../src/store/encode";
import { firstError, request } from "../helpers/fetch";
import { seedImage, type SeededImage } from "../helpers/seed";

beforeEach(() => reset());

let image: SeededImage;
const signature: Descriptor = {
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  digest: `sha256:${"a".repeat(64)}`,
  size: 512,
  artifactType: "application/vnd.dev.sigstore.bundle.v0.3+json",
};
const sbom: Descriptor = { ...signature, digest: `sha256:${"b".repeat(64)}`, artifactType: "application/spdx+json" };

beforeEach(async () => {
  image = await seedImage("demo/hello", "latest");
  await putEntry(env.REGISTRY, referrersEntry("demo/hello", image.manifestDigest, [signature, sbom]));
});

describe("GET /v2/<name>/referrers/<digest>", () => {
  it("Should answer an image index of every referrer", async () => {
    const response = await request(`/v2/demo/hello/referrers/${image.manifestDigest}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("application/vnd.oci.image.index.v1+json");
    expect(await response.json()).toEqual({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [signature, sbom],
    });
  });

  it("Should filter by artifactType and say so", async () => {
    const response = await request(`/v2/demo/hello/referrers/${image.manifestDigest}?artifactType=application%2Fspdx%2Bjson`);
    expect(response.headers.get("OCI-Filters-Applied")).toBe("artifactType");
    expect(((await response.json()) as { manifests: unknown[] }).manifests).toEqual([sbom]);
  });

  it("Should answer an empty index for a digest nothing refers to", async () => {
    const response = await request(`/v2/demo/hello/referrers/sha256:${"c".repeat(64)}`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { manifests: unknown[] }).manifests).toEqual([]);
  });

  it("Should answer an empty index, never a 404, for a repository that was never published", async () => {
    const response = await request(`/v2/nobody/here/referrers/${image.manifestDigest}`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { manifests: unknown[] }).manifests).toEqual([]);
  });

  it("Should reject a malformed digest", async () => {
    const response = await request("/v2/demo/hello/referrers/latest");
    expect(response.status).toBe(400);
    expect((await firstError(response)).code).toBe("DIGEST_INVALID");
  });
});
