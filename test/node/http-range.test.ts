import { describe, expect, it } from "vitest";
import { parseRange } from "../../scripts/lib/stack/http-range";

describe("parseRange", () => {
  it("Should serve the whole body without a Range header", () => {
    expect(parseRange(undefined, 10)).toBe("none");
  });

  it("Should read a closed range", () => {
    expect(parseRange("bytes=2-5", 10)).toEqual({ start: 2, end: 5 });
  });

  it("Should clamp a range's end to the last byte", () => {
    expect(parseRange("bytes=8-100", 10)).toEqual({ start: 8, end: 9 });
  });

  it("Should read an open-ended range", () => {
    expect(parseRange("bytes=7-", 10)).toEqual({ start: 7, end: 9 });
  });

  it("Should read a suffix range longer than the body as the whole body", () => {
    expect(parseRange("bytes=-50", 10)).toEqual({ start: 0, end: 9 });
  });

  it("Should call a range starting past the end unsatisfiable", () => {
    expect(parseRange("bytes=10-", 10)).toBe("unsatisfiable");
  });

  it("Should call a zero-length suffix unsatisfiable", () => {
    expect(parseRange("bytes=-0", 10)).toBe("unsatisfiable");
  });

  it.each(["bytes=0-1,3-4", "items=0-1", "bytes=5-2", "bytes=-", "bytes=a-b"])("Should ignore %s and serve the whole body", (header) => {
    expect(parseRange(header, 10)).toBe("none");
  });
});
