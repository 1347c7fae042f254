import { reset } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { Env } from "../../../src/env";
import { keys } from "../../../src/store/keys";
import { MEDIA_TYPES } from "../../../src/oci/media-types";
import { digestHex } from "../../../src/oci/reference";
import { FRONTDOOR_NAMESPACE, METALINK_NAMESPACE } from "../../../src/render/metalink";
import { CLIENT_ACCEPT } from "../helpers/clients";
import { mirror } from "../helpers/mirrors";
import {
  FIRST_PUBLISHED,
  NEWEST_PUBLISHED,
  parseMetalink,
  REPOSITORY,
  request,
  seedContent,
  seedCurrentMirrors,
  TAG,
  type ParsedMetalink,
  type Seeded,
} from "./fixtures";

let seeded: Seeded;

beforeEach(async () => {
  await reset();
  seeded = await seedContent();
  await seedCurrentMirrors([mirror("alpha"), mirror("beta", { country: "FR" }), mirror("gamma", { country: "SE" })]);
});

async function metalinkOf(path: string): Promise<ParsedMetalink> {
  const response = await request(path, CLIENT_ACCEPT.aria2c);
  expect(response.headers.get("Content-Type")).toBe("application/metalink4+xml");
  return parseMetalink(await response.text());
}

const manifestMetalink = () => metalinkOf(`/v2/${REPOSITORY}/manifests/${TAG}`);
const layerMetalink = () => metalinkOf(`/v2/${REPOSITORY}/blobs/${seeded.layerDigest}`);
const MIRROR_URLS = ["http://alpha.mirror.test/tree", "http://beta.mirror.test/tree", "http://gamma.mirror.test/tree"];

describe("Metalink documents", () => {
  it("Should put the root element in the RFC 5854 namespace", async () => {
    expect((await layerMetalink()).metalink["@_xmlns"]).toBe(METALINK_NAMESPACE);
  });

  it("Should describe exactly one file, named after the blob's digest", async () => {
    const files = (await layerMetalink()).metalink.file;
    expect(files.map((file) => file["@_name"])).toEqual([seeded.layerDigest]);
  });

  it("Should name a manifest's file after the manifest digest the tag points at", async () => {
    expect((await manifestMetalink()).metalink.file[0]?.["@_name"]).toBe(seeded.manifestDigest);
  });

  it("Should give the blob's size", async () => {
    expect((await layerMetalink()).metalink.file[0]?.size).toBe(String(seeded.layerSize));
  });

  it("Should give the manifest's byte length as its size", async () => {
    expect((await manifestMetalink()).metalink.file[0]?.size).toBe(String(seeded.manifestSize));
  });

  it("Should give a sha-256 hash in hex for a sha256 digest", async () => {
    const hashes = (await layerMetalink()).metalink.file[0]?.hash;
    expect(hashes).toEqual([{ "@_type": "sha-256", "#text": digestHex(seeded.layerDigest) }]);
  });

  it("Should give a sha-512 hash in hex for a sha512 digest", async () => {
    const document = await metalinkOf(`/v2/${REPOSITORY}/blobs/${seeded.sha512Digest}`);
    expect(document.metalink.file[0]?.hash).toEqual([{ "@_type": "sha-512", "#text": digestHex(seeded.sha512Digest) }]);
  });

  it("Should date published from the generation the content first appeared in", async () => {
    expect((await layerMetalink()).metalink.published).toBe(FIRST_PUBLISHED);
  });

  it("Should date updated from the newest publication", async () => {
    expect((await layerMetalink()).metalink.updated).toBe(NEWEST_PUBLISHED);
  });

  it("Should number url priorities from 1 in document order", async () => {
    const urls = (await layerMetalink()).metalink.file[0]?.url ?? [];
    expect(urls.map((url) => url["@_priority"])).toEqual(["1", "2", "3", "4"]);
  });

  it("Should list every selected mirror's copy of the blob once, the origin last", async () => {
    const urls = ((await layerMetalink()).metalink.file[0]?.url ?? []).map((url) => url["#text"]);
    const path = `/blobs/sha256/${digestHex(seeded.layerDigest)}`;
    expect(urls.slice(0, 3).sort()).toEqual(MIRROR_URLS.map((base) => `${base}${path}`));
    expect(urls[3]).toBe(`http://origin.test/tree${path}`);
  });

  it("Should list a manifest's copies in the tree as blobs", async () => {
    const urls = ((await manifestMetalink()).metalink.file[0]?.url ?? []).map((url) => url["#text"]);
    expect(urls.every((url) => url.endsWith(`/blobs/sha256/${digestHex(seeded.manifestDigest)}`))).toBe(true);
  });

  it("Should give each url its mirror's country in lower case", async () => {
    const urls = (await layerMetalink()).metalink.file[0]?.url ?? [];
    const byHost = Object.fromEntries(urls.map((url) => [new URL(url["#text"]).host, url["@_location"]]));
    expect(byHost).toEqual({ "alpha.mirror.test": "de", "beta.mirror.test": "fr", "gamma.mirror.test": "se", "origin.test": "nl" });
  });

  it("Should leave location out for an origin without a country", async () => {
    await seedCurrentMirrors([mirror("alpha")], { baseUrl: "http://origin.test/tree" });
    const urls = (await layerMetalink()).metalink.file[0]?.url ?? [];
    expect(urls[1]).toEqual({ "@_priority": "2", "#text": `http://origin.test/tree/blobs/sha256/${digestHex(seeded.layerDigest)}` });
  });

  it("Should carry a manifest's media type in the front door's namespace", async () => {
    const document = await manifestMetalink();
    expect(document.metalink["@_xmlns:fd"]).toBe(FRONTDOOR_NAMESPACE);
    expect(document.metalink.file[0]?.["fd:mediaType"]).toBe(MEDIA_TYPES.ociManifest);
  });

  it("Should carry no media type element for a blob", async () => {
    const document = await layerMetalink();
    expect(document.metalink.file[0]?.["fd:mediaType"]).toBeUndefined();
    expect(document.metalink["@_xmlns:fd"]).toBeUndefined();
  });

  it("Should name its generator", async () => {
    expect((await layerMetalink()).metalink.generator).toBe("registry-frontdoor");
  });

  it("Should hold only the elements RFC 5854 and the extension define", async () => {
    const document = await manifestMetalink();
    expect(Object.keys(document.metalink).sort()).toEqual(["@_xmlns", "@_xmlns:fd", "file", "generator", "published", "updated"]);
    expect(Object.keys(document.metalink.file[0] ?? {}).sort()).toEqual(["@_name", "fd:mediaType", "hash", "size", "url"]);
  });

  it("Should escape a mirror URL's reserved characters and read back the exact URL", async () => {
    await seedCurrentMirrors([mirror("odd", { baseUrl: `http://odd.mirror.test/t?a=1&b="<x>'` })], null);
    const response = await request(`/v2/${REPOSITORY}/blobs/${seeded.layerDigest}`, CLIENT_ACCEPT.aria2c);
    const text = await response.text();
    expect(text).toContain("a=1&amp;b=&quot;&lt;x&gt;&apos;");
    expect(parseMetalink(text).metalink.file[0]?.url[0]?.["#text"]).toBe(`http://odd.mirror.test/t?a=1&b="<x>'/blobs/sha256/${digestHex(seeded.layerDigest)}`);
  });

  it("Should leave published and updated out when no publication is recorded", async () => {
    const kv = (env as unknown as Env).REGISTRY;
    await Promise.all([kv.delete(keys.publication()), kv.delete(keys.generation(2))]);
    const document = await layerMetalink();
    expect(document.metalink.published).toBeUndefined();
    expect(document.metalink.updated).toBeUndefined();
  });
});
