import { reset } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { API_VERSION, API_VERSION_HEADER } from "../../../src/http/headers";
import { isBuiltWhole, registryAnswer } from "../../../src/http/registry-answer";
import { mirror } from "../helpers/mirrors";
import { METALINK, REPOSITORY, TAG, request, seedContent, seedCurrentMirrors, type Seeded } from "../metalink/fixtures";

let seeded: Seeded;

beforeEach(async () => {
  await reset();
  seeded = await seedContent();
  await seedCurrentMirrors([mirror("alpha"), mirror("beta", { country: "FR" })]);
});

describe("registryAnswer", () => {
  it("Should add the security and API version headers to the answer's own, and mark it built whole", () => {
    const answer = registryAnswer(null, { Location: "http://m.test/x", Link: "<http://n.test/x>; rel=duplicate; pri=1" }, 307);
    expect(answer.status).toBe(307);
    expect([...answer.headers]).toEqual([
      [API_VERSION_HEADER.toLowerCase(), API_VERSION],
      ["link", "<http://n.test/x>; rel=duplicate; pri=1"],
      ["location", "http://m.test/x"],
      ["x-content-type-options", "nosniff"],
    ]);
    expect(isBuiltWhole(answer)).toBe(true);
    expect(isBuiltWhole(new Response(null, answer))).toBe(false);
  });
});

describe("Answers of the registry API", () => {
  const cases: Array<[string, () => [path: string, accept?: string, method?: string]]> = [
    ["the handshake", () => ["/v2/"]],
    ["a manifest", () => [`/v2/${REPOSITORY}/manifests/${TAG}`]],
    ["a manifest's HEAD", () => [`/v2/${REPOSITORY}/manifests/${TAG}`, undefined, "HEAD"]],
    ["a blob redirect", () => [`/v2/${REPOSITORY}/blobs/${seeded.layerDigest}`]],
    ["a blob's HEAD", () => [`/v2/${REPOSITORY}/blobs/${seeded.layerDigest}`, undefined, "HEAD"]],
    ["a blob metalink", () => [`/v2/${REPOSITORY}/blobs/${seeded.layerDigest}`, METALINK]],
    ["a manifest metalink", () => [`/v2/${REPOSITORY}/manifests/${TAG}`, METALINK]],
    ["an unknown blob", () => [`/v2/${REPOSITORY}/blobs/sha256:${"0".repeat(64)}`]],
    ["a write", () => ["/v2/", undefined, "DELETE"]],
  ];

  it.each(cases)("Should carry nosniff and the API version once each on %s", async (_, what) => {
    const [path, accept, method] = what();
    const response = await request(path, accept, method);
    await response.body?.cancel();
    expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(response.headers.get(API_VERSION_HEADER)).toBe(API_VERSION);
  });

  it("Should answer a write with the read-only error and its Allow header", async () => {
    const response = await request("/v2/", undefined, "DELETE");
    expect(response.status).toBe(405);
    expect(response.headers.get("Allow")).toBe("GET, HEAD");
    expect(response.headers.get("Content-Type")).toBe("application/json; charset=utf-8");
    expect(((await response.json()) as { errors: Array<{ code: string }> }).errors[0]?.code).toBe("UNSUPPORTED");
  });
});
