import { describe, expect, it } from "vitest";
import { parseImageReference, ImageReferenceError } from "../../../scripts/lib/pull/reference";

const digest = `sha256:${"a".repeat(64)}`;

describe("parseImageReference", () => {
  it("Should read a front door URL with a repository and tag", () => {
    expect(parseImageReference("http://127.0.0.1:8787/demo/hello:v1")).toEqual({
      registry: "http://127.0.0.1:8787",
      repository: "demo/hello",
      reference: "v1",
      tag: "v1",
      digest: null,
    });
  });

  it("Should use plain HTTP for a loopback host:port without a scheme", () => {
    expect(parseImageReference("127.0.0.1:8787/demo/hello:v1").registry).toBe("http://127.0.0.1:8787");
  });

  it("Should use HTTPS for another host without a scheme", () => {
    expect(parseImageReference("registry.example:443/demo/hello:v1").registry).toBe("https://registry.example");
  });

  it("Should default the tag to latest", () => {
    expect(parseImageReference("http://127.0.0.1:1/demo/hello").tag).toBe("latest");
  });

  it("Should read a digest reference", () => {
    expect(parseImageReference(`http://127.0.0.1:1/demo/hello@${digest}`)).toMatchObject({ reference: digest, digest, tag: null });
  });

  it("Should refuse a repository name outside the OCI grammar", () => {
    expect(() => parseImageReference("http://127.0.0.1:1/Demo/../x:v1")).toThrow(ImageReferenceError);
  });

  it("Should refuse an invalid tag", () => {
    expect(() => parseImageReference("http://127.0.0.1:1/demo/hello:-bad")).toThrow(ImageReferenceError);
  });

  it("Should refuse a malformed digest", () => {
    expect(() => parseImageReference("http://127.0.0.1:1/demo/hello@sha256:../../etc")).toThrow(ImageReferenceError);
  });

  it("Should refuse credentials in the reference", () => {
    expect(() => parseImageReference("http://user:secret@127.0.0.1:1/demo/hello:v1")).toThrow(ImageReferenceError);
  });
});
