import { describe, expect, it } from "vitest";
import { parseMarker } from "../../../src/crawl/marker";

describe("parseMarker", () => {
  it("Should accept the publisher's marker", () => {
    expect(parseMarker('{"generation": 7, "published": "2026-11-27T12:00:00.123Z"}')).toEqual({ generation: 7, published: "2026-11-27T12:00:00.123Z" });
  });

  it("Should reject a negative generation", () => {
    expect(parseMarker('{"generation": -1, "published": "2026-11-27T12:00:00Z"}')).toBeNull();
  });

  it("Should reject a generation written as a string", () => {
    expect(parseMarker('{"generation": "7", "published": "2026-11-27T12:00:00Z"}')).toBeNull();
  });

  it("Should reject a marker without a publication time", () => {
    expect(parseMarker('{"generation": 7}')).toBeNull();
  });

  it("Should reject a publication time that is not RFC 3339", () => {
    expect(parseMarker('{"generation": 7, "published": "yesterday"}')).toBeNull();
  });

  it("Should reject a JSON value that is not an object", () => {
    expect(parseMarker("[7]")).toBeNull();
  });
});
