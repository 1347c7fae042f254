import { createExecutionContext, reset, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { buildApp } from "../../../src/app";
import type { Env } from "../../../src/env";
import { createFailover, type Failover } from "../../../src/mirrors/failover";
import { REPEAT_WINDOW_MS } from "../../../src/mirrors/retry-memory";
import { RetrySignal } from "../../../src/mirrors/retry-signal";
import { SUSPECT_TTL_SECONDS } from "../../../src/store/suspect-store";
import type { Digest } from "../../../src/oci/reference";
import { keys } from "../../../src/store/keys";
import { mirror, ORIGIN_URL, healthy, seedMirrors } from "../helpers/mirrors";

const FRONTDOOR = "http://frontdoor.test";
const REPOSITORY = "library/busybox";
const GERMANY = { country: "DE", continent: "EU", asn: 3320, latitude: 52.5, longitude: 13.4 };
const MIRRORS = [mirror("mirror-a"), mirror("mirror-b"), mirror("mirror-c")];
const BLOB_SIZE = 4096;
const T0 = Date.UTC(2026, 11, 1, 12);

function digestOf(n: number): Digest {
  return `sha256:${n.toString(16).padStart(64, "0")}`;
}

const DIGEST = digestOf(1);

/** A blob `count` times over in one repository, and three healthy German mirrors with the origin. */
async function seed(count = 1): Promise<void> {
  for (let n = 1; n <= count; n++) await env.REGISTRY.put(keys.blob(REPOSITORY, digestOf(n)), JSON.stringify({ size: BLOB_SIZE, generation: 1 }));
  await env.REGISTRY.put(keys.tagList(REPOSITORY), JSON.stringify(["latest"]));
  await seedMirrors({ origin: { baseUrl: ORIGIN_URL }, mirrors: MIRRORS }, Object.fromEntries(MIRRORS.map((m) => [m.id, healthy(2)])));
}

interface Ask {
  ip?: string | null;
  agent?: string;
  headers?: Record<string, string>;
  method?: string;
  digest?: Digest;
}

/** The worker's bindings with retry memory as deployed: on (the worker project switches it off for every other file). */
const ON: Env = { ...env, RETRY_MEMORY: undefined };

/** One front door with its own failover state, as one isolate has; each answer is returned after its `waitUntil` work. */
function frontDoor(failover: Failover, bindings: Env = ON) {
  const app = buildApp({ failover });
  return async ({ ip = "192.0.2.10", agent = "containerd/1.6.20", headers = {}, method = "GET", digest = DIGEST }: Ask = {}): Promise<Response> => {
    const request = new Request(`${FRONTDOOR}/v2/${REPOSITORY}/blobs/${digest}`, {
      method,
      redirect: "manual",
      headers: { ...(ip === null ? {} : { "CF-Connecting-IP": ip }), "User-Agent": agent, ...headers },
      cf: GERMANY,
    } as RequestInit);
    const context = createExecutionContext();
    const response = await app.fetch(request, bindings, context);
    await waitOnExecutionContext(context);
    return response;
  };
}

let now = T0;
const clock = () => now;

/** The mirror id a redirect goes to, read from its URL. */
function target(response: Response): string {
  expect(response.status).toBe(307);
  const location = response.headers.get("Location") ?? "";
  if (location.startsWith(`${ORIGIN_URL}/`)) return "origin";
  return /^http:\/\/([a-z-]+)\.mirror\.test\//.exec(location)?.[1] ?? location;
}

/** The mirror ids of the `Link: rel=duplicate` headers, in order. */
function duplicates(response: Response): string[] {
  return (response.headers.get("Link") ?? "")
    .split(/,\s*(?=<)/)
    .filter((link) => link !== "")
    .map((link) => (link.startsWith(`<${ORIGIN_URL}/`) ? "origin" : /^<http:\/\/([a-z-]+)\.mirror\.test\//.exec(link)?.[1] ?? link));
}

/** The ranked list selection makes for a client (by default 192.0.2.10): a first ask's target, then its duplicates. */
async function rankedList(ask: Ask = {}): Promise<string[]> {
  const response = await frontDoor(createFailover({ clock, shared: null }))({ ...ask, agent: "probe" });
  return [target(response), ...duplicates(response)];
}

beforeEach(async () => {
  await reset();
  now = T0;
  await seed();
});

afterEach(() => vi.restoreAllMocks());

describe("a client that came back from a mirror", () => {
  it("Should send that client's other blobs, asked for the first time, to the next mirror too, and other clients as before", async () => {
    await seed(3);
    const door = frontDoor(createFailover({ clock }));
    const [best, next] = await rankedList();
    expect(target(await door({ digest: digestOf(1) }))).toBe(best);
    now += 1000;
    expect(target(await door({ digest: digestOf(1) }))).toBe(next);
    now += 1000;
    expect(target(await door({ digest: digestOf(2) }))).toBe(next);
    expect(target(await door({ digest: digestOf(3), headers: { Range: "bytes=100-" } }))).toBe(next);
    expect(target(await door({ digest: digestOf(2), agent: "another-program/1.0" }))).toBe(best);
  });

  it("Should send its first asks to the best mirror again once the window has passed", async () => {
    await seed(2);
    const door = frontDoor(createFailover({ clock }));
    const [best] = await rankedList();
    await door({ digest: digestOf(1) });
    await door({ digest: digestOf(1) });
    now += REPEAT_WINDOW_MS + 1;
    expect(target(await door({ digest: digestOf(2) }))).toBe(best);
  });
});

describe("blob GETs that come back", () => {
  it("Should answer a first ask exactly as selection ranks it, Location and Link headers alike", async () => {
    const withMemory = await frontDoor(createFailover({ clock }))();
    const without = await frontDoor(createFailover({ clock }), { ...ON, RETRY_MEMORY: "off" })();
    expect(withMemory.status).toBe(307);
    expect([withMemory.headers.get("Location"), withMemory.headers.get("Link")]).toEqual([without.headers.get("Location"), without.headers.get("Link")]);
    expect(duplicates(withMemory)).toHaveLength(3);
  });

  it("Should send a Range resume to the next mirror in the ranked list, the others listed after it", async () => {
    const ranked = await rankedList();
    const ask = frontDoor(createFailover({ clock }));
    expect(target(await ask())).toBe(ranked[0]);
    now += 20_000;
    const resume = await ask({ headers: { Range: "bytes=2048-" } });
    expect([target(resume), duplicates(resume)]).toEqual([ranked[1], [ranked[0], ranked[2], ranked[3]]]);
  });

  it("Should send a resume from the second mirror to the third", async () => {
    const ranked = await rankedList();
    const ask = frontDoor(createFailover({ clock }));
    const targets = [];
    for (const range of [undefined, "bytes=100-", "bytes=200-"]) targets.push(target(await ask({ headers: range === undefined ? {} : { Range: range } })));
    expect(targets).toEqual(ranked.slice(0, 3));
  });

  it("Should treat a Range from byte 0 as any other ask", async () => {
    const ranked = await rankedList();
    expect(target(await frontDoor(createFailover({ clock }))({ headers: { Range: "bytes=0-" } }))).toBe(ranked[0]);
  });

  it("Should walk repeated asks down the list, end at the origin, and name each target in the request log", async () => {
    const ranked = await rankedList();
    expect(ranked.at(-1)).toBe("origin");
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    const ask = frontDoor(createFailover({ clock }));
    const targets = [];
    for (let n = 0; n < ranked.length; n++) {
      targets.push(target(await ask()));
      now += 5_000;
    }
    expect(targets).toEqual(ranked);
    const logged = log.mock.calls.map(([line]) => JSON.parse(String(line)) as { mirror: string | null }).map((entry) => entry.mirror);
    expect(logged).toEqual(ranked);
  });

  it("Should keep a normal pull on one mirror: every blob of the image asked once", async () => {
    await seed(40);
    const ranked = await rankedList();
    const ask = frontDoor(createFailover({ clock }));
    const targets = new Set<string>();
    for (let n = 1; n <= 40; n++) {
      targets.add(target(await ask({ digest: digestOf(n) })));
      now += 100;
    }
    expect([...targets]).toEqual([ranked[0]]);
  });

  it("Should treat an ask after the window as a first ask again", async () => {
    const ranked = await rankedList();
    const ask = frontDoor(createFailover({ clock }));
    expect(target(await ask())).toBe(ranked[0]);
    now += REPEAT_WINDOW_MS - 1;
    expect(target(await ask())).toBe(ranked[1]);
    now += REPEAT_WINDOW_MS + 1;
    expect(target(await ask())).toBe(ranked[0]);
  });

  it("Should recognise a retry that reaches another isolate of the same location, through the Workers Cache", async () => {
    const ranked = await rankedList();
    const first = frontDoor(createFailover({ clock }));
    const second = frontDoor(createFailover({ clock }));
    expect(target(await first())).toBe(ranked[0]);
    expect(target(await second())).toBe(ranked[1]);
    expect(target(await first())).toBe(ranked[2]);
  });

  it("Should tell clients apart by network and by program, but not by host within a /24", async () => {
    const ranked = await rankedList();
    const ask = frontDoor(createFailover({ clock }));
    await ask();
    expect(target(await ask({ ip: "198.51.100.10" }))).toBe((await rankedList({ ip: "198.51.100.10" }))[0]);
    expect(target(await ask({ agent: "skopeo/1.9.3" }))).toBe(ranked[0]);
    expect(target(await ask({ ip: "192.0.2.200" }))).toBe(ranked[1]);
  });

  it("Should not remember a client whose address is unknown", async () => {
    const ranked = await rankedList({ ip: null });
    const ask = frontDoor(createFailover({ clock }));
    const targets = [];
    for (let n = 0; n < 3; n++) targets.push(target(await ask({ ip: null, headers: { Range: "bytes=10-" } })));
    expect(targets).toEqual([ranked[0], ranked[0], ranked[0]]);
  });

  it("Should leave HEAD and metalink answers alone, and not count them as asks", async () => {
    const ranked = await rankedList();
    const ask = frontDoor(createFailover({ clock }));
    for (let n = 0; n < 3; n++) expect((await ask({ method: "HEAD" })).status).toBe(200);
    const metalink = async () => {
      const response = await ask({ headers: { Accept: "application/metalink4+xml" } });
      expect(response.status).toBe(200);
      return [...(await response.text()).matchAll(/<url[^>]*>([^<]+)<\/url>/g)].map((match) => match[1]);
    };
    const before = await metalink();
    expect(target(await ask())).toBe(ranked[0]);
    expect(await metalink()).toEqual(before);
    expect(target(await ask())).toBe(ranked[1]);
  });

  it("Should switch retry memory on when RETRY_MEMORY is unset, and on with \"on\"", async () => {
    const ranked = await rankedList();
    for (const value of [undefined, "on"]) {
      const ask = frontDoor(createFailover({ clock }), { ...env, RETRY_MEMORY: value });
      const agent = `podman/${value ?? "unset"}`;
      expect([target(await ask({ agent })), target(await ask({ agent }))]).toEqual([ranked[0], ranked[1]]);
    }
  });

  it("Should send every ask to the best mirror when RETRY_MEMORY is off", async () => {
    const ranked = await rankedList();
    const ask = frontDoor(createFailover({ clock }), { ...ON, RETRY_MEMORY: "off" });
    const targets = [];
    for (let n = 0; n < 3; n++) targets.push(target(await ask({ headers: { Range: "bytes=10-" } })));
    expect(targets).toEqual([ranked[0], ranked[0], ranked[0]]);
  });

  it("Should keep memory in the isolate alone when RETRY_MEMORY is isolate", async () => {
    const ranked = await rankedList();
    const isolate = { ...ON, RETRY_MEMORY: "isolate" };
    const first = frontDoor(createFailover({ clock }), isolate);
    const second = frontDoor(createFailover({ clock }), isolate);
    expect([target(await first()), target(await first())]).toEqual([ranked[0], ranked[1]]);
    expect(target(await second())).toBe(ranked[0]);
  });

  it("Should fail loudly on a RETRY_MEMORY that is not a mode", async () => {
    const response = await frontDoor(createFailover({ clock }), { ...ON, RETRY_MEMORY: "maybe" })();
    expect(response.status).toBe(500);
  });
});

describe("the retry signal", () => {
  /** KV that counts its writes per key and passes everything through. */
  function countingKv(): { kv: KVNamespace; puts: Map<string, number> } {
    const puts = new Map<string, number>();
    const kv = new Proxy(env.REGISTRY, {
      get(target, property) {
        if (property === "put") {
          return (key: string, ...rest: Parameters<KVNamespace["put"]> extends [unknown, ...infer R] ? R : never) => {
            puts.set(key, (puts.get(key) ?? 0) + 1);
            return target.put(key, ...rest);
          };
        }
        const value = Reflect.get(target, property) as unknown;
        return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    return { kv, puts };
  }

  it("Should write crawl:suspect for the mirror clients keep coming back from once, however many retries", async () => {
    const ranked = await rankedList();
    const { kv, puts } = countingKv();
    const ask = frontDoor(createFailover({ clock, signal: new RetrySignal() }), { ...ON, REGISTRY: kv });
    for (let client = 0; client < 50; client++) {
      const agent = `containerd/1.6.${client}`;
      await ask({ agent });
      now += 1000;
      await ask({ agent, headers: { Range: "bytes=1000-" } });
    }
    expect(Object.fromEntries(puts)).toEqual({ [keys.crawlSuspect(ranked[0]!)]: 1 });
    const stored = await env.REGISTRY.get<{ since: string; retries: number }>(keys.crawlSuspect(ranked[0]!), "json");
    expect(stored).toEqual({ since: new Date(T0 + 1000).toISOString(), retries: 3 });
    const listed = await env.REGISTRY.list({ prefix: keys.crawlSuspectPrefix() });
    expect(listed.keys.map((entry) => entry.name)).toEqual([keys.crawlSuspect(ranked[0]!)]);
    expect(listed.keys[0]!.expiration).toBeGreaterThan(Date.now() / 1000 + SUSPECT_TTL_SECONDS - 60);
  });

  it("Should count neither first asks nor come-backs from the origin", async () => {
    const { kv, puts } = countingKv();
    const ask = frontDoor(createFailover({ clock, signal: new RetrySignal(1) }), { ...ON, REGISTRY: kv });
    for (let client = 0; client < 20; client++) await ask({ ip: `203.0.${client}.9` });
    expect(puts.size).toBe(0);
    for (let n = 0; n < 5; n++) await ask();
    expect([...puts.keys()].sort()).toEqual(MIRRORS.map((m) => keys.crawlSuspect(m.id)).sort());
  });
});
