import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mergeCrawlState } from "../../../src/crawl/state";
import { classifyMirror } from "../../../src/mirrors/mirror-state";
import { selectMirrors } from "../../../src/mirrors/select";
import { healthOf, type CrawlState } from "../../../src/mirrors/types";
import { buildStatusReport } from "../../../src/render/status-report";
import { client, healthy, mirror, table } from "../helpers/mirrors";

/** Names Object.prototype answers to: as mirror ids they must find nothing but their own entries. */
const PROTOTYPE_NAMES = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf", "isPrototypeOf", "__defineGetter__", "propertyIsEnumerable"];
const ids = fc.uniqueArray(fc.oneof(fc.constantFrom(...PROTOTYPE_NAMES), fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/)), { minLength: 1, maxLength: 8 });

describe("Mirror ids that Object.prototype also knows", () => {
  it("Should be unchecked, and never chosen, before any check", () => {
    fc.assert(
      fc.property(ids, (names) => {
        const mirrors = table(names.map((id) => mirror(id)));
        const crawl = JSON.parse("{}") as CrawlState;
        for (const entry of mirrors.mirrors) expect(classifyMirror(entry, healthOf(crawl, entry.id), 1)).toBe("unchecked");
        const { chosen } = selectMirrors(mirrors, crawl, { client: client({ country: "DE" }), generation: 1, repository: "r", limit: 10 });
        expect(chosen.map((m) => m.id)).toEqual(["origin"]);
        const report = buildStatusReport(mirrors, crawl, null, new Date(0));
        expect(report.mirrors.map((row) => row.status)).toEqual(names.map(() => "unchecked"));
      }),
    );
  });

  it("Should keep each id's own health through a crawl merge and a JSON round trip", () => {
    fc.assert(
      fc.property(ids, fc.integer({ min: 1, max: 9 }), (names, generation) => {
        const mirrors = table(names.map((id) => mirror(id)));
        const updates = new Map(names.map((id) => [id, healthy(generation, { verified: generation })]));
        const merged = mergeCrawlState(mirrors, JSON.parse("{}") as CrawlState, updates);
        const stored = JSON.parse(JSON.stringify(merged)) as CrawlState;
        for (const id of names) expect(healthOf(stored, id)?.verified).toBe(generation);
        expect(Object.keys(stored).sort()).toEqual([...names].sort());
        const { chosen } = selectMirrors(mirrors, stored, { client: client({ country: "DE" }), generation, repository: "r", limit: 10 });
        expect(chosen.filter((m) => m.id !== "origin").length).toBe(Math.min(names.length, 10));
      }),
    );
  });
});
