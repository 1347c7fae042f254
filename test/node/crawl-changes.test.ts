import { describe, expect, it } from "vitest";
import { CrawlChanges } from "../../scripts/lib/stack/crawl-changes";

function report(...checked: Array<{ id: string; ok: boolean; down?: boolean; verified?: number; reason?: string | null }>) {
  return { crawl: "* * * * *", enabled: 2, suspects: [], next: 0, checked: checked.map((entry) => ({ announced: 1, verified: 1, down: false, blobs: 3, reason: null, ...entry })) };
}

describe("CrawlChanges", () => {
  it("Should print the first sweep, nothing for a sweep that changed nothing, and only the mirrors that changed", () => {
    const changes = new CrawlChanges();
    expect(changes.line(report({ id: "de-fra", ok: true }, { id: "us-iad", ok: true }), "{}")).toBe("crawler: de-fra passing, verified 1, announced 1; us-iad passing, verified 1, announced 1");
    expect(changes.line(report({ id: "de-fra", ok: true }, { id: "us-iad", ok: true }), "{}")).toBeNull();
    expect(changes.line(report({ id: "de-fra", ok: true }, { id: "us-iad", ok: false, reason: "network" }), "{}")).toBe("crawler: us-iad failing (network), verified 1, announced 1");
    expect(changes.line(report({ id: "us-iad", ok: false, reason: "network", down: true }), "{}")).toBe("crawler: us-iad down, verified 1, announced 1");
  });

  it("Should pass every other log line through as it is", () => {
    const changes = new CrawlChanges();
    const request = { method: "GET", path: "/v2/", status: 200 };
    expect(changes.line(request, JSON.stringify(request))).toBe(JSON.stringify(request));
    expect(changes.line(null, "plain text")).toBe("plain text");
  });
});
