import { describe, expect, it } from "vitest";
import { MAX_PAGE_SIZE, paginate } from "../../../src/http/pagination";
import { isTag } from "../../../src/oci/reference";

const TAGS = ["a", "b", "c"];

describe("paginate", () => {
  it("Should answer a page and the next link when more entries follow", () => {
    expect(paginate(TAGS, { n: "2" }, "/v2/x/tags/list", isTag)).toEqual({
      ok: true,
      page: { items: ["a", "b"], link: '</v2/x/tags/list?n=2&last=b>; rel="next"' },
    });
  });

  it("Should start after last and cap n at the page size", () => {
    expect(paginate(TAGS, { n: String(MAX_PAGE_SIZE + 1), last: "a" }, "/v2/x/tags/list", isTag)).toEqual({ ok: true, page: { items: ["b", "c"], link: null } });
  });

  it("Should name n, with its value, when it is not a decimal number, before looking at last", () => {
    expect(paginate(TAGS, { n: "-1", last: "!" }, "/v2/x/tags/list", isTag)).toEqual({ ok: false, invalid: "n", value: "-1" });
  });

  it("Should name last, with its value, when it fails the cursor's grammar", () => {
    expect(paginate(TAGS, { last: "!" }, "/v2/x/tags/list", isTag)).toEqual({ ok: false, invalid: "last", value: "!" });
  });
});
