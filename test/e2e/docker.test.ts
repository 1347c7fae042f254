import { beforeEach, describe, expect, it } from "vitest";
import { docker } from "../../scripts/lib/process/daemons";
import { dockerForgetImages, dockerPull, expectBlobsServedByStaticServers, staticServerBytes, tamperEverywhere, useContainerd, useDockerd, useE2eStack } from "./support";

const context = useE2eStack();
const engine = useDockerd(context, useContainerd(context));

/** Every test starts without the image, so no layer is reused from an earlier one. */
beforeEach(async () => {
  await dockerForgetImages(engine());
});

function pull(): ReturnType<typeof docker> {
  return dockerPull(engine(), context().image);
}

describe("docker (dockerd on containerd)", () => {
  it("Should pull the demo image", async () => {
    const result = await pull();
    expect(result.code, result.stderr).toBe(0);
  });

  it("Should record the published index digest as the image's repo digest", async () => {
    const result = await pull();
    expect(result.code, result.stderr).toBe(0);
    const inspect = await docker(engine().daemon.host, engine().dir, ["image", "inspect", context().image]);
    expect(inspect.code, inspect.stderr).toBe(0);
    const [image] = JSON.parse(inspect.stdout) as Array<{ RepoDigests: string[]; Architecture: string }>;
    expect(image?.RepoDigests).toContain(`${context().stack.registry}/demo/hello@${context().demo.index.digest}`);
    expect(image?.Architecture).toBe("amd64");
  });

  it("Should take every blob byte from the origin or a mirror, the front door only redirecting", async () => {
    const result = await pull();
    expect(result.code, result.stderr).toBe(0);
    expectBlobsServedByStaticServers(context().stack, context().demo.amd64Blobs);
  });

  it("Should fail with a digest error when the mirror serves a tampered blob", async () => {
    await tamperEverywhere(context().stack, context().demo.amd64OwnLayer.digest);
    const result = await pull();
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`verification failed for digest ${context().demo.amd64OwnLayer.digest}`);
    expect(staticServerBytes(context().stack, context().demo.amd64OwnLayer.digest).bytes).toBeGreaterThan(0);
  });
});
