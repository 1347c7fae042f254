import { describe, expect, it } from "vitest";
import { companionTags } from "../../../scripts/lib/import/import-images";
import { ImportListError, parseImportList, parseImportSource } from "../../../scripts/lib/import/import-list";

describe("parseImportSource", () => {
  it("Should split registry, repository and tag, the registry's port included", () => {
    expect(parseImportSource("127.0.0.1:5000/demo/hello:latest")).toEqual({
      source: "127.0.0.1:5000/demo/hello:latest",
      registry: "127.0.0.1:5000",
      repository: "demo/hello",
      tag: "latest",
      treeRepository: "demo/hello",
    });
  });

  it("Should name the image in the tree under the repository it is given", () => {
    expect(parseImportSource("docker.io/library/alpine:3.20", "base/alpine")).toMatchObject({ repository: "library/alpine", treeRepository: "base/alpine" });
  });

  it.each([
    ["alpine:3.20", "names no registry"],
    ["library/alpine:3.20", "names no registry"],
    ["docker.io/library/alpine", "has no tag"],
    ["docker.io/library/alpine@sha256:0000000000000000000000000000000000000000000000000000000000000000", "not a digest"],
    ["docker.io/Library/alpine:3.20", "not a valid repository name"],
    ["docker.io/library/alpine:-x", "not a valid tag"],
  ])("Should refuse %s", (input, problem) => {
    expect(() => parseImportSource(input)).toThrow(ImportListError);
    expect(() => parseImportSource(input)).toThrow(problem);
  });

  it("Should refuse a first component that is no host[:port], before any registry is asked", () => {
    for (const registry of ["docker:", ":::", ".", "..", "u:p@127.0.0.1:1", "127.0.0.1:1:2", "127.0.0.1:99999", "127.0.0.1:0", "127.0.0.1:", "\u200b127.0.0.1:1", "-a.example"]) {
      expect(() => parseImportSource(`${registry}/x:y`), registry).toThrow(ImportListError);
    }
    expect(parseImportSource("[::1]:5000/x:y").registry).toBe("[::1]:5000");
    expect(parseImportSource("LOCALHOST:5000/x:y").registry).toBe("LOCALHOST:5000");
  });

  it("Should take localhost as a registry", () => {
    expect(parseImportSource("localhost/demo:1").registry).toBe("localhost");
  });
});

describe("parseImportList", () => {
  it("Should read one image a line, skipping blank lines and comments", () => {
    const sources = parseImportList("# images\n\nquay.io/fedora/fedora:40   # the base\nghcr.io/acme/tool:1.2 acme/tool\n", "images.txt");
    expect(sources.map((source) => `${source.source} ${source.treeRepository}`)).toEqual(["quay.io/fedora/fedora:40 fedora/fedora", "ghcr.io/acme/tool:1.2 acme/tool"]);
  });

  it("Should report every bad line with its number", () => {
    expect(() => parseImportList("quay.io/a:1\nalpine\nquay.io/b:1 x y\nquay.io/a:1\n", "images.txt")).toThrow(
      /^images\.txt:2: [^\n]*names no registry[^\n]*\nimages\.txt:3: [^\n]*got 3 words\nimages\.txt:4: a:1 is already named on line 1$/,
    );
  });

  it("Should refuse a list that names no image", () => {
    expect(() => parseImportList("# nothing yet\n", "images.txt")).toThrow("images.txt: names no image");
  });
});

describe("companionTags", () => {
  it("Should name cosign's signature, attestation and SBOM tags and the referrers tag of a digest", () => {
    const digest = `sha256:${"ab".repeat(32)}` as const;
    expect(companionTags(digest)).toEqual([`sha256-${"ab".repeat(32)}.sig`, `sha256-${"ab".repeat(32)}.att`, `sha256-${"ab".repeat(32)}.sbom`, `sha256-${"ab".repeat(32)}`]);
  });
});
