import { describe, expect, it } from "vitest";
import { computeDigest } from "../../../src/oci/reference";
import { prefersMetalink, renderMetalink } from "../../../src/render/metalink";
import { blobRedirect, duplicateLinks, instanceDigest, MAX_DUPLICATE_LINKS } from "../../../src/render/redirect";
import { escapeXml, xmlDocument, type XmlElement } from "../../../src/render/xml";
import { parseMetalink } from "./fixtures";

const digest = `sha256:${"ab".repeat(32)}` as const;

describe("escapeXml", () => {
  it("Should escape the five XML special characters", () => {
    expect(escapeXml(`&<>"'`)).toBe("&amp;&lt;&gt;&quot;&apos;");
  });

  it("Should write tabs and line breaks as character references", () => {
    expect(escapeXml("a\tb\nc\rd")).toBe("a&#9;b&#10;c&#13;d");
  });

  it("Should refuse characters XML 1.0 cannot hold", () => {
    expect(() => escapeXml("bell\u0007")).toThrow();
  });
});

describe("xmlDocument", () => {
  it("Should refuse an element name that is not an XML name", () => {
    expect(() => xmlDocument({ name: "a><script" })).toThrow();
  });

  it("Should refuse an attribute name that is not an XML name", () => {
    expect(() => xmlDocument({ name: "a", attributes: [['x="1"', "y"]] })).toThrow();
  });

  it("Should refuse a bad name on every document, not only the first", () => {
    for (let i = 0; i < 3; i++) expect(() => xmlDocument({ name: "ok", children: [{ name: "bad name" }] })).toThrow();
    expect(xmlDocument({ name: "ok", children: [{ name: "ok" }] })).toBe('<?xml version="1.0" encoding="UTF-8"?>\n<ok>\n  <ok/>\n</ok>\n');
  });

  it("Should indent nested elements two spaces a level, however deep", () => {
    let element: XmlElement = { name: "leaf", text: "x" };
    for (let i = 0; i < 6; i++) element = { name: "n", children: [element] };
    const lines = xmlDocument(element).split("\n");
    expect(lines[7]).toBe(`${"  ".repeat(6)}<leaf>x</leaf>`);
    expect(lines[13]).toBe("</n>");
  });
});

describe("renderMetalink", () => {
  it("Should keep a hostile media type inside its element", () => {
    const mediaType = `</fd:mediaType><url priority="0">http://evil.test/</url>`;
    const text = renderMetalink({ digest, size: 1, published: null, updated: null, locations: [{ url: "http://m.test/x", country: "DE" }], mediaType });
    const file = parseMetalink(text).metalink.file[0];
    expect(file?.["fd:mediaType"]).toBe(mediaType);
    expect(file?.url).toHaveLength(1);
  });

  it("Should refuse to describe a file without any url", () => {
    expect(() => renderMetalink({ digest, size: 1, published: null, updated: null, locations: [] })).toThrow();
  });

  it("Should refuse a size that is not a non-negative integer", () => {
    expect(() => renderMetalink({ digest, size: -1, published: null, updated: null, locations: [{ url: "http://m.test/x", country: null }] })).toThrow();
  });

  it("Should leave out a country code that is not two letters", () => {
    const text = renderMetalink({ digest, size: 1, published: null, updated: null, locations: [{ url: "http://m.test/x", country: "D\"E" }] });
    expect(parseMetalink(text).metalink.file[0]?.url[0]).toEqual({ "@_priority": "1", "#text": "http://m.test/x" });
  });

  it("Should normalise publication times to RFC 3339 UTC", () => {
    const text = renderMetalink({ digest, size: 1, published: "2026-11-01T11:00:00+01:00", updated: "not a date", locations: [{ url: "http://m.test/x", country: null }] });
    const document = parseMetalink(text).metalink;
    expect([document.published, document.updated]).toEqual(["2026-11-01T10:00:00.000Z", undefined]);
  });

  it("Should normalise a time the same way on every render", () => {
    const render = () => renderMetalink({ digest, size: 1, published: "2026-11-01T11:00:00+01:00", updated: "2026-02-30T00:00:00Z", locations: [{ url: "http://m.test/x", country: null }] });
    const first = render();
    expect(render()).toBe(first);
    expect([parseMetalink(first).metalink.published, parseMetalink(first).metalink.updated]).toEqual(["2026-11-01T10:00:00.000Z", "2026-03-02T00:00:00.000Z"]);
  });
});

describe("prefersMetalink", () => {
  it("Should be false for an Accept of */* alone", () => {
    expect(prefersMetalink("*/*", "application/octet-stream")).toBe(false);
  });

  it("Should be true when the metalink type is named and the content only reached by */*", () => {
    expect(prefersMetalink("*/*, application/metalink4+xml", "application/octet-stream")).toBe(true);
  });
});

describe("duplicateLinks", () => {
  const locations = Array.from({ length: 15 }, (_, i) => ({ url: `http://m${i}.test/tree/x`, country: i % 2 === 0 ? "DE" : null }));

  it("Should list the locations after the redirect target with pri from 1", () => {
    expect(duplicateLinks(locations.slice(0, 3), 10)).toEqual([
      "<http://m1.test/tree/x>; rel=duplicate; pri=1",
      "<http://m2.test/tree/x>; rel=duplicate; pri=2; geo=de",
    ]);
  });

  it("Should stop at the mirror list cap", () => {
    expect(duplicateLinks(locations, 3)).toHaveLength(3);
  });

  it("Should never exceed MAX_DUPLICATE_LINKS whatever the cap", () => {
    expect(duplicateLinks(locations, 100)).toHaveLength(MAX_DUPLICATE_LINKS);
  });

  it("Should percent-encode characters that could end the URL reference", () => {
    const [link] = duplicateLinks([locations[0]!, { url: "http://m.test/a b<c>d\"e", country: null }], 10);
    expect(link).toBe("<http://m.test/a%20b%3Cc%3Ed%22e>; rel=duplicate; pri=1");
  });

  it("Should skip a location that is not an http(s) URL", () => {
    expect(duplicateLinks([locations[0]!, { url: "javascript:alert(1)", country: null }, locations[1]!], 10)).toEqual([
      "<http://m1.test/tree/x>; rel=duplicate; pri=1",
    ]);
  });
});

describe("blobRedirect", () => {
  const [one, two, three] = [1, 2, 3].map((i) => ({ url: `http://m${i}.test/tree/x`, country: null }));

  it("Should send the client to the best location and list the others as duplicates, then the digest", () => {
    expect(blobRedirect([one!, two!, three!], digest, 10)).toEqual({
      location: one!.url,
      headers: {
        "Cache-Control": "private, no-store",
        Link: `<${two!.url}>; rel=duplicate; pri=1, <${three!.url}>; rel=duplicate; pri=2`,
        Digest: instanceDigest(digest),
      },
    });
  });

  it("Should send the client to the target it is given, with every other location as a duplicate in rank order", () => {
    const redirect = blobRedirect([one!, two!, three!], digest, 10, 1);
    expect(redirect.location).toBe(two!.url);
    expect(redirect.headers.Link).toBe(`<${one!.url}>; rel=duplicate; pri=1, <${three!.url}>; rel=duplicate; pri=2`);
  });

  it("Should carry no Link header when there is no other location", () => {
    expect(blobRedirect([one!], digest, 10).headers).toEqual({ "Cache-Control": "private, no-store", Digest: instanceDigest(digest) });
  });
});

describe("instanceDigest", () => {
  it("Should give SHA-256 as base64 of the raw hash", async () => {
    const bytes = new TextEncoder().encode("hello");
    const raw = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    expect(instanceDigest(await computeDigest(bytes))).toBe(`SHA-256=${btoa(String.fromCharCode(...raw))}`);
  });

  it("Should give SHA-512 for a sha512 digest", async () => {
    const bytes = new TextEncoder().encode("hello");
    const raw = new Uint8Array(await crypto.subtle.digest("SHA-512", bytes));
    expect(instanceDigest(await computeDigest(bytes, "sha512"))).toBe(`SHA-512=${btoa(String.fromCharCode(...raw))}`);
  });
});
