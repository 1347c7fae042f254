import { env } from "cloudflare:workers";
import { createExecutionContext, reset } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { buildApp } from "../../../src/app";
import { CLIENT_ACCEPT } from "../helpers/clients";
import { firstError, request } from "../helpers/fetch";
import { seedImage, type SeededImage } from "../helpers/seed";
import { STREAMED_BODY_BYTES } from "../../../src/http/kept-body";
import { MEDIA_TYPES } from "../../../src/oci/media-types";
import { computeDigest } from "../../../src/oci/reference";
import { manifestEntry, putEntry, tagEntry } from "../../../src/store/encode";

beforeEach(() => reset());

let image: SeededImage;

beforeEach(async () => {
  image = await seedImage("fedora/fedora-minimal", "41");
});

describe("GET /v2/<name>/manifests/<reference>", () => {
  it("Should serve the exact stored bytes by tag with media type, digest, length and ETag", async () => {
    const response = await request("/v2/fedora/fedora-minimal/manifests/41");
    expect(response.status).toBe(200);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(image.manifestBytes);
    expect(response.headers.get("Content-Type")).toBe("application/vnd.oci.image.manifest.v1+json");
    expect(response.headers.get("Docker-Content-Digest")).toBe(image.manifestDigest);
    expect(response.headers.get("Content-Length")).toBe(String(image.manifestBytes.length));
    expect(response.headers.get("ETag")).toBe(`"${image.manifestDigest}"`);
  });

  it("Should serve a manifest of hundreds of layers byte for byte, by tag and by digest, again and again", async () => {
    const layers = Array.from({ length: 300 }, (_, i) => ({ mediaType: MEDIA_TYPES.ociLayerGzip, digest: `sha256:${i.toString(16).padStart(64, "0")}`, size: 1000 + i }));
    const bytes = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: { mediaType: MEDIA_TYPES.ociConfig, digest: image.configDigest, size: 10 }, layers }));
    expect(bytes.byteLength).toBeGreaterThan(STREAMED_BODY_BYTES);
    const manifest = { digest: await computeDigest(bytes), mediaType: MEDIA_TYPES.ociManifest, generation: 1 };
    await putEntry(env.REGISTRY, manifestEntry("fedora/fedora-minimal", manifest, bytes));
    await putEntry(env.REGISTRY, tagEntry("fedora/fedora-minimal", "big", manifest, bytes));
    for (const reference of ["big", manifest.digest, "big"]) {
      const response = await request(`/v2/fedora/fedora-minimal/manifests/${reference}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("Content-Length")).toBe(String(bytes.byteLength));
      expect(response.headers.get("Docker-Content-Digest")).toBe(manifest.digest);
      expect(new Uint8Array(await response.arrayBuffer())).toEqual(bytes);
    }
    const head = await request("/v2/fedora/fedora-minimal/manifests/big", { method: "HEAD" });
    expect(head.headers.get("Content-Length")).toBe(String(bytes.byteLength));
    expect(await head.text()).toBe("");
  });

  it("Should serve the same bytes by digest", async () => {
    const response = await request(`/v2/fedora/fedora-minimal/manifests/${image.manifestDigest}`);
    expect(response.status).toBe(200);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(image.manifestBytes);
  });

  it("Should mark the response as negotiated and not to be transformed", async () => {
    const response = await request("/v2/fedora/fedora-minimal/manifests/41");
    expect(response.headers.get("Vary")).toContain("Accept");
    expect(response.headers.get("Cache-Control")).toContain("no-transform");
  });

  it("Should give HEAD exactly GET's headers and no body", async () => {
    const get = await request("/v2/fedora/fedora-minimal/manifests/41");
    const head = await request("/v2/fedora/fedora-minimal/manifests/41", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(Object.fromEntries(head.headers)).toEqual(Object.fromEntries(get.headers));
    expect(await head.text()).toBe("");
  });

  it("Should accept skopeo's six separate Accept lines", async () => {
    const headers = new Headers();
    for (const type of CLIENT_ACCEPT.skopeoManifest) headers.append("Accept", type);
    const response = await request("/v2/fedora/fedora-minimal/manifests/41", { headers });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("application/vnd.oci.image.manifest.v1+json");
  });

  it("Should accept containerd's comma-joined Accept ending in */*", async () => {
    const response = await request("/v2/fedora/fedora-minimal/manifests/41", { headers: { Accept: CLIENT_ACCEPT.containerdManifest } });
    expect(response.status).toBe(200);
    expect(response.headers.get("Docker-Content-Digest")).toBe(image.manifestDigest);
  });

  it("Should resolve a tag with a single KV read", async () => {
    let reads = 0;
    const counting = new Proxy(env.REGISTRY, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          if (property === "get" || property === "getWithMetadata" || property === "list") reads += 1;
          return value.apply(target, args);
        };
      },
    });
    const response = await buildApp().fetch(
      new Request("http://frontdoor.test/v2/fedora/fedora-minimal/manifests/41"),
      { ...env, REGISTRY: counting },
      createExecutionContext(),
    );
    expect(response.status).toBe(200);
    expect(reads).toBe(1);
  });

  it("Should answer MANIFEST_UNKNOWN for a tag that was never published", async () => {
    const response = await request("/v2/fedora/fedora-minimal/manifests/40");
    expect(response.status).toBe(404);
    expect((await firstError(response)).code).toBe("MANIFEST_UNKNOWN");
  });

  it("Should answer MANIFEST_UNKNOWN for a well-formed unknown digest", async () => {
    const response = await request(`/v2/fedora/fedora-minimal/manifests/sha256:${"0".repeat(64)}`);
    expect(response.status).toBe(404);
    expect((await firstError(response)).code).toBe("MANIFEST_UNKNOWN");
  });

  it("Should not serve one repository's manifest under another name", async () => {
    await seedImage("other/image", "1");
    const response = await request(`/v2/other/image/manifests/${image.manifestDigest}`);
    expect(response.status).toBe(404);
    expect((await firstError(response)).code).toBe("MANIFEST_UNKNOWN");
  });

  it("Should answer NAME_UNKNOWN for a repository that was never published", async () => {
    const response = await request("/v2/nobody/here/manifests/latest");
    expect(response.status).toBe(404);
    expect((await firstError(response)).code).toBe("NAME_UNKNOWN");
  });

  it("Should give a HEAD miss the error status with an empty body", async () => {
    const response = await request("/v2/fedora/fedora-minimal/manifests/40", { method: "HEAD" });
    expect(response.status).toBe(404);
    expect(await response.text()).toBe("");
  });
});

describe("Malformed manifest references", () => {
  it.each([
    ["an upper-case name", "/v2/Fedora/manifests/latest", 400, "NAME_INVALID"],
    ["a name with a double slash", "/v2/fedora//minimal/manifests/latest", 400, "NAME_INVALID"],
    ["a name ending in a separator", "/v2/fedora-/manifests/latest", 400, "NAME_INVALID"],
    ["a name longer than 255 characters", `/v2/${"a".repeat(256)}/manifests/latest`, 400, "NAME_INVALID"],
    ["an unknown digest algorithm", `/v2/fedora/manifests/md5:${"0".repeat(32)}`, 400, "DIGEST_INVALID"],
    ["a sha256 digest one character short", `/v2/fedora/manifests/sha256:${"0".repeat(63)}`, 400, "DIGEST_INVALID"],
    ["a sha512 digest of sha256 length", `/v2/fedora/manifests/sha512:${"0".repeat(64)}`, 400, "DIGEST_INVALID"],
    ["an upper-case hex digest", `/v2/fedora/manifests/sha256:${"A".repeat(64)}`, 400, "DIGEST_INVALID"],
  ])("Should reject %s", async (_label, path, status, code) => {
    const response = await request(path);
    expect(response.status).toBe(status);
    expect((await firstError(response)).code).toBe(code);
  });

  // Distribution Spec v1.1, "Pulling manifests": a manifest that is not found is 404; a malformed tag names none.
  it.each([
    ["a tag starting with a dot (the conformance suite's .INVALID_MANIFEST_NAME)", "/v2/fedora/manifests/.INVALID_MANIFEST_NAME"],
    ["a tag of 129 characters", `/v2/fedora/manifests/${"t".repeat(129)}`],
  ])("Should answer %s with 404 MANIFEST_UNKNOWN on GET and HEAD", async (_label, path) => {
    const get = await request(path);
    expect(get.status).toBe(404);
    expect(await firstError(get)).toMatchObject({ code: "MANIFEST_UNKNOWN", message: "manifest unknown: not a valid tag" });
    const head = await request(path, { method: "HEAD" });
    expect(head.status).toBe(404);
    expect(await head.text()).toBe("");
  });

  it("Should accept a sha512 digest of the right length and report it unknown", async () => {
    const response = await request(`/v2/fedora/fedora-minimal/manifests/sha512:${"0".repeat(128)}`);
    expect(response.status).toBe(404);
    expect((await firstError(response)).code).toBe("MANIFEST_UNKNOWN");
  });
});
