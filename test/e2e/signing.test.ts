import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lookasidePath } from "../../src/signing/lookaside";
import { computeDigest, type Digest } from "../../src/oci/reference";
import { readDemoImage, staticServerBytes, tamperEverywhere } from "./support";
import { attachmentOf, IMAGES, podmanWithPolicy, skopeoWithPolicy, useSigningStack, type SigningContext } from "./signing-support";

const context = useSigningStack();

/** The blob copy of lookaside signature-1 of `digest`, what the front door redirects to. */
async function lookasideBlob(ctx: SigningContext, repository: string, digest: Digest): Promise<Digest> {
  return computeDigest(await readFile(join(ctx.stack.tree, lookasidePath({ repository, digest, index: 1 }))));
}

/** The linux/amd64 manifest of the demo image: what podman and skopeo pull on this machine, and whose signature they check. */
async function amd64Manifest(ctx: SigningContext): Promise<Digest> {
  const demo = await readDemoImage(ctx.stack.tree);
  return demo.manifests.find((manifest) => manifest.platform?.architecture === "amd64")!.digest as Digest;
}

/**
 * A byte inside the packets the signature covers. Not the last byte: that one only ends the
 * compressed packet's deflate stream, and the signature still verifies with it flipped now and then.
 */
const inSignedPackets = (size: number) => size >> 1;

const REFUSALS = /Source image rejected|signature/i;

describe.each([
  ["skopeo", skopeoWithPolicy],
  ["podman", podmanWithPolicy],
] as const)("%s with a policy requiring the GPG signature (signedBy, lookaside at the front door)", (_, pull) => {
  it("Should accept the signed demo image, the signature and the blobs coming from mirrors", async () => {
    const ctx = context();
    const result = await pull(ctx, ctx.files.gpgPolicy, IMAGES.signed);
    expect(result.code, result.stderr).toBe(0);
    const signature = await lookasideBlob(ctx, "demo/hello", await amd64Manifest(ctx));
    expect(staticServerBytes(ctx.stack, signature).bytes).toBeGreaterThan(0);
    const demo = await readDemoImage(ctx.stack.tree);
    for (const [digest, size] of demo.amd64Blobs) expect(staticServerBytes(ctx.stack, digest).bytes, digest).toBeGreaterThanOrEqual(size);
  });

  it("Should refuse an unsigned image", async () => {
    const result = await pull(context(), context().files.gpgPolicy, IMAGES.unsigned);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/A signature was required, but no signature exists/);
  });

  it("Should refuse an image signed by another key", async () => {
    const result = await pull(context(), context().files.gpgPolicy, IMAGES.otherKey);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(REFUSALS);
  });

  it("Should refuse a signature whose payload names another digest", async () => {
    const result = await pull(context(), context().files.gpgPolicy, IMAGES.wrongDigest);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/Signature for docker-manifest-digest|does not match/);
  });

  it("Should refuse the image when every server has a tampered signature file", async () => {
    const ctx = context();
    const signature = await lookasideBlob(ctx, "demo/hello", await amd64Manifest(ctx));
    await tamperEverywhere(ctx.stack, signature, inSignedPackets);
    const result = await pull(ctx, ctx.files.gpgPolicy, IMAGES.signed);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(REFUSALS);
  });
});

describe("skopeo with a policy requiring the sigstore signature (sigstoreSigned, attachments)", () => {
  /**
   * Debian's skopeo and podman are built with sigstore support cut out
   * ("Debian-local change: sigstore disabled"): they fetch the attachment and
   * its payloads, then reject every sigstoreSigned requirement. Upstream
   * builds accept the signed image; both are told apart here.
   */
  const DEBIAN_REFUSAL = "Debian-local change: sigstore disabled";

  it("Should read the attachment through the front door and its payload from a mirror, then verify it", async () => {
    const ctx = context();
    const amd64 = await amd64Manifest(ctx);
    const { payloads } = await attachmentOf(ctx.stack.tree, "demo/hello", amd64);
    const result = await skopeoWithPolicy(ctx, ctx.files.sigstorePolicy, IMAGES.signed);
    expect(staticServerBytes(ctx.stack, payloads[0]!).bytes).toBeGreaterThan(0);
    if (result.code !== 0) expect(result.stderr).toContain(DEBIAN_REFUSAL);
  });

  it("Should refuse an unsigned image, finding no attachment", async () => {
    const result = await skopeoWithPolicy(context(), context().files.sigstorePolicy, IMAGES.unsigned);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/A signature was required, but no signature exists/);
  });

  it.each([IMAGES.otherKey, IMAGES.wrongDigest])("Should refuse %s", async (ref) => {
    const result = await skopeoWithPolicy(context(), context().files.sigstorePolicy, ref);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(REFUSALS);
  });
});

describe("the sigstore attachment as registry content", () => {
  it("Should be listed in the tags and among the signed manifest's referrers", async () => {
    const ctx = context();
    const digest = ctx.digests.get(IMAGES.signed)!;
    const { manifest } = await attachmentOf(ctx.stack.tree, "demo/hello", digest);
    const tags = (await (await fetch(`${ctx.stack.url}/v2/demo/hello/tags/list`)).json()) as { tags: string[] };
    expect(tags.tags).toContain(`sha256-${digest.slice(7)}.sig`);
    const referrers = (await (await fetch(`${ctx.stack.url}/v2/demo/hello/referrers/${digest}`)).json()) as { manifests: Array<{ digest: string }> };
    expect(referrers.manifests.map((entry) => entry.digest)).toEqual([manifest]);
  });
});

describe("GET /signing-key.pub", () => {
  it("Should serve the demo public key", async () => {
    const ctx = context();
    const response = await fetch(`${ctx.stack.url}/signing-key.pub`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(await readFile(ctx.stack.signing.publicKey, "utf8"));
  });
});
