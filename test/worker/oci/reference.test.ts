import { describe, expect, it } from "vitest";
import { parseReference } from "../../../src/oci/reference";

const DIGEST = `sha256:${"a".repeat(64)}`;

describe("parseReference", () => {
  it("Should read a tag, and a digest when the reference has a colon", () => {
    expect(parseReference("v1.0")).toEqual({ ok: true, reference: { kind: "tag", tag: "v1.0" } });
    expect(parseReference(DIGEST)).toEqual({ ok: true, reference: { kind: "digest", digest: DIGEST } });
  });

  it("Should name the grammar a malformed reference failed", () => {
    expect(parseReference("sha256:short")).toEqual({ ok: false, invalid: "digest" });
    expect(parseReference("-leading-dash")).toEqual({ ok: false, invalid: "tag" });
  });
});
