import { describe, expect, it } from "vitest";
import { encodePayload, parsePayload } from "../../../scripts/lib/signing/payload";

const DIGEST = `sha256:${"c".repeat(64)}` as const;
const CLAIM = { dockerReference: "registry.example.org/demo/hello:latest", manifestDigest: DIGEST };

function json(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

describe("simple-signing payloads", () => {
  it("Should write the cosign form with exactly the critical fields", () => {
    const document = JSON.parse(new TextDecoder().decode(encodePayload("sigstore", CLAIM, { creator: "x", timestamp: 5 })));
    expect(document).toEqual({
      critical: { identity: { "docker-reference": CLAIM.dockerReference }, image: { "docker-manifest-digest": DIGEST }, type: "cosign container image signature" },
      optional: { creator: "x", timestamp: 5 },
    });
  });

  it("Should write the GPG form with its own type", () => {
    expect(JSON.parse(new TextDecoder().decode(encodePayload("gpg", CLAIM))).critical.type).toBe("atomic container signature");
  });

  it("Should read back what it writes, in each form", () => {
    expect(parsePayload(encodePayload("sigstore", CLAIM), "sigstore")).toEqual(CLAIM);
    expect(parsePayload(encodePayload("gpg", CLAIM), "gpg")).toEqual(CLAIM);
  });

  it("Should accept the null optional that cosign writes", () => {
    const payload = json({ critical: { identity: { "docker-reference": "a/b" }, image: { "docker-manifest-digest": DIGEST }, type: "cosign container image signature" }, optional: null });
    expect(parsePayload(payload, "sigstore").dockerReference).toBe("a/b");
  });

  it("Should refuse a payload of the other form", () => {
    expect(() => parsePayload(encodePayload("gpg", CLAIM), "sigstore")).toThrow(/critical.type/);
  });

  it.each([
    ["an unknown critical field", { critical: { identity: { "docker-reference": "a" }, image: { "docker-manifest-digest": DIGEST }, type: "cosign container image signature", extra: 1 }, optional: {} }],
    ["no optional", { critical: { identity: { "docker-reference": "a" }, image: { "docker-manifest-digest": DIGEST }, type: "cosign container image signature" } }],
    ["an invalid digest", { critical: { identity: { "docker-reference": "a" }, image: { "docker-manifest-digest": "sha256:abc" }, type: "cosign container image signature" }, optional: {} }],
    ["an empty reference", { critical: { identity: { "docker-reference": "" }, image: { "docker-manifest-digest": DIGEST }, type: "cosign container image signature" }, optional: {} }],
    ["an extra image field", { critical: { identity: { "docker-reference": "a" }, image: { "docker-manifest-digest": DIGEST, size: 1 }, type: "cosign container image signature" }, optional: {} }],
    ["a top-level extra", { critical: { identity: { "docker-reference": "a" }, image: { "docker-manifest-digest": DIGEST }, type: "cosign container image signature" }, optional: {}, x: 1 }],
  ])("Should refuse a payload with %s", (_, document) => {
    expect(() => parsePayload(json(document), "sigstore")).toThrow(expect.objectContaining({ code: "PAYLOAD_INVALID" }));
  });

  it("Should refuse bytes that are not UTF-8 JSON", () => {
    expect(() => parsePayload(new Uint8Array([0xff, 0xfe]), "sigstore")).toThrow(/UTF-8 JSON/);
  });
});
