import { mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { podman } from "../../scripts/lib/process/daemons";
import { expectBlobsServedByStaticServers, podmanPull, staticServerBytes, tamperEverywhere, useE2eStack } from "./support";

const context = useE2eStack();

/** Pulls into fresh podman storage, so nothing is reused from an earlier test. */
async function pull(): Promise<{ dir: string; result: Awaited<ReturnType<typeof podman>> }> {
  const dir = await mkdtemp(join(context().scratch, "podman-"));
  return { dir, result: await podmanPull(dir, context().image) };
}

describe("podman", () => {
  it("Should pull the demo image", async () => {
    const { result } = await pull();
    expect(result.code, result.stderr).toBe(0);
  });

  it("Should store the image as its linux/amd64 manifest", async () => {
    const { dir, result } = await pull();
    expect(result.code, result.stderr).toBe(0);
    const inspect = await podman(dir, ["image", "inspect", context().image]);
    expect(inspect.code, inspect.stderr).toBe(0);
    const [image] = JSON.parse(inspect.stdout) as Array<{ Digest: string; Architecture: string; RepoDigests: string[] }>;
    const amd64 = context().demo.manifests.find((manifest) => manifest.platform?.architecture === "amd64")!;
    expect(image?.Architecture).toBe("amd64");
    expect(image?.RepoDigests).toContain(`${context().stack.registry}/demo/hello@${amd64.digest}`);
  });

  it("Should take every blob byte from the origin or a mirror, the front door only redirecting", async () => {
    const { result } = await pull();
    expect(result.code, result.stderr).toBe(0);
    expectBlobsServedByStaticServers(context().stack, context().demo.amd64Blobs);
  });

  it("Should fail with a digest error when the mirror serves a tampered blob", async () => {
    await tamperEverywhere(context().stack, context().demo.amd64OwnLayer.digest);
    const { result } = await pull();
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`Digest did not match, expected ${context().demo.amd64OwnLayer.digest}`);
    expect(staticServerBytes(context().stack, context().demo.amd64OwnLayer.digest).bytes).toBeGreaterThan(0);
  });
});
