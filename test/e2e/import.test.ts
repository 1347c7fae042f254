import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LAYOUT_FILES, OCI_LAYOUT_VERSION, REF_NAME_ANNOTATION } from "../../src/oci/layout";
import { MEDIA_TYPES } from "../../src/oci/media-types";
import { MemoryLayout } from "../../src/publish/layout";
import type { Descriptor } from "../../src/oci/descriptor";
import { skopeo } from "../../scripts/lib/process/daemons";
import { writeDemoTree } from "../../scripts/lib/stack/demo-tree";
import { startLocalStack, type LocalStack } from "../../scripts/lib/stack/local-stack";
import { runCli, type CliResult } from "../node/publish/run-cli";
import { startReferenceRegistry, type ReferenceRegistry } from "../../scripts/lib/process/reference-registry";
import { blobPath, DEMO_REPOSITORY, DEMO_TAG, readDemoImage, type DemoImage } from "./support";

let scratch: string;
let registry: ReferenceRegistry;
let demo: DemoImage;
let demoTree: string;
/** The tree the import writes and the stack publishes: the local stack's own, so it publishes this one. */
let tree: string;
let listFile: string;
let firstImport: CliResult;
let stack: LocalStack | undefined;
let signature: { tag: string; bytes: Buffer };
let referrer: { subject: string; descriptor: Descriptor };

const encoder = new TextEncoder();

/** Writes a layout held in memory into `dir`, naming `top` `refName` in its index.json. */
async function writeLayout(layout: MemoryLayout, dir: string, refName: string, top: Descriptor): Promise<void> {
  const entry = { mediaType: top.mediaType, digest: top.digest, size: top.size, annotations: { [REF_NAME_ANNOTATION]: refName } };
  layout.writeFile(LAYOUT_FILES.ociLayout, JSON.stringify(OCI_LAYOUT_VERSION));
  layout.writeFile(LAYOUT_FILES.index, JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [entry] }));
  for (const [path, content] of layout.files()) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
}

/** A signature as cosign stores it: a manifest under the tag `sha256-<hex>.sig` whose layer is the signed payload. */
async function cosignSignature(signed: string): Promise<{ layout: MemoryLayout; manifest: Descriptor; bytes: Uint8Array }> {
  const layout = new MemoryLayout();
  const payload = { critical: { identity: { "docker-reference": DEMO_REPOSITORY }, image: { "docker-manifest-digest": signed }, type: "cosign container image signature" }, optional: null };
  const layer = await layout.addJsonBlob(payload, "application/vnd.dev.cosign.simplesigning.v1+json");
  const config = await layout.addJsonBlob(
    { architecture: "", config: {}, created: "0001-01-01T00:00:00Z", os: "", rootfs: { type: "layers", diff_ids: [layer.digest] } },
    MEDIA_TYPES.ociConfig,
  );
  const document = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config,
    layers: [{ ...layer, annotations: { "dev.cosignproject.cosign/signature": "MEUCIQDtest" } }],
  };
  const bytes = encoder.encode(JSON.stringify(document));
  return { layout, manifest: await layout.addBlob(bytes, MEDIA_TYPES.ociManifest), bytes };
}

/**
 * An SBOM attached to `subject` as a registry without the referrers API keeps it (Distribution Spec
 * v1.1, "Referrers Tag Schema"): an image index under the tag `sha256-<hex>` listing the artifact.
 */
async function referrersTag(subject: Descriptor): Promise<{ layout: MemoryLayout; index: Descriptor; indexBytes: Uint8Array; artifact: Descriptor }> {
  const layout = new MemoryLayout();
  const sbom = await layout.addJsonBlob({ spdxVersion: "SPDX-2.3", name: "demo/hello" }, "application/spdx+json");
  const config = await layout.addJsonBlob({}, MEDIA_TYPES.ociConfig);
  const artifactType = "application/spdx+json";
  const manifest = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, artifactType, config, layers: [sbom], subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size } };
  const artifact = { ...(await layout.addJsonBlob(manifest, MEDIA_TYPES.ociManifest)), artifactType };
  const indexBytes = encoder.encode(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [artifact] }));
  return { layout, index: await layout.addBlob(indexBytes, MEDIA_TYPES.ociIndex), indexBytes, artifact };
}

async function push(layoutDir: string, refName: string, tag: string): Promise<void> {
  const result = await skopeo(scratch, ["copy", "--all", "--preserve-digests", "--dest-tls-verify=false", `oci:${layoutDir}:${refName}`, `docker://${registry.host}/${DEMO_REPOSITORY}:${tag}`]);
  expect(result.code, result.stderr).toBe(0);
}

function blobGets(requests: Array<{ method: string; path: string }>): string[] {
  return requests.filter((request) => request.method === "GET" && /\/blobs\//.test(request.path)).map((request) => request.path);
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "frontdoor-import-"));
  registry = await startReferenceRegistry(join(scratch, "registry"), { accessLog: true });

  demoTree = join(scratch, "demo");
  await writeDemoTree(demoTree);
  demo = await readDemoImage(demoTree);
  await push(demoTree, `${DEMO_REPOSITORY}:${DEMO_TAG}`, DEMO_TAG);

  const signed = await cosignSignature(demo.index.digest);
  signature = { tag: `${demo.index.digest.replace(":", "-")}.sig`, bytes: Buffer.from(signed.bytes) };
  await writeLayout(signed.layout, join(scratch, "signature"), "signature", signed.manifest);
  await push(join(scratch, "signature"), "signature", signature.tag);

  const amd64 = demo.manifests.find((manifest) => manifest.platform?.architecture === "amd64")!;
  const attached = await referrersTag(amd64 as Descriptor);
  referrer = { subject: amd64.digest, descriptor: attached.artifact };
  // skopeo 1.9 rewrites an index whose entries carry artifactType, so the artifact goes by skopeo and its index by a PUT.
  await writeLayout(attached.layout, join(scratch, "referrers"), "sbom", attached.artifact);
  await push(join(scratch, "referrers"), "sbom", "sbom");
  const put = await fetch(`http://${registry.host}/v2/${DEMO_REPOSITORY}/manifests/${amd64.digest.replace(":", "-")}`, {
    method: "PUT",
    headers: { "content-type": MEDIA_TYPES.ociIndex },
    body: attached.indexBytes,
  });
  expect(put.status, await put.text()).toBe(201);

  tree = join(scratch, "state", "tree");
  listFile = join(scratch, "images.txt");
  await writeFile(listFile, `# what the network carries\n${registry.host}/${DEMO_REPOSITORY}:${DEMO_TAG}\n`);
  await registry.clearLog();
  firstImport = await runCli(["import", tree, "--list", listFile, "--insecure"]);
});

afterAll(async () => {
  await stack?.stop();
  await registry?.stop();
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
});

describe("frontdoor import from a reference registry", () => {
  it("Should copy the image with its signature and referrers under <repository>:<tag> ref names", async () => {
    expect(firstImport.code, firstImport.stderr).toBe(0);
    expect(firstImport.stdout).toContain(`[1/1] ${registry.host}/${DEMO_REPOSITORY}:${DEMO_TAG} -> ${DEMO_REPOSITORY}:${DEMO_TAG} (${demo.index.digest}): copied`);
    expect(firstImport.stdout).toContain(`-> ${DEMO_REPOSITORY}:${signature.tag}`);
    const index = JSON.parse(await readFile(join(tree, "index.json"), "utf8")) as { manifests: Array<{ digest: string; annotations: Record<string, string> }> };
    const names = new Map(index.manifests.map((entry) => [entry.annotations[REF_NAME_ANNOTATION], entry.digest]));
    expect([...names.keys()].sort()).toEqual([`${DEMO_REPOSITORY}:${DEMO_TAG}`, `${DEMO_REPOSITORY}:${referrer.subject.replace(":", "-")}`, `${DEMO_REPOSITORY}:${signature.tag}`].sort());
    expect(names.get(`${DEMO_REPOSITORY}:${DEMO_TAG}`)).toBe(demo.index.digest);
  });

  it("Should fetch every blob from the registry once", async () => {
    const gets = blobGets(await registry.requests());
    expect(gets.length).toBeGreaterThan(0);
    expect(new Set(gets).size).toBe(gets.length);
    for (const digest of demo.blobs.keys()) expect(gets, digest).toContain(`/v2/${DEMO_REPOSITORY}/blobs/${digest}`);
  });

  it("Should publish the imported tree and serve it through the front door byte-identical", async () => {
    // The tree holds the registry's own signature of demo/hello:latest: the stack must publish it as it is.
    stack = await startLocalStack({ stateDir: join(scratch, "state"), port: 0, crawlIntervalMs: 0, signDemo: false });
    const pulled = join(scratch, "pulled");
    const copy = await skopeo(scratch, ["copy", "--all", "--src-tls-verify=false", `docker://${stack.registry}/${DEMO_REPOSITORY}:${DEMO_TAG}`, `oci:${pulled}:${DEMO_TAG}`]);
    expect(copy.code, copy.stderr).toBe(0);
    const copied = await readdir(join(pulled, "blobs", "sha256"));
    const expected = new Set([demo.index.digest, ...demo.manifests.map((manifest) => manifest.digest), ...demo.blobs.keys()]);
    expect(copied.map((hex) => `sha256:${hex}`).sort()).toEqual([...expected].sort());
    for (const hex of copied) {
      const path = blobPath(`sha256:${hex}`);
      expect((await readFile(join(pulled, path))).equals(await readFile(join(demoTree, path))), path).toBe(true);
    }

    const signatureManifest = await fetch(`${stack.url}/v2/${DEMO_REPOSITORY}/manifests/${signature.tag}`, { headers: { accept: MEDIA_TYPES.ociManifest } });
    expect(signatureManifest.status).toBe(200);
    expect(Buffer.from(await signatureManifest.arrayBuffer()).equals(signature.bytes)).toBe(true);

    const referrers = await fetch(`${stack.url}/v2/${DEMO_REPOSITORY}/referrers/${referrer.subject}`);
    expect(referrers.status).toBe(200);
    const listed = (await referrers.json()) as { manifests: Descriptor[] };
    expect(listed.manifests.map((entry) => [entry.digest, entry.artifactType])).toEqual([[referrer.descriptor.digest, referrer.descriptor.artifactType]]);
  });

  it("Should fetch no blob again when the same list is imported a second time", async () => {
    await registry.clearLog();
    const second = await runCli(["import", tree, "--list", listFile, "--insecure"]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain(`(${demo.index.digest}): unchanged, nothing fetched`);
    expect(second.stdout).toContain("0 new blobs (0 B)");
    const requests = await registry.requests();
    expect(requests.some((request) => request.path.includes("/manifests/"))).toBe(true);
    expect(blobGets(requests)).toEqual([]);
  });
});
