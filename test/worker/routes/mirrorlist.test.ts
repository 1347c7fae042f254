import { reset } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { buildApp } from "../../../src/app";
import type { MirrorListReport } from "../../../src/render/mirror-list";
import { healthy, mirror, ORIGIN_URL, seedMirrors } from "../helpers/mirrors";
import { seedImage, type SeededImage } from "../helpers/seed";

const FRONTDOOR = "http://frontdoor.test";
const GERMANY = { country: "DE", continent: "EU", asn: 3320, latitude: 52.5, longitude: 13.4 };

const berlin = mirror("berlin");
const munich = mirror("munich", { bandwidth: 10 });
const paris = mirror("paris", { country: "FR" });
const tokyo = mirror("tokyo", { country: "JP", continent: "AS", latitude: 35.7, longitude: 139.7 });
const behind = mirror("behind", { country: "DE" });
const campus = mirror("campus", { private: true, netblocks: ["192.0.2.0/24"], baseUrl: "https://campus.internal.test/oci" });
const retired = mirror("retired", { enabled: false });

let image: SeededImage;

beforeEach(async () => {
  await reset();
  image = await seedImage("library/busybox", "latest", 2);
  await seedMirrors(
    { origin: { baseUrl: ORIGIN_URL, country: "US" }, mirrors: [berlin, munich, paris, tokyo, behind, campus, retired] },
    { berlin: healthy(2), munich: healthy(2), paris: healthy(2), tokyo: healthy(2), behind: healthy(1), campus: healthy(2) },
  );
});

/** The deployed worker: FRONTDOOR_ENV=production, the client where `cf` and its address say. */
function ask(path: string, headers: Record<string, string> = {}, address = "198.51.100.10"): Promise<Response> {
  const request = new Request(`${FRONTDOOR}${path}`, { headers: { "CF-Connecting-IP": address, ...headers }, cf: GERMANY } as RequestInit);
  return Promise.resolve(buildApp().fetch(request, { ...env, FRONTDOOR_ENV: "production" }));
}

async function report(path: string, address?: string): Promise<MirrorListReport> {
  const response = await ask(path, { Accept: "application/json" }, address);
  expect(response.status).toBe(200);
  expect(response.headers.get("Cache-Control")).toBe("private, no-store");
  return response.json();
}

describe("GET /mirrorlist/<name>:<tag>", () => {
  it("Should rank the public mirrors for this client in production, each with its tier and why, and the origin last", async () => {
    const list = await report("/mirrorlist/library/busybox:latest");
    expect(list.subject).toMatchObject({ repository: "library/busybox", reference: "library/busybox:latest", digest: image.manifestDigest, generation: 2 });
    expect(list.mirrors.map((entry) => [entry.rank, entry.tier])).toEqual([
      [1, "country"],
      [2, "country"],
      [3, "continent"],
      [4, "world"],
      [5, "origin"],
    ]);
    expect(new Set(list.mirrors.slice(0, 2).map((entry) => entry.id))).toEqual(new Set(["berlin", "munich"]));
    expect(list.mirrors.slice(2).map((entry) => entry.id)).toEqual(["paris", "tokyo", "origin"]);
    expect(list.mirrors[0]!.reason).toBe("in your country (DE)");
    expect(list.mirrors[0]!.url).toBe(`${list.mirrors[0]!.id === "berlin" ? berlin.baseUrl : munich.baseUrl}/blobs/sha256/${image.manifestDigest.slice("sha256:".length)}`);
    expect(list.notListed).toEqual([
      { id: "behind", reason: "stale", explanation: "not yet verified for this content (generation 2)" },
      { id: "retired", reason: "disabled", explanation: "switched off by the operator" },
    ]);
  });

  it("Should never name a private mirror, not even to a client inside its network", async () => {
    const inside = await ask("/mirrorlist/library/busybox:latest?format=json", {}, "192.0.2.10");
    const outside = await ask("/mirrorlist/library/busybox:latest");
    for (const body of [await inside.text(), await outside.text()]) {
      expect(body).not.toContain("campus");
    }
  });

  it("Should answer the same list as HTML for a browser", async () => {
    const response = await ask("/mirrorlist/library/busybox:latest", { Accept: "text/html,application/json;q=0.9" });
    expect(response.headers.get("Content-Type")).toMatch(/^text\/html/);
    const page = await response.text();
    expect(page).toContain('<tr data-mirror="tokyo">');
    expect(page).toContain("not yet verified for this content (generation 2)");
  });
});

describe("GET /mirrorlist/<name>/blobs/<digest> and <name>@<digest>", () => {
  it("Should list the mirrors for one blob, and leave out a mirror that failed a content check of it", async () => {
    await seedMirrors(
      { origin: null, mirrors: [berlin, paris] },
      { berlin: healthy(2, { badBlobs: [{ digest: image.layerDigest, generation: 2, size: image.layerSize, since: "2026-11-27T00:00:00Z" }] }), paris: healthy(2) },
    );
    const list = await report(`/mirrorlist/library/busybox/blobs/${image.layerDigest}`);
    expect(list.mirrors.map((entry) => entry.id)).toEqual(["paris"]);
    expect(list.notListed).toEqual([{ id: "berlin", reason: "bad-blob", explanation: "failed a content check of this very blob" }]);
    const byDigest = await report(`/mirrorlist/library/busybox@${image.manifestDigest}`);
    expect(byDigest.mirrors.map((entry) => entry.id)).toEqual(["berlin", "paris"]);
  });
});

describe("GET /mirrorlist/ with a bad path", () => {
  it.each([
    ["/mirrorlist/library/busybox", 400, "NAME_INVALID"],
    ["/mirrorlist/Library/busybox:latest", 400, "NAME_INVALID"],
    ["/mirrorlist/library/busybox:-bad", 400, "TAG_INVALID"],
    ["/mirrorlist/library/busybox@sha256:1234", 400, "DIGEST_INVALID"],
    ["/mirrorlist/library/busybox/blobs/sha256:xyz", 400, "DIGEST_INVALID"],
    ["/mirrorlist/library/busybox:nope", 404, "MANIFEST_UNKNOWN"],
    ["/mirrorlist/library/other:latest", 404, "NAME_UNKNOWN"],
    [`/mirrorlist/library/busybox/blobs/sha256:${"0".repeat(64)}`, 404, "BLOB_UNKNOWN"],
    ["/mirrorlist/library/busybox:latest?format=xml", 404, "NOT_FOUND"],
  ])("Should answer %s with %i %s", async (path, status, code) => {
    const response = await ask(path);
    expect(response.status).toBe(status);
    const body = (await response.json()) as { errors: Array<{ code: string }> };
    expect(body.errors[0]!.code).toBe(code);
  });
});
