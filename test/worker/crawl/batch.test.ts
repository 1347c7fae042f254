import { describe, expect, it } from "vitest";
import { pickBatch } from "../../../src/crawl/batch";
import { CRAWL_DEFAULTS } from "../../../src/config";
import { effectiveBatchSize } from "../../../src/crawl/settings";

describe("pickBatch", () => {
  it("Should wrap a cursor left beyond a list that shrank", () => {
    expect(pickBatch(["a", "b", "c"], 7, 2)).toEqual({ batch: ["b", "c"], next: 0 });
  });

  it("Should return an empty batch and a cursor of zero for an empty list", () => {
    expect(pickBatch([], 4, 2)).toEqual({ batch: [], next: 0 });
  });
});

describe("effectiveBatchSize", () => {
  it("Should keep the default batch within the Free plan's 50 subrequests", () => {
    expect(effectiveBatchSize(CRAWL_DEFAULTS) * (1 + CRAWL_DEFAULTS.sampleSize)).toBeLessThanOrEqual(50);
  });

  it("Should let a Paid plan's limit allow the configured batch size", () => {
    expect(effectiveBatchSize({ ...CRAWL_DEFAULTS, batchSize: 250, subrequestLimit: 1000 })).toBe(250);
  });
});
