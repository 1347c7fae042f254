import { beforeEach, describe, expect, it } from "vitest";
import { MEDIA_TYPES } from "../../../src/oci/media-types";
import { CLIENT_ACCEPT } from "../helpers/clients";
import { mirror } from "../helpers/mirrors";
import { METALINK, REPOSITORY, request, seedContent, seedCurrentMirrors, TAG, type Seeded } from "./fixtures";

let seeded: Seeded;

beforeEach(async () => {
  seeded = await seedContent();
  await seedCurrentMirrors([mirror("alpha"), mirror("beta", { country: "FR" })]);
});

const manifestPath = () => `/v2/${REPOSITORY}/manifests/${TAG}`;
const blobPath = () => `/v2/${REPOSITORY}/blobs/${seeded.layerDigest}`;

describe("Metalink negotiation on manifests", () => {
  it("Should answer aria2c's Accept with a metalink", async () => {
    const response = await request(manifestPath(), CLIENT_ACCEPT.aria2c);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe(METALINK);
  });

  it("Should not label a metalink body with the manifest's Docker-Content-Digest", async () => {
    const response = await request(manifestPath(), CLIENT_ACCEPT.aria2c);
    expect(response.headers.get("Docker-Content-Digest")).toBeNull();
  });

  it("Should answer skopeo's six Accept lines with the manifest itself", async () => {
    const response = await request(manifestPath(), CLIENT_ACCEPT.skopeoManifest);
    expect(response.headers.get("Content-Type")).toBe(MEDIA_TYPES.ociManifest);
    expect(response.headers.get("Docker-Content-Digest")).toBe(seeded.manifestDigest);
  });

  it("Should answer docker's Accept lines with the manifest itself", async () => {
    const response = await request(manifestPath(), CLIENT_ACCEPT.dockerManifest);
    expect(response.headers.get("Content-Type")).toBe(MEDIA_TYPES.ociManifest);
  });

  it("Should answer containerd's Accept ending in */* with the manifest itself", async () => {
    const response = await request(manifestPath(), CLIENT_ACCEPT.containerdManifest);
    expect(response.headers.get("Content-Type")).toBe(MEDIA_TYPES.ociManifest);
  });

  it("Should answer a request without Accept with the manifest itself", async () => {
    const response = await request(manifestPath());
    expect(response.headers.get("Content-Type")).toBe(MEDIA_TYPES.ociManifest);
  });

  it("Should answer an Accept naming only the metalink type with a metalink", async () => {
    const response = await request(manifestPath(), METALINK);
    expect(response.headers.get("Content-Type")).toBe(METALINK);
  });

  it("Should prefer the manifest when the metalink has a lower q than */*", async () => {
    const response = await request(manifestPath(), `${METALINK};q=0.5, */*`);
    expect(response.headers.get("Content-Type")).toBe(MEDIA_TYPES.ociManifest);
  });

  it("Should prefer the metalink when the wildcard has a lower q", async () => {
    const response = await request(manifestPath(), `*/*;q=0.1, ${METALINK}`);
    expect(response.headers.get("Content-Type")).toBe(METALINK);
  });

  it("Should give the manifest when application/* reaches both types equally", async () => {
    const response = await request(manifestPath(), "application/*");
    expect(response.headers.get("Content-Type")).toBe(MEDIA_TYPES.ociManifest);
  });

  it("Should never give a metalink refused with q=0", async () => {
    const response = await request(manifestPath(), `${METALINK};q=0, */*`);
    expect(response.headers.get("Content-Type")).toBe(MEDIA_TYPES.ociManifest);
  });

  it("Should send Vary: Accept with the metalink", async () => {
    const response = await request(manifestPath(), CLIENT_ACCEPT.aria2c);
    expect(response.headers.get("Vary")).toBe("Accept");
  });

  it("Should send Vary: Accept with the manifest", async () => {
    const response = await request(manifestPath(), CLIENT_ACCEPT.skopeoManifest);
    expect(response.headers.get("Vary")).toBe("Accept");
  });

  it("Should answer HEAD for a metalink with GET's headers and no body", async () => {
    const get = await request(manifestPath(), CLIENT_ACCEPT.aria2c);
    const head = await request(manifestPath(), CLIENT_ACCEPT.aria2c, "HEAD");
    expect(head.status).toBe(200);
    expect(Object.fromEntries(head.headers)).toEqual(Object.fromEntries(get.headers));
    expect(await head.text()).toBe("");
  });

  it("Should give the metalink's byte length as Content-Length", async () => {
    const response = await request(manifestPath(), CLIENT_ACCEPT.aria2c);
    const body = new Uint8Array(await response.arrayBuffer());
    expect(response.headers.get("Content-Length")).toBe(String(body.byteLength));
  });

  it("Should answer 503 MIRROR_UNAVAILABLE for a manifest's metalink when no mirror or origin qualifies", async () => {
    await seedCurrentMirrors([], null);
    const response = await request(manifestPath(), CLIENT_ACCEPT.aria2c);
    expect(response.status).toBe(503);
  });

  it("Should still serve the manifest itself when no mirror or origin qualifies", async () => {
    await seedCurrentMirrors([], null);
    const response = await request(manifestPath(), CLIENT_ACCEPT.containerdManifest);
    expect([response.status, response.headers.get("Docker-Content-Digest")]).toEqual([200, seeded.manifestDigest]);
  });
});

describe("Metalink negotiation on blobs", () => {
  it("Should answer aria2c's Accept with a metalink instead of a redirect", async () => {
    const response = await request(blobPath(), CLIENT_ACCEPT.aria2c);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe(METALINK);
  });

  it("Should redirect containerd's layer Accept ending in */*", async () => {
    const response = await request(blobPath(), CLIENT_ACCEPT.containerdLayer);
    expect(response.status).toBe(307);
  });

  it("Should redirect a request without Accept, as skopeo and docker send", async () => {
    const response = await request(blobPath());
    expect(response.status).toBe(307);
  });

  it("Should redirect when the metalink is refused with q=0", async () => {
    const response = await request(blobPath(), `${METALINK};q=0, */*`);
    expect(response.status).toBe(307);
  });

  it("Should answer a metalink for a blob stored without a media type", async () => {
    const response = await request(`/v2/${REPOSITORY}/blobs/${seeded.sha512Digest}`, CLIENT_ACCEPT.aria2c);
    expect(response.headers.get("Content-Type")).toBe(METALINK);
  });

  it("Should send Vary: Accept with the redirect", async () => {
    const response = await request(blobPath());
    expect(response.headers.get("Vary")).toBe("Accept");
  });

  it("Should send Vary: Accept with the blob's metalink", async () => {
    const response = await request(blobPath(), CLIENT_ACCEPT.aria2c);
    expect(response.headers.get("Vary")).toBe("Accept");
  });

  it("Should answer HEAD for a metalink with GET's headers and no body", async () => {
    const get = await request(blobPath(), CLIENT_ACCEPT.aria2c);
    const head = await request(blobPath(), CLIENT_ACCEPT.aria2c, "HEAD");
    expect(head.status).toBe(200);
    expect(Object.fromEntries(head.headers)).toEqual(Object.fromEntries(get.headers));
    expect(await head.text()).toBe("");
  });

  it("Should keep answering a plain HEAD with the blob's own size", async () => {
    const response = await request(blobPath(), undefined, "HEAD");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Length")).toBe(String(seeded.layerSize));
  });

  it("Should answer 503 MIRROR_UNAVAILABLE for a metalink when no mirror or origin qualifies", async () => {
    await seedCurrentMirrors([], null);
    const response = await request(blobPath(), CLIENT_ACCEPT.aria2c);
    expect(response.status).toBe(503);
    expect(((await response.json()) as { errors: Array<{ code: string }> }).errors[0]?.code).toBe("MIRROR_UNAVAILABLE");
  });
});
