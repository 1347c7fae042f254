import { describe, expect, it } from "vitest";
import { MetalinkError, parseMetalink } from "../../../scripts/lib/pull/metalink";
import { renderMetalink } from "../../../src/render/metalink";

const digest = `sha256:${"ab".repeat(32)}` as const;
const hex = "ab".repeat(32);

function document(file: string, extraNamespaces = ""): string {
  return `<?xml version="1.0" encoding="UTF-8"?><metalink xmlns="urn:ietf:params:xml:ns:metalink"${extraNamespaces}>${file}</metalink>`;
}

describe("parseMetalink", () => {
  it("Should read back what the front door renders", () => {
    const text = renderMetalink({
      digest,
      size: 42,
      published: null,
      updated: null,
      locations: [
        { url: "http://a.test/t/x?a=1&b=2", country: "DE" },
        { url: "http://b.test/t/x", country: null },
      ],
      mediaType: "application/vnd.oci.image.index.v1+json",
    });
    expect(parseMetalink(text)).toEqual({ digest, size: 42, urls: ["http://a.test/t/x?a=1&b=2", "http://b.test/t/x"], mediaType: "application/vnd.oci.image.index.v1+json" });
  });

  it("Should order URLs by priority, not document order", () => {
    const text = document(`<file name="${digest}"><size>1</size><hash type="sha-256">${hex}</hash><url priority="2">http://two.test/</url><url>http://none.test/</url><url priority="1">http://one.test/</url></file>`);
    expect(parseMetalink(text).urls).toEqual(["http://one.test/", "http://two.test/", "http://none.test/"]);
  });

  it("Should drop URLs that are not http(s)", () => {
    const text = document(`<file name="${digest}"><size>1</size><hash type="sha-256">${hex}</hash><url priority="1">file:///etc/passwd</url><url priority="2">http://ok.test/</url></file>`);
    expect(parseMetalink(text).urls).toEqual(["http://ok.test/"]);
  });

  it("Should refuse a hash that does not match the file's digest name", () => {
    const text = document(`<file name="${digest}"><size>1</size><hash type="sha-256">${"cd".repeat(32)}</hash><url>http://a.test/</url></file>`);
    expect(() => parseMetalink(text)).toThrow(MetalinkError);
  });

  it("Should refuse a file name that is not a digest", () => {
    const text = document(`<file name="../../etc/passwd"><size>1</size><hash type="sha-256">${hex}</hash><url>http://a.test/</url></file>`);
    expect(() => parseMetalink(text)).toThrow(/not a digest/);
  });

  it("Should refuse a document outside the Metalink 4 namespace", () => {
    const text = `<metalink xmlns="http://www.metalinker.org/"><file name="${digest}"><size>1</size><hash type="sha-256">${hex}</hash><url>http://a.test/</url></file></metalink>`;
    expect(() => parseMetalink(text)).toThrow(/namespace/);
  });

  it("Should refuse a media type outside the RFC 6838 grammar", () => {
    const text = document(`<file name="${digest}"><size>1</size><hash type="sha-256">${hex}</hash><url>http://a.test/</url><fd:mediaType>../x</fd:mediaType></file>`, ' xmlns:fd="urn:registry-frontdoor:metalink:1"');
    expect(() => parseMetalink(text)).toThrow(/media type/);
  });

  it("Should refuse a missing size", () => {
    const text = document(`<file name="${digest}"><hash type="sha-256">${hex}</hash><url>http://a.test/</url></file>`);
    expect(() => parseMetalink(text)).toThrow(/size/);
  });
});
