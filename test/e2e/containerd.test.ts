import { describe, expect, it } from "vitest";
import { ctr } from "../../scripts/lib/process/daemons";
import { ctrPull, expectBlobsServedByStaticServers, staticServerBytes, tamperEverywhere, useContainerd, useE2eStack } from "./support";

const context = useE2eStack();
const containerd = useContainerd(context);
let namespaces = 0;

/** Pulls in a namespace of its own; namespaces do not share content (see `startContainerd`). */
async function pull(): Promise<{ namespace: string; result: Awaited<ReturnType<typeof ctr>> }> {
  const namespace = `pull-${++namespaces}`;
  return { namespace, result: await ctrPull(containerd(), namespace, context().image) };
}

describe("containerd (ctr)", () => {
  it("Should pull the demo image", async () => {
    const { result } = await pull();
    expect(result.code, result.stderr).toBe(0);
  });

  it("Should record the image under the published index digest", async () => {
    const { namespace, result } = await pull();
    expect(result.code, result.stderr).toBe(0);
    const list = await ctr(containerd().socket, namespace, ["image", "ls"]);
    expect(list.code, list.stderr).toBe(0);
    const row = list.stdout.split("\n").find((line) => line.startsWith(context().image));
    expect(row).toContain(context().demo.index.digest);
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
    expect(result.stderr).toMatch(new RegExp(`unexpected commit digest sha256:[0-9a-f]{64}, expected ${context().demo.amd64OwnLayer.digest}`));
    expect(staticServerBytes(context().stack, context().demo.amd64OwnLayer.digest).bytes).toBeGreaterThan(0);
  });
});
