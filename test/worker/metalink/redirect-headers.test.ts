import { reset } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { digestHex } from "../../../src/oci/reference";
import { MAX_DUPLICATE_LINKS } from "../../../src/render/redirect";
import { mirror } from "../helpers/mirrors";
import { REPOSITORY, worker, request, seedContent, seedCurrentMirrors, type Seeded } from "./fixtures";

let seeded: Seeded;

beforeEach(async () => {
  await reset();
  seeded = await seedContent();
  await seedCurrentMirrors([mirror("alpha"), mirror("beta", { country: "FR" })]);
});

/** The `Link` values of a response; workerd joins repeated headers with ", ". */
function links(response: Response): string[] {
  const joined = response.headers.get("Link");
  return joined === null ? [] : joined.split(/, (?=<)/);
}

function parseLink(link: string): { url: string; params: Record<string, string> } {
  const match = /^<([^>]*)>((?:; [a-z]+=[^;]+)*)$/.exec(link);
  if (match === null) throw new Error(`not a link-value: ${link}`);
  const params = Object.fromEntries((match[2] ?? "").split("; ").filter(Boolean).map((pair) => pair.split("=") as [string, string]));
  return { url: match[1] as string, params };
}

const blobPath = () => `/v2/${REPOSITORY}/blobs/${seeded.layerDigest}`;

describe("RFC 6249 headers on blob redirects", () => {
  it("Should list every other selected copy as rel=duplicate, none repeating Location", async () => {
    const response = await request(blobPath());
    const urls = [response.headers.get("Location"), ...links(response).map((link) => parseLink(link).url)];
    const path = `/blobs/sha256/${digestHex(seeded.layerDigest)}`;
    expect(urls.slice(0, 2).sort()).toEqual([`http://alpha.mirror.test/tree${path}`, `http://beta.mirror.test/tree${path}`]);
    expect(urls.slice(2)).toEqual([`http://origin.test/tree${path}`]);
  });

  it("Should number the duplicates' pri from 1 with rel=duplicate", async () => {
    const params = links(await request(blobPath())).map((link) => parseLink(link).params);
    expect(params.map((p) => [p.rel, p.pri])).toEqual([
      ["duplicate", "1"],
      ["duplicate", "2"],
    ]);
  });

  it("Should give each duplicate its mirror's country as lower-case geo", async () => {
    const countries: Record<string, string> = { "alpha.mirror.test": "de", "beta.mirror.test": "fr", "origin.test": "nl" };
    const response = await request(blobPath());
    const target = new URL(response.headers.get("Location") ?? "").host;
    const geos = links(response).map(parseLink).map((link) => [new URL(link.url).host, link.params.geo]);
    const expected = Object.entries(countries).filter(([host]) => host !== target);
    expect(geos.sort()).toEqual(expected.sort());
  });

  it("Should list at most MAX_DUPLICATE_LINKS duplicates", async () => {
    await seedCurrentMirrors(Array.from({ length: 14 }, (_, i) => mirror(`m${i}`)));
    expect(links(await request(blobPath()))).toHaveLength(MAX_DUPLICATE_LINKS);
  });

  it("Should send no Link header when the redirect target is the only copy", async () => {
    await seedCurrentMirrors([mirror("alpha")], null);
    expect((await request(blobPath())).headers.get("Link")).toBeNull();
  });

  it("Should send the RFC 3230 Digest as base64 of the raw sha-256", async () => {
    const raw = Uint8Array.from(digestHex(seeded.layerDigest).match(/../g)!, (hex) => Number.parseInt(hex, 16));
    expect((await request(blobPath())).headers.get("Digest")).toBe(`SHA-256=${btoa(String.fromCharCode(...raw))}`);
  });

  it("Should send SHA-512 as the Digest of a sha512 blob", async () => {
    const response = await request(`/v2/${REPOSITORY}/blobs/${seeded.sha512Digest}`);
    expect(response.headers.get("Digest")).toMatch(/^SHA-512=[A-Za-z0-9+/]{86}==$/);
  });

  it("Should add the same headers to a redirect of a Range request", async () => {
    const response = await request(blobPath());
    const ranged = await worker.fetch(new Request(`http://frontdoor.test${blobPath()}`, { headers: { Range: "bytes=0-3" }, redirect: "manual" }));
    expect([ranged.status, links(ranged).length, ranged.headers.get("Digest")]).toEqual([307, links(response).length, response.headers.get("Digest")]);
  });
});
