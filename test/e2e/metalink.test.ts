import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseMetalink } from "../../scripts/lib/pull/metalink";
import { runCommand, type CommandResult } from "../../scripts/lib/process/processes";
import type { StackServer } from "../../scripts/lib/stack/local-stack";
import { blobPath, DEMO_REPOSITORY, frontDoorBlobRequests, useE2eStack } from "./support";

/** aria2c's exit status for a checksum mismatch (aria2c(1), "EXIT STATUS"). */
const ARIA2_CHECKSUM_ERROR = 32;

const context = useE2eStack();
let layer: { digest: string; size: number };

beforeAll(() => {
  layer = context().demo.amd64OwnLayer;
});

const blobUrl = () => `${context().stack.url}/v2/${DEMO_REPOSITORY}/blobs/${layer.digest}`;

/** The static servers in the order the front door's metalink lists them for the layer. */
async function serversByPriority(): Promise<StackServer[]> {
  const response = await fetch(blobUrl(), { headers: { Accept: "application/metalink4+xml" } });
  const { urls } = parseMetalink(await response.text());
  return urls.map((url) => {
    const server = context().stack.servers().find(({ server }) => url.startsWith(`${server.url}/`));
    if (server === undefined) throw new Error(`no local server serves ${url}`);
    return server;
  });
}

/** Runs aria2c in a fresh directory; `plainRedirect` replaces its metalink-advertising Accept with `*\/*`. */
async function aria2c(options: { plainRedirect?: boolean } = {}): Promise<{ result: CommandResult; dir: string }> {
  const dir = await mkdtemp(join(context().scratch, "aria2c-"));
  const args = ["--follow-metalink=mem", "--max-tries=1", "--retry-wait=0", "--console-log-level=notice", "--summary-interval=0", "-d", dir];
  if (options.plainRedirect) args.push("--header=Accept: */*");
  const result = await runCommand("aria2c", [...args, blobUrl()], { timeoutMs: 120_000 });
  return { result, dir };
}

async function sha256Of(path: string): Promise<string> {
  return `sha256:${createHash("sha256").update(await readFile(path)).digest("hex")}`;
}

function corrupted(size: number): Uint8Array {
  return new Uint8Array(size).fill(0xa5);
}

/** GETs of the layer that a server answered with bytes. */
function servedLayer(server: StackServer): number {
  return server.server.log().filter((entry) => entry.method === "GET" && entry.path === blobPath(layer.digest) && (entry.status === 200 || entry.status === 206)).length;
}

/**
 * The statuses a server answered GETs of the layer with, each with when the answer finished, oldest first.
 * The access logs of all servers share one clock, so times order requests across servers.
 */
function layerGets(server: StackServer): Array<{ status: number; time: string }> {
  return server.server
    .log()
    .filter((entry) => entry.method === "GET" && entry.path === blobPath(layer.digest))
    .map(({ status, time }) => ({ status, time }));
}

/** Checks that `first` answered the layer with a 404 and only then `second` sent it (200 or 206). */
function expectFailover(first: StackServer, second: StackServer): void {
  const notFound = layerGets(first).find((entry) => entry.status === 404);
  const served = layerGets(second).filter((entry) => entry.status === 200 || entry.status === 206);
  expect(layerGets(first).map((entry) => entry.status)).toEqual([404]);
  expect(served.length).toBeGreaterThan(0);
  expect(served.every((entry) => notFound !== undefined && entry.time >= notFound.time)).toBe(true);
}

describe("aria2c through the front door's metalink", () => {
  it("Should be answered with a metalink, not a redirect, for aria2c's own Accept", async () => {
    await aria2c();
    const requests = frontDoorBlobRequests(context().stack).filter((request) => request.path.endsWith(layer.digest));
    expect(requests.map((request) => request.status)).toEqual([200]);
  });

  it("Should download the blob and find its sha-256 correct", async () => {
    const { result, dir } = await aria2c();
    expect(result.code, result.stdout).toBe(0);
    expect(await sha256Of(join(dir, layer.digest))).toBe(layer.digest);
  });

  it("Should take the bytes from the first-priority mirror", async () => {
    const [first] = await serversByPriority();
    context().stack.clearLogs();
    await aria2c();
    expect(servedLayer(first!)).toBeGreaterThan(0);
  });

  it("Should finish from the next mirror when the first-priority mirror answers 404", async () => {
    const [first] = await serversByPriority();
    first!.server.hide(blobPath(layer.digest));
    const { result, dir } = await aria2c();
    expect([result.code, await sha256Of(join(dir, layer.digest))]).toEqual([0, layer.digest]);
  });

  it("Should ask the first-priority mirror, get its 404, and only then take the bytes from the next", async () => {
    const [first, second] = await serversByPriority();
    first!.server.hide(blobPath(layer.digest));
    context().stack.clearLogs();
    await aria2c();
    expectFailover(first!, second!);
  });

  it("Should fail with a checksum error, not complete, when the first-priority mirror serves corrupted bytes", async () => {
    const [first] = await serversByPriority();
    first!.server.tamper(blobPath(layer.digest), corrupted(layer.size));
    const { result, dir } = await aria2c();
    expect(result.code, result.stdout).toBe(ARIA2_CHECKSUM_ERROR);
    expect(result.stdout).toMatch(/Checksum error detected/);
    // aria2c leaves the bytes with its control file, which marks the download unfinished.
    expect((await readdir(dir)).sort()).toEqual([layer.digest, `${layer.digest}.aria2`]);
  });
});

describe("aria2c through the RFC 6249 headers of a plain redirect", () => {
  it("Should be redirected, not given a metalink, when it does not ask for one", async () => {
    await aria2c({ plainRedirect: true });
    const requests = frontDoorBlobRequests(context().stack).filter((request) => request.path.endsWith(layer.digest));
    expect(requests.map((request) => request.status)).toEqual([307]);
  });

  it("Should download the blob and check it against the Digest header", async () => {
    const { result, dir } = await aria2c({ plainRedirect: true });
    expect([result.code, await sha256Of(join(dir, layer.digest.slice("sha256:".length)))]).toEqual([0, layer.digest]);
  });

  it("Should finish from the first Link rel=duplicate when the redirect target answers 404", async () => {
    const [first] = await serversByPriority();
    first!.server.hide(blobPath(layer.digest));
    const { result, dir } = await aria2c({ plainRedirect: true });
    expect([result.code, await sha256Of(join(dir, layer.digest.slice("sha256:".length)))]).toEqual([0, layer.digest]);
  });

  it("Should follow the redirect to the first-priority mirror, get its 404, and only then take the bytes from the next", async () => {
    const [first, second] = await serversByPriority();
    first!.server.hide(blobPath(layer.digest));
    context().stack.clearLogs();
    await aria2c({ plainRedirect: true });
    const redirects = frontDoorBlobRequests(context().stack).filter((request) => request.path.endsWith(layer.digest));
    expect(redirects.map((request) => [request.status, request.mirror])).toEqual([[307, first!.id]]);
    expectFailover(first!, second!);
  });

  it("Should fail with a checksum error when the redirect target serves corrupted bytes", async () => {
    const [first] = await serversByPriority();
    first!.server.tamper(blobPath(layer.digest), corrupted(layer.size));
    const { result } = await aria2c({ plainRedirect: true });
    expect([result.code, /Checksum error detected/.test(result.stdout)]).toEqual([ARIA2_CHECKSUM_ERROR, true]);
  });
});
