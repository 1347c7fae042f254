import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { skopeo } from "../../scripts/lib/process/daemons";
import { blobPath, expectBlobsServedByStaticServers, skopeoCopy, staticServerBytes, tamperEverywhere, useE2eStack } from "./support";

const context = useE2eStack();

async function copyAll(): Promise<{ dir: string; result: Awaited<ReturnType<typeof skopeo>> }> {
  const dir = await mkdtemp(join(context().scratch, "skopeo-"));
  return { dir: join(dir, "image"), result: await skopeoCopy(dir, context().image, { all: true }) };
}

describe("skopeo", () => {
  it("Should copy every platform of the demo image into an OCI layout", async () => {
    const { result } = await copyAll();
    expect(result.code, result.stderr).toBe(0);
  });

  it("Should copy manifests and blobs byte-identical to the published tree", async () => {
    const { dir, result } = await copyAll();
    expect(result.code, result.stderr).toBe(0);
    const copied = await readdir(join(dir, "blobs", "sha256"));
    const expected = [context().demo.index.digest, ...context().demo.manifests.map((manifest) => manifest.digest), ...context().demo.blobs.keys()];
    expect(copied.sort()).toEqual([...new Set(expected.map((digest) => digest.slice("sha256:".length)))].sort());
    for (const hex of copied) {
      const path = blobPath(`sha256:${hex}`);
      expect((await readFile(join(dir, path))).equals(await readFile(join(context().stack.tree, path))), path).toBe(true);
    }
  });

  it("Should name the published image index in the copy's index.json", async () => {
    const { dir, result } = await copyAll();
    expect(result.code, result.stderr).toBe(0);
    const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as { manifests: Array<{ digest: string }> };
    expect(index.manifests.map((manifest) => manifest.digest)).toEqual([context().demo.index.digest]);
  });

  it("Should take every blob byte from the origin or a mirror, the front door only redirecting", async () => {
    const { result } = await copyAll();
    expect(result.code, result.stderr).toBe(0);
    expectBlobsServedByStaticServers(context().stack, context().demo.blobs);
  });

  it("Should inspect the image, tags included", async () => {
    const result = await skopeo(context().scratch, ["inspect", "--tls-verify=false", `docker://${context().image}`]);
    expect(result.code, result.stderr).toBe(0);
    const inspected = JSON.parse(result.stdout) as { Name: string; RepoTags: string[]; Architecture: string; Os: string };
    expect(inspected).toMatchObject({ Name: `${context().stack.registry}/demo/hello`, Architecture: "amd64", Os: "linux" });
    // The demo image is signed: its sigstore attachments are tags too, one per signed manifest.
    expect(inspected.RepoTags.filter((tag) => !/^sha256-[a-f0-9]{64}\.sig$/.test(tag))).toEqual(["latest"]);
    expect(inspected.RepoTags).toHaveLength(1 + 1 + context().demo.manifests.length);
  });

  it("Should fail with a digest error when the mirror serves a tampered blob", async () => {
    await tamperEverywhere(context().stack, context().demo.amd64OwnLayer.digest);
    const { result } = await copyAll();
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`Digest did not match, expected ${context().demo.amd64OwnLayer.digest}`);
    expect(staticServerBytes(context().stack, context().demo.amd64OwnLayer.digest).bytes).toBeGreaterThan(0);
  });
});
