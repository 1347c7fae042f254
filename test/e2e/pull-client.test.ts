import { access, mkdtemp, readdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { skopeo } from "../../scripts/lib/process/daemons";
import type { StackServer } from "../../scripts/lib/stack/local-stack";
import { runCommand, type CommandResult } from "../../scripts/lib/process/processes";
import { parseMetalink } from "../../scripts/lib/pull/metalink";
import { blobPath, DEMO_REPOSITORY, DEMO_TAG, tamperEverywhere, useE2eStack } from "./support";

const context = useE2eStack();

/** Every digest of the demo image: index, platform manifests, configs and layers. */
function imageDigests(): string[] {
  return [...new Set([context().demo.index.digest, ...context().demo.manifests.map((m) => m.digest), ...context().demo.blobs.keys()])];
}

/** The static servers in the order the front door's metalink lists them for the image index. */
async function serversByPriority(): Promise<StackServer[]> {
  const response = await fetch(`${context().stack.url}/v2/${DEMO_REPOSITORY}/manifests/${DEMO_TAG}`, { headers: { Accept: "application/metalink4+xml" } });
  return parseMetalink(await response.text()).urls.map((url) => context().stack.servers().find(({ server }) => url.startsWith(`${server.url}/`))!);
}

/** Runs `npm run pull -- <registry>/<repository>:<tag> <dir>` as a user would. */
async function pull(): Promise<{ result: CommandResult; parent: string; layout: string }> {
  const parent = await mkdtemp(join(context().scratch, "pull-"));
  const layout = join(parent, "image");
  const result = await runCommand("npm", ["run", "--silent", "pull", "--", context().image, layout], { timeoutMs: 120_000 });
  return { result, parent, layout };
}

function servedPaths(server: StackServer): string[] {
  return server.server
    .log()
    .filter((entry) => entry.method === "GET" && entry.status === 200)
    .map((entry) => entry.path)
    .sort();
}

describe("the reference pull client against the local stack", () => {
  it("Should write a layout that skopeo copies for every platform", async () => {
    const { result, layout } = await pull();
    expect(result.code, result.stderr).toBe(0);
    const copied = await skopeo(context().scratch, ["copy", "--all", `oci:${layout}:${DEMO_TAG}`, `dir:${join(layout, "..", "copy")}`]);
    expect(copied.code, copied.stderr).toBe(0);
  });

  it("Should fetch every item of the image from the first-priority mirror when its bytes are good", async () => {
    const [first] = await serversByPriority();
    context().stack.clearLogs();
    const { result } = await pull();
    expect(result.code, result.stderr).toBe(0);
    expect(servedPaths(first!)).toEqual(imageDigests().map(blobPath).sort());
  });

  it("Should move to the second mirror and pin there for all blobs when the first serves a corrupted manifest", async () => {
    const [first, second, ...rest] = await serversByPriority();
    const index = context().demo.index;
    first!.server.tamper(blobPath(index.digest), new Uint8Array(index.size).fill(0x7b));
    context().stack.clearLogs();
    const { result } = await pull();
    expect(result.code, result.stderr).toBe(0);
    // The second may carry one content set only (nl-ams: linux/amd64): what it lacks comes from further down the list.
    const held = new Set(await readdir(join(second!.dir, "blobs", "sha256")));
    const heldBySecond = imageDigests().filter((digest) => held.has(digest.slice("sha256:".length)));
    const lacking = imageDigests().filter((digest) => !heldBySecond.includes(digest));
    expect(servedPaths(second!)).toEqual(heldBySecond.map(blobPath).sort());
    expect([...first!.server.log(), ...rest.flatMap(({ server }) => server.log())].map((entry) => entry.path).sort()).toEqual(
      [blobPath(index.digest), ...lacking.map(blobPath)].sort(),
    );
  });

  it("Should exit non-zero with a clear error when no mirror has a good manifest", async () => {
    await tamperEverywhere(context().stack, context().demo.index.digest);
    const { result } = await pull();
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/error: no location has good bytes for manifest sha256:[a-f0-9]{64}/);
  });

  it("Should leave no layout, complete or partial, when no mirror has a good manifest", async () => {
    await tamperEverywhere(context().stack, context().demo.index.digest);
    const { parent, layout } = await pull();
    expect(await readdir(parent)).toEqual([]);
    await expect(access(layout)).rejects.toThrow();
  });

  it("Should leave no layout when a layer is corrupted on every mirror after the manifests were fetched", async () => {
    await tamperEverywhere(context().stack, context().demo.amd64OwnLayer.digest);
    const { result, parent } = await pull();
    expect([result.code !== 0, await readdir(parent)]).toEqual([true, []]);
  });
});
