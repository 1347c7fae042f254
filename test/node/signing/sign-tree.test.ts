import { mkdtemp, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { blobPath, LAYOUT_FILES } from "../../../src/oci/layout";
import { computeDigest } from "../../../src/oci/reference";
import { planPublication } from "../../../src/publish/plan";
import { lookasidePath } from "../../../src/signing/lookaside";
import { keys } from "../../../src/store/keys";
import { FsLayout } from "../../../scripts/lib/publish/fs-layout";
import { decryptPrivateKey, generateKeyPair, readPublicKey } from "../../../scripts/lib/signing/cosign-key";
import { gpgExportPublicKey, gpgGenerateKey, gpgVerify } from "../../../scripts/lib/signing/gpg";
import { parsePayload } from "../../../scripts/lib/signing/payload";
import { adoptLookasideFiles, attachmentLayers, imageRefs, lookasideFiles, signedDigests, signTree } from "../../../scripts/lib/signing/sign-tree";
import { verifyPayload } from "../../../scripts/lib/signing/sigstore-signature";
import { writeDemoTree } from "../../../scripts/lib/stack/demo-tree";

let scratch: string;
let gnupg: string;
let fingerprint: string;
let otherFingerprint: string;
let tree: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "fd-sign-"));
  gnupg = join(scratch, "g");
  fingerprint = await gpgGenerateKey(gnupg, "Demo signer <demo@frontdoor.invalid>");
  otherFingerprint = await gpgGenerateKey(join(scratch, "o"), "Other <other@frontdoor.invalid>");
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

beforeEach(async () => {
  tree = await mkdtemp(join(scratch, "tree-"));
  await writeDemoTree(tree);
});

async function sigstoreKey() {
  const pair = await generateKeyPair("", { N: 1024, r: 8, p: 1 });
  return { pair, key: await decryptPrivateKey(pair.privateKey, "") };
}

describe("signTree", () => {
  it("Should sign the index and each platform's manifest in both forms, naming the ref at the registry", async () => {
    const { pair, key } = await sigstoreKey();
    const [ref] = await imageRefs(tree);
    const signed = await signTree(tree, { registry: "registry.example.org", sigstoreKey: key, gpg: { keyId: fingerprint, homedir: gnupg } });
    expect(signed).toEqual([{ ...ref, added: ["sigstore", "gpg"] }]);
    const digests = await signedDigests(tree, ref!.digest);
    expect(digests).toHaveLength(3);
    const publicKey = readPublicKey(pair.publicKey);
    const gpgKey = new TextEncoder().encode(await gpgExportPublicKey({ homedir: gnupg }, fingerprint));
    for (const digest of digests) {
      const [layer, ...more] = await attachmentLayers(tree, "demo/hello", digest);
      expect(more).toHaveLength(0);
      expect(verifyPayload(publicKey, layer!.payload, layer!.signature)).toBe(true);
      expect(parsePayload(layer!.payload, "sigstore")).toEqual({ dockerReference: "registry.example.org/demo/hello:latest", manifestDigest: digest });
      const [file] = await lookasideFiles(tree, "demo/hello", digest);
      const verified = await gpgVerify(file!, gpgKey);
      expect(verified.fingerprint).toBe(fingerprint);
      expect(parsePayload(verified.payload, "gpg").manifestDigest).toBe(digest);
    }
    expect(await readFile(join(tree, LAYOUT_FILES.signingKey), "utf8")).toBe(pair.publicKey);
  });

  it("Should add nothing when the same keys sign again, and keep another key's signatures beside its own", async () => {
    const first = await sigstoreKey();
    const second = await sigstoreKey();
    await signTree(tree, { registry: "r.test", sigstoreKey: first.key, gpg: { keyId: fingerprint, homedir: gnupg } });
    const again = await signTree(tree, { registry: "r.test", sigstoreKey: first.key, gpg: { keyId: fingerprint, homedir: gnupg } });
    expect(again[0]!.added).toEqual([]);
    await signTree(tree, { registry: "r.test", sigstoreKey: second.key, gpg: { keyId: otherFingerprint, homedir: join(scratch, "o") } });
    const [ref] = await imageRefs(tree);
    expect(await attachmentLayers(tree, "demo/hello", ref!.digest)).toHaveLength(2);
    expect(await lookasideFiles(tree, "demo/hello", ref!.digest)).toHaveLength(2);
  });

  it("Should leave attachment tags out of the refs it signs", async () => {
    const { key } = await sigstoreKey();
    await signTree(tree, { registry: "r.test", sigstoreKey: key });
    expect((await imageRefs(tree)).map((ref) => ref.tag)).toEqual(["latest"]);
  });

  it("Should publish the signatures: attachments as tags, lookaside files as signature records", async () => {
    const { key } = await sigstoreKey();
    await signTree(tree, { registry: "r.test", sigstoreKey: key, gpg: { keyId: fingerprint, homedir: gnupg } });
    const [ref] = await imageRefs(tree);
    const plan = await planPublication(new FsLayout(tree), { generation: 1, published: "2026-12-01T00:00:00Z", currentKeys: [] });
    const written = new Set([...plan.content, ...plan.pointers].map((write) => write.key));
    const sigTag = `sha256-${ref!.digest.slice(7)}.sig`;
    expect(written).toContain(keys.tag("demo/hello", sigTag));
    for (const digest of await signedDigests(tree, ref!.digest)) expect(written).toContain(keys.signature("demo/hello", digest, 1));
    expect(written).toContain(keys.signingKey());
    const referrers = plan.content.find((write) => write.key === keys.referrers("demo/hello", ref!.digest));
    expect(JSON.parse(String(referrers?.value))).toEqual([expect.objectContaining({ mediaType: "application/vnd.oci.image.manifest.v1+json" })]);
  });
});

describe("gpgVerify", () => {
  it("Should refuse a signature made by a key it was not given", async () => {
    const { key } = await sigstoreKey();
    await signTree(tree, { registry: "r.test", sigstoreKey: key, gpg: { keyId: otherFingerprint, homedir: join(scratch, "o") } });
    const [ref] = await imageRefs(tree);
    const [file] = await lookasideFiles(tree, "demo/hello", ref!.digest);
    const demoKey = new TextEncoder().encode(await gpgExportPublicKey({ homedir: gnupg }, fingerprint));
    await expect(gpgVerify(file!, demoKey)).rejects.toMatchObject({ code: "SIGNATURE_INVALID" });
  });
});

describe("adoptLookasideFiles", () => {
  it("Should give a lookaside file written by another tool its blob copy, once", async () => {
    const [ref] = await imageRefs(tree);
    const path = lookasidePath({ repository: "demo/hello", digest: ref!.digest, index: 1 });
    const bytes = new TextEncoder().encode("signature written elsewhere");
    await mkdir(join(tree, path, ".."), { recursive: true });
    await writeFile(join(tree, path), bytes);
    await writeFile(join(tree, "signatures", "README"), "not a signature");
    expect(await adoptLookasideFiles(tree)).toBe(1);
    expect(await readFile(join(tree, blobPath(await computeDigest(bytes))))).toEqual(Buffer.from(bytes));
    expect(await adoptLookasideFiles(tree)).toBe(0);
  });
});
