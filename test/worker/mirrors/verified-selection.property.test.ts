import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { classifyMirror, IN_ROTATION } from "../../../src/mirrors/mirror-state";
import { selectMirrors } from "../../../src/mirrors/select";
import type { CrawlState } from "../../../src/mirrors/types";
import type { Digest } from "../../../src/oci/reference";
import { client, healthy, mirror, table } from "../helpers/mirrors";

const DIGESTS: Digest[] = ["sha256:" + "a".repeat(64), "sha256:" + "b".repeat(64), "sha256:" + "c".repeat(64)] as Digest[];

/** Mirrors whose marker may run ahead of what they are verified for, some excluded for some digests. */
const world = fc
  .array(
    fc.record({
      enabled: fc.boolean(),
      announced: fc.integer({ min: -1, max: 5 }),
      behind: fc.integer({ min: 0, max: 3 }),
      down: fc.boolean(),
      failing: fc.boolean(),
      crawled: fc.boolean(),
      bad: fc.subarray(DIGESTS),
      country: fc.constantFrom("DE", "FR", "US"),
    }),
    { minLength: 1, maxLength: 20 },
  )
  .map((list) => {
    const mirrors = list.map((fields, i) => mirror(`m${i}`, { enabled: fields.enabled, country: fields.country, continent: fields.country === "US" ? "NA" : "EU" }));
    const crawl: CrawlState = {};
    list.forEach((fields, i) => {
      if (!fields.crawled) return;
      crawl[`m${i}`] = healthy(fields.announced, {
        verified: fields.announced < 0 ? -1 : fields.announced - fields.behind,
        down: fields.down,
        consecutiveFailures: fields.failing ? 1 : 0,
        badBlobs: fields.bad.map((digest) => ({ digest, generation: 1, size: 10, since: "2026-11-27T00:00:00Z" })),
      });
    });
    return { table: table(mirrors), crawl };
  });

const request = fc.record({
  generation: fc.integer({ min: 0, max: 5 }),
  digest: fc.constantFrom(...DIGESTS),
  country: fc.constantFrom("DE", "FR", "US"),
  limit: fc.integer({ min: 1, max: 25 }),
});

describe("selection over verified generations", () => {
  it("Should never send content to a mirror not verified for its generation, or excluded for its digest", () => {
    fc.assert(
      fc.property(world, request, ({ table: mirrors, crawl }, ask) => {
        const { chosen } = selectMirrors(mirrors, crawl, { client: client({ country: ask.country }), generation: ask.generation, digest: ask.digest, repository: "r", limit: ask.limit });
        for (const entry of chosen.filter((m) => m.tier !== "origin")) {
          const health = crawl[entry.id]!;
          expect(health.verified).toBeGreaterThanOrEqual(ask.generation);
          expect(health.badBlobs.map((blob) => blob.digest)).not.toContain(ask.digest);
          expect(IN_ROTATION.has(classifyMirror(mirrors.mirrors.find((m) => m.id === entry.id)!, health, null))).toBe(true);
        }
      }),
    );
  });

  it("Should never list a mirror both chosen and excluded", () => {
    fc.assert(
      fc.property(world, request, ({ table: mirrors, crawl }, ask) => {
        const selection = selectMirrors(mirrors, crawl, { client: client({ country: ask.country }), generation: ask.generation, digest: ask.digest, repository: "r", limit: ask.limit, explain: true });
        const excluded = new Set(selection.excluded.map((m) => m.id));
        expect(selection.chosen.filter((m) => excluded.has(m.id))).toEqual([]);
      }),
    );
  });

  it("Should list every mirror exactly once, chosen or excluded with a reason, for any client and list cap", () => {
    fc.assert(
      fc.property(world, request, fc.boolean(), ({ table: mirrors, crawl }, ask, placed) => {
        const selection = selectMirrors(mirrors, crawl, {
          client: placed ? client({ country: ask.country }) : client(),
          generation: ask.generation,
          digest: ask.digest,
          repository: "r",
          limit: ask.limit,
          explain: true,
        });
        const chosen = selection.chosen.filter((m) => m.tier !== "origin").map((m) => m.id);
        const excluded = selection.excluded.map((m) => m.id);
        expect(chosen.filter((id) => excluded.includes(id))).toEqual([]);
        expect([...chosen, ...excluded].sort()).toEqual(mirrors.mirrors.map((m) => m.id).sort());
      }),
    );
  });

  it("Should give the same state for a mirror that never passed and is down on every view", () => {
    const down = mirror("never");
    const health = healthy(-1, { verified: -1, down: true });
    expect(classifyMirror(down, health, 3)).toBe("down");
    const { excluded } = selectMirrors(table([down]), { never: health }, { client: client(), generation: 1, repository: "r", limit: 5, explain: true });
    expect(excluded).toEqual([{ id: "never", reason: "down" }]);
  });
});
