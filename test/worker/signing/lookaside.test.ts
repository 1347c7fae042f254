import { describe, expect, it } from "vitest";
import { lookasideName, lookasidePath, MAX_LOOKASIDE_SIGNATURES, parseLookasideName } from "../../../src/signing/lookaside";
import { attachedDigest, attachmentTag } from "../../../src/signing/sigstore";

const HEX = "ab".repeat(32);
const DIGEST = `sha256:${HEX}` as const;

describe("lookaside paths", () => {
  it("Should lay out a signature as containers/image reads it", () => {
    expect(lookasidePath({ repository: "demo/hello", digest: DIGEST, index: 1 })).toBe(`signatures/demo/hello@sha256=${HEX}/signature-1`);
    expect(lookasideName({ repository: "library/busybox", digest: DIGEST, index: 12 })).toBe(`library/busybox@sha256=${HEX}/signature-12`);
  });

  it("Should read back what it lays out", () => {
    const entry = { repository: "a/b.c/d-e", digest: DIGEST, index: 3 };
    expect(parseLookasideName(lookasideName(entry))).toEqual(entry);
  });

  it("Should accept sha512 digests with their own length", () => {
    expect(parseLookasideName(`x@sha512=${"0".repeat(128)}/signature-1`)).toEqual({ repository: "x", digest: `sha512:${"0".repeat(128)}`, index: 1 });
    expect(parseLookasideName(`x@sha512=${"0".repeat(64)}/signature-1`)).toBeNull();
  });

  it.each([
    ["no number", `demo/hello@sha256=${HEX}/signature-`],
    ["number 0", `demo/hello@sha256=${HEX}/signature-0`],
    ["a leading zero", `demo/hello@sha256=${HEX}/signature-01`],
    ["too high a number", `demo/hello@sha256=${HEX}/signature-${MAX_LOOKASIDE_SIGNATURES + 1}`],
    ["another file name", `demo/hello@sha256=${HEX}/sig-1`],
    ["a colon for the equals sign", `demo/hello@sha256:${HEX}/signature-1`],
    ["an unknown algorithm", `demo/hello@md5=${HEX}/signature-1`],
    ["a short digest", `demo/hello@sha256=${HEX.slice(2)}/signature-1`],
    ["upper-case hex", `demo/hello@sha256=${HEX.toUpperCase()}/signature-1`],
    ["an invalid repository", `Demo/../hello@sha256=${HEX}/signature-1`],
    ["dot segments", `../../etc@sha256=${HEX}/signature-1`],
    ["no digest", `demo/hello/signature-1`],
    ["an extra folder", `demo/hello@sha256=${HEX}/x/signature-1`],
  ])("Should refuse a name with %s", (_, name) => {
    expect(parseLookasideName(name)).toBeNull();
  });
});

describe("sigstore attachment tags", () => {
  it("Should name the attachment of a digest `<alg>-<hex>.sig`", () => {
    expect(attachmentTag(DIGEST)).toBe(`sha256-${HEX}.sig`);
    expect(attachedDigest(`sha256-${HEX}.sig`)).toBe(DIGEST);
  });

  it.each(["latest", `sha256-${HEX}.att`, `sha256-${HEX.slice(1)}.sig`, `md5-${HEX}.sig`])("Should not take %s for an attachment tag", (tag) => {
    expect(attachedDigest(tag)).toBeNull();
  });
});
