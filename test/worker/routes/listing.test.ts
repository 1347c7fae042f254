import { reset } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { firstError, request } from "../helpers/fetch";
import { seedImage } from "../helpers/seed";

beforeEach(() => reset());

beforeEach(async () => {
  for (const tag of ["40", "41", "latest", "rawhide"]) await seedImage("fedora/fedora", tag);
  await seedImage("alpine", "3");
  await seedImage("demo/hello", "latest");
});

describe("GET /v2/<name>/tags/list", () => {
  it("Should list every tag in lexical order", async () => {
    const response = await request("/v2/fedora/fedora/tags/list");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ name: "fedora/fedora", tags: ["40", "41", "latest", "rawhide"] });
    expect(response.headers.get("Link")).toBeNull();
  });

  it("Should page with n and point to the next page with an RFC 8288 Link", async () => {
    const response = await request("/v2/fedora/fedora/tags/list?n=2");
    expect(await response.json()).toEqual({ name: "fedora/fedora", tags: ["40", "41"] });
    expect(response.headers.get("Link")).toBe('</v2/fedora/fedora/tags/list?n=2&last=41>; rel="next"');
  });

  it("Should continue after last", async () => {
    const response = await request("/v2/fedora/fedora/tags/list?n=2&last=41");
    expect(await response.json()).toEqual({ name: "fedora/fedora", tags: ["latest", "rawhide"] });
    expect(response.headers.get("Link")).toBeNull();
  });

  it("Should continue after a last that is not itself a tag", async () => {
    const response = await request("/v2/fedora/fedora/tags/list?last=5");
    expect(await response.json()).toEqual({ name: "fedora/fedora", tags: ["latest", "rawhide"] });
  });

  it("Should answer an empty list for n=0", async () => {
    const response = await request("/v2/fedora/fedora/tags/list?n=0");
    expect(await response.json()).toEqual({ name: "fedora/fedora", tags: [] });
  });

  it.each(["-1", "abc", "1.5", "99999999999"])("Should reject n=%s with PAGINATION_NUMBER_INVALID", async (n) => {
    const response = await request(`/v2/fedora/fedora/tags/list?n=${encodeURIComponent(n)}`);
    expect(response.status).toBe(400);
    expect((await firstError(response)).code).toBe("PAGINATION_NUMBER_INVALID");
  });

  it("Should reject a last that breaks the tag grammar", async () => {
    const response = await request("/v2/fedora/fedora/tags/list?last=%2Fetc");
    expect(response.status).toBe(400);
    expect((await firstError(response)).code).toBe("TAG_INVALID");
  });

  it("Should answer NAME_UNKNOWN for an unknown repository", async () => {
    const response = await request("/v2/nobody/tags/list");
    expect(response.status).toBe(404);
    expect((await firstError(response)).code).toBe("NAME_UNKNOWN");
  });
});

describe("GET /v2/_catalog", () => {
  it("Should list every repository in lexical order", async () => {
    const response = await request("/v2/_catalog");
    expect(await response.json()).toEqual({ repositories: ["alpine", "demo/hello", "fedora/fedora"] });
  });

  it("Should page with n and last", async () => {
    const first = await request("/v2/_catalog?n=1");
    expect(await first.json()).toEqual({ repositories: ["alpine"] });
    expect(first.headers.get("Link")).toBe('</v2/_catalog?n=1&last=alpine>; rel="next"');
    const second = await request("/v2/_catalog?n=1&last=alpine");
    expect(await second.json()).toEqual({ repositories: ["demo/hello"] });
  });
});
