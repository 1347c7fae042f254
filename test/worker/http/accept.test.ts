import { describe, expect, it } from "vitest";
import { MAX_ACCEPT_RANGES, negotiate, parseAccept } from "../../../src/http/accept";

const MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const METALINK = "application/metalink4+xml";

describe("parseAccept", () => {
  it("Should read no more than MAX_ACCEPT_RANGES ranges of a huge header", () => {
    expect(parseAccept("a/b, ".repeat(10_000))).toHaveLength(MAX_ACCEPT_RANGES);
  });

  it("Should read media ranges with their q-values", () => {
    expect(parseAccept("text/html;q=0.5, application/json")).toEqual([
      { type: "text", subtype: "html", q: 0.5 },
      { type: "application", subtype: "json", q: 1 },
    ]);
  });

  it("Should drop malformed ranges and treat a malformed q as 0", () => {
    expect(parseAccept("garbage, */json, a/b/c, text/plain;q=2")).toEqual([{ type: "text", subtype: "plain", q: 0 }]);
  });
});

describe("negotiate", () => {
  it("Should give the first offer when there is no Accept", () => {
    expect(negotiate(null, [MANIFEST, METALINK])).toBe(MANIFEST);
  });

  it("Should prefer a type named outright over one reached through */* at equal q", () => {
    expect(negotiate(`*/*,${METALINK},application/metalink+xml`, [MANIFEST, METALINK])).toBe(METALINK);
  });

  it("Should keep the server's order when both are named", () => {
    expect(negotiate(`${MANIFEST}, ${METALINK}`, [MANIFEST, METALINK])).toBe(MANIFEST);
  });

  it("Should honour q-values over specificity", () => {
    expect(negotiate(`${MANIFEST};q=0.2, ${METALINK};q=0.9`, [MANIFEST, METALINK])).toBe(METALINK);
  });

  it("Should refuse a type given q=0 even through a wildcard", () => {
    expect(negotiate(`${METALINK};q=0, */*`, [METALINK])).toBeNull();
  });

  it("Should match type/* ranges", () => {
    expect(negotiate("application/*", [METALINK])).toBe(METALINK);
  });

  it("Should return null when nothing offered is acceptable", () => {
    expect(negotiate("text/html", [MANIFEST, METALINK])).toBeNull();
  });
});
