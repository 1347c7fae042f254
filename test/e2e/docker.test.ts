import { mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { docker, startContainerd, startDockerd, type ContainerdDaemon, type DockerDaemon } from "../../scripts/lib/process/daemons";
import { expectBlobsServedByStaticServers, staticServerBytes, tamperEverywhere, useE2eStack } from "./support";

const context = useE2eStack();
let containerd: ContainerdDaemon | undefined;
let dockerd: DockerDaemon | undefined;
let dockerDir: string;

beforeAll(async () => {
  containerd = await startContainerd(await mkdtemp(join(context().scratch, "containerd-")));
  dockerDir = await mkdtemp(join(context().scratch, "docker-"));
  dockerd = await startDockerd(dockerDir, containerd.socket);
});

afterAll(async () => {
  await dockerd?.stop();
  await containerd?.stop();
});

/** Every test starts without the image, so no layer is reused from an earlier one. */
beforeEach(async () => {
  await docker(dockerd!.host, dockerDir, ["image", "rm", "--force", context().image]);
});

function pull(): ReturnType<typeof docker> {
  return docker(dockerd!.host, dockerDir, ["pull", context().image]);
}

describe("docker (dockerd on containerd)", () => {
  it("Should pull the demo image", async () => {
    const result = await pull();
    expect(result.code, result.stderr).toBe(0);
  });

  it("Should record the published index digest as the image's repo digest", async () => {
    const result = await pull();
    expect(result.code, result.stderr).toBe(0);
    const inspect = await docker(dockerd!.host, dockerDir, ["image", "inspect", context().image]);
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
