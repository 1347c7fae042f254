import { reset } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import type { MirrorTable } from "../../src/mirrors/types";
import { CompositionRoot } from "../../src/services";
import { mirrorsEntry, putEntry } from "../../src/store/encode";

const kv = (env as unknown as Env).REGISTRY;

function table(version: string, origin: string): MirrorTable {
  return { version, origin: { baseUrl: origin }, mirrors: [] };
}

beforeEach(() => reset());

describe("CompositionRoot", () => {
  it("Should build settings and stores once per environment object, over its own cache", async () => {
    const root = new CompositionRoot();
    const bindings = { ...(env as unknown as Env) };
    expect(root.servicesFor(bindings)).toBe(root.servicesFor(bindings));
    expect(root.servicesFor({ ...bindings })).not.toBe(root.servicesFor(bindings));
    await putEntry(kv, mirrorsEntry(table("v1", "https://one.test")));
    await root.servicesFor(bindings).mirrors.table();
    await putEntry(kv, mirrorsEntry(table("v1", "https://rewritten.test")));
    expect((await root.servicesFor({ ...bindings }).mirrors.table()).origin).toEqual({ baseUrl: "https://one.test" });
    expect((await new CompositionRoot().servicesFor(bindings).mirrors.table()).origin).toEqual({ baseUrl: "https://rewritten.test" });
  });

  it("Should parse the crawler's settings apart, so a bad one leaves the routes' settings alone", () => {
    const root = new CompositionRoot();
    const bindings = { ...(env as unknown as Env), CRAWL_BATCH_SIZE: "zero" };
    expect(root.servicesFor(bindings).settings.mirrorListCap).toBe(10);
    expect(() => root.crawlSettingsFor(bindings)).toThrow(/CRAWL_BATCH_SIZE/);
  });
});
