import { describe, expect, it } from "vitest";
import { encodeMarker, MAX_GENERATION, parseMarker } from "../../../src/oci/marker";

const encoder = new TextEncoder();

function parse(text: string) {
  return parseMarker(encoder.encode(text));
}

describe("parseMarker, shared by the publisher and the crawler", () => {
  it("Should accept the publisher's marker", () => {
    expect(parse('{"generation": 7, "published": "2026-11-27T12:00:00.123Z"}')).toEqual({ generation: 7, published: "2026-11-27T12:00:00.123Z" });
  });

  it("Should read back what encodeMarker writes", () => {
    const marker = { generation: 3, published: "2026-11-27T12:00:00+01:00" };
    expect(parseMarker(encodeMarker(marker))).toEqual(marker);
  });

  it("Should reject generation 0, which no publication has", () => {
    expect(parse('{"generation": 0, "published": "2026-11-27T12:00:00Z"}')).toBeNull();
  });

  it("Should accept MAX_GENERATION and reject anything past it, up to unsafe integers", () => {
    expect(parse(`{"generation": ${MAX_GENERATION}, "published": "2026-11-27T12:00:00Z"}`)?.generation).toBe(MAX_GENERATION);
    expect(parse(`{"generation": ${MAX_GENERATION + 1}, "published": "2026-11-27T12:00:00Z"}`)).toBeNull();
    expect(parse('{"generation": 9007199254740993, "published": "2026-11-27T12:00:00Z"}')).toBeNull();
  });

  it("Should reject a negative generation", () => {
    expect(parse('{"generation": -1, "published": "2026-11-27T12:00:00Z"}')).toBeNull();
  });

  it("Should reject a generation written as a string", () => {
    expect(parse('{"generation": "7", "published": "2026-11-27T12:00:00Z"}')).toBeNull();
  });

  it("Should reject a marker without a publication time", () => {
    expect(parse('{"generation": 7}')).toBeNull();
  });

  it("Should reject a publication time that is not RFC 3339", () => {
    expect(parse('{"generation": 7, "published": "yesterday"}')).toBeNull();
  });

  it("Should reject a publication time on a date that does not exist", () => {
    expect(parse('{"generation": 7, "published": "2026-13-40T12:00:00Z"}')).toBeNull();
  });

  it("Should reject a JSON value that is not an object", () => {
    expect(parse("[7]")).toBeNull();
  });

  it("Should reject a marker that is not valid UTF-8 (RFC 8259, section 8.1)", () => {
    const valid = encoder.encode('{"generation": 7, "published": "2026-11-27T12:00:00Z", "note": "?"}');
    valid[valid.lastIndexOf(0x3f)] = 0xff;
    expect(parseMarker(valid)).toBeNull();
  });
});
