import { reset } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { Env } from "../../../src/env";
import type { MirrorTable } from "../../../src/mirrors/types";
import { mirrorsEntry, putEntry } from "../../../src/store/encode";
import { keys } from "../../../src/store/keys";
import { MirrorStore } from "../../../src/store/mirror-store";
import { VersionedCache } from "../../../src/store/versioned-cache";

const kv = (env as unknown as Env).REGISTRY;

function table(version: string, origin: string): MirrorTable {
  return { version, origin: { baseUrl: origin }, mirrors: [] };
}

beforeEach(() => reset());

describe("VersionedCache", () => {
  it("Should keep its parsed copy while the version stays, and re-read when it changes", async () => {
    const cache = new VersionedCache();
    await putEntry(kv, mirrorsEntry(table("v1", "https://one.test")));
    expect((await cache.read<MirrorTable>(kv, keys.mirrors()))?.value.origin).toEqual({ baseUrl: "https://one.test" });
    await putEntry(kv, mirrorsEntry(table("v1", "https://rewritten.test")));
    expect((await cache.read<MirrorTable>(kv, keys.mirrors()))?.value.origin).toEqual({ baseUrl: "https://one.test" });
    await putEntry(kv, mirrorsEntry(table("v2", "https://two.test")));
    expect((await cache.read<MirrorTable>(kv, keys.mirrors()))?.value.origin).toEqual({ baseUrl: "https://two.test" });
  });

  it("Should share nothing between two caches", async () => {
    await putEntry(kv, mirrorsEntry(table("v1", "https://one.test")));
    const first = new MirrorStore(kv, new VersionedCache());
    await first.table();
    await putEntry(kv, mirrorsEntry(table("v1", "https://rewritten.test")));
    expect((await new MirrorStore(kv, new VersionedCache()).table()).origin).toEqual({ baseUrl: "https://rewritten.test" });
    expect((await first.table()).origin).toEqual({ baseUrl: "https://one.test" });
  });
});
