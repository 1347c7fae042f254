import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { chooseTarget, REPEAT_WINDOW_MS, RESUME_WINDOW_MS, RetryMemory, type AskHistory } from "../../../src/mirrors/retry-memory";
import { selectMirrors, type ClientLocation } from "../../../src/mirrors/select";
import type { CrawlState } from "../../../src/mirrors/types";
import { healthy, mirror, table } from "../helpers/mirrors";

const T0 = Date.UTC(2026, 11, 1, 12);
const POOL = ["m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7"];

/** A ranked list as selection gives it: distinct mirrors, best first, and usually the origin last. */
const rankedList = fc
  .tuple(fc.shuffledSubarray(POOL, { minLength: 0, maxLength: POOL.length }), fc.boolean())
  .filter(([mirrors, origin]) => mirrors.length > 0 || origin)
  .map(([mirrors, origin]) => (origin ? [...mirrors, "origin"] : mirrors));

/** One ask of a client for one digest: how long after the previous, with `Range` past 0 or not, and the list selection made then. */
const ask = fc.record({
  gap: fc.oneof(fc.integer({ min: 0, max: 60_000 }), fc.integer({ min: 0, max: RESUME_WINDOW_MS + 60_000 })),
  resume: fc.boolean(),
  ranked: fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: rankedList }),
});

describe("retry memory properties", () => {
  it("Should never send a retry to an entry the client already got within the window while another candidate exists", () => {
    fc.assert(
      fc.property(rankedList, fc.array(ask, { minLength: 1, maxLength: 30 }), (initial, asks) => {
        let history: AskHistory | null = null;
        let ranked = initial;
        let now = T0;
        // What the client got since its asks last came within the window of each other.
        let got = new Set<string>();
        for (const next of asks) {
          now += next.gap;
          ranked = next.ranked ?? ranked;
          const window = next.resume ? RESUME_WINDOW_MS : REPEAT_WINDOW_MS;
          if (history === null || now - history.at > window) got = new Set();
          const target = chooseTarget(ranked, history, { now, resume: next.resume });
          const id = ranked[target.index]!;
          if (ranked.some((candidate) => !got.has(candidate))) expect(got.has(id)).toBe(false);
          if (got.size > 0 && ranked.length > 1) expect(id).not.toBe(history?.given.at(-1));
          got.add(id);
          history = target.history;
        }
      }),
      { numRuns: 500 },
    );
  });

  it("Should reach the origin within as many retries as the list has entries", () => {
    fc.assert(
      fc.property(rankedList.filter((list) => list.at(-1) === "origin"), fc.boolean(), (ranked, resume) => {
        let history: AskHistory | null = null;
        const targets: string[] = [];
        for (let n = 0; n < ranked.length; n++) {
          const target = chooseTarget(ranked, history, { now: T0 + n * 1000, resume: n > 0 && resume });
          targets.push(ranked[target.index]!);
          history = target.history;
        }
        expect(targets).toEqual(ranked);
      }),
    );
  });

  const place = fc.constantFrom(
    { country: "DE", continent: "EU" },
    { country: "FR", continent: "EU" },
    { country: "US", continent: "NA" },
    { country: "JP", continent: "AS" },
  );
  const randomTable = fc.array(fc.record({ place, bandwidth: fc.integer({ min: 1, max: 1000 }) }), { minLength: 1, maxLength: 12 }).map((list) => {
    const mirrors = list.map((fields, i) => mirror(`m${i}`, { ...fields.place, bandwidth: fields.bandwidth }));
    const crawl: CrawlState = Object.fromEntries(mirrors.map((m) => [m.id, healthy(3)]));
    return { table: table(mirrors), crawl };
  });
  const randomClient: fc.Arbitrary<ClientLocation> = fc.record({
    ip: fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255)).map(([a, b, c]) => `${a}.${b}.${c}.7`),
    country: fc.constantFrom("DE", "FR", "US", "JP", "BR"),
    continent: fc.constantFrom("EU", "NA", "AS", "SA"),
    asn: fc.constant(null),
    latitude: fc.constant(null),
    longitude: fc.constant(null),
  });

  it("Should keep a normal pull, which asks every blob once, on one mirror", async () => {
    await fc.assert(
      fc.asyncProperty(
        randomTable,
        randomClient,
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5_000 }), fc.boolean()), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 64 }),
        async ({ table: mirrors, crawl }, who, blobs, capacity) => {
          // A small LRU, other pulls in between: neither may move a first ask.
          const memory = new RetryMemory({ capacity });
          const client = "0123456789abcdef0123456789abcdef";
          let now = T0;
          const targets = new Set<string>();
          for (const [n, [gap, otherPull]] of blobs.entries()) {
            now += gap;
            if (otherPull) await memory.remember({ client: "f".repeat(32), digest: `sha256:${n}`, origin: "http://frontdoor.test" }, { given: ["m0"], at: now });
            const key = { client, digest: `sha256:${n.toString(16).padStart(64, "0")}`, origin: "http://frontdoor.test" };
            const { chosen } = selectMirrors(mirrors, crawl, { client: who, generation: 2, repository: "library/app", limit: 10 });
            const target = chooseTarget(chosen.map((m) => m.id), await memory.recall(key), { now, resume: false });
            await memory.remember(key, target.history);
            targets.add(chosen[target.index]!.id);
          }
          expect(targets.size).toBe(1);
        },
      ),
      { numRuns: 200 },
    );
  });
});
