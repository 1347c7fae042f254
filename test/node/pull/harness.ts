import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach } from "vitest";
import { startMirrorServer, type MirrorServer } from "../../../scripts/lib/stack/mirror-server";
import { blobUrl } from "../../../src/oci/layout";
import { MEDIA_TYPES } from "../../../src/oci/media-types";
import { type Digest } from "../../../src/oci/reference";
import { buildDemoLayout } from "../../../src/publish/demo-image";
import { blobPath } from "../../../src/oci/layout";
import { renderMetalink } from "../../../src/render/metalink";

export const REPOSITORY = "demo/hello";
export const TAG = "latest";

/**
 * A demo image on several static mirrors, behind a stand-in front door that only answers manifest metalinks,
 * and only to a request whose `Accept` names `application/metalink4+xml` (406 otherwise).
 */
export interface PullFixture {
  dir: string;
  frontDoor: string;
  mirrors: MirrorServer[];
  /** Every request the stand-in front door received, oldest first. */
  frontDoorRequests(): Array<{ url: string; accept: string | null; status: number }>;
  /** From now on the stand-in answers a manifest request for any digest with the index's metalink. */
  answerAnyDigest(): void;
  /**
   * Lists, ahead of the mirrors, a server that answers every GET with a 200, its `Content-Length` and one byte,
   * then sends nothing more. Resolves once it listens; `stalled()` resolves when it has sent its first byte.
   */
  stallFirst(): Promise<{ url: string; requests(): number; stalled(): Promise<void> }>;
  indexDigest: Digest;
  indexSize: number;
  /** Every blob of the image (index, manifests, configs, layers). */
  digests: Digest[];
  /** URL path of a blob on a mirror, for `tamper` and `hide`. */
  path(digest: Digest): string;
  stop(): Promise<void>;
}

/** Whether an `Accept` value names `type` outright (not through a wildcard). */
function acceptNames(accept: string | undefined, type: string): boolean {
  return (accept ?? "").split(",").some((range) => range.split(";")[0]?.trim().toLowerCase() === type);
}

/** Starts the server `stallFirst` describes. */
async function startStallingServer(): Promise<{ server: Server; url: string; requests(): number; stalled(): Promise<void> }> {
  let requests = 0;
  let markStalled: () => void = () => {};
  const stalled = new Promise<void>((resolve) => (markStalled = resolve));
  const server = createServer((request, response) => {
    requests++;
    response.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": "1048576" });
    response.write(new Uint8Array([0x7b]), () => markStalled());
  });
  const port = await listen(server);
  return { server, url: `http://127.0.0.1:${port}`, requests: () => requests, stalled: () => stalled };
}

/** Stops accepting, drops open (stalled) connections and waits for the close. */
function close(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  return closed;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startPullFixture(mirrorCount = 3): Promise<PullFixture> {
  const dir = await mkdtemp(join(tmpdir(), "pull-fixture-"));
  const mirrors: MirrorServer[] = [];
  let frontDoor: Server | null = null;
  let staller: Awaited<ReturnType<typeof startStallingServer>> | null = null;
  let anyDigest = false;
  const requests: Array<{ url: string; accept: string | null; status: number }> = [];
  try {
    const tree = join(dir, "tree");
    const layout = await buildDemoLayout({ repository: REPOSITORY, tag: TAG });
    for (const [path, content] of layout.files()) {
      await mkdir(dirname(join(tree, path)), { recursive: true });
      await writeFile(join(tree, path), content);
    }
    const index = JSON.parse(await readFile(join(tree, "index.json"), "utf8")) as { manifests: Array<{ digest: Digest; size: number }> };
    const top = index.manifests[0]!;
    const digests = layout
      .files()
      .map(([path]) => path)
      .filter((path) => path.startsWith("blobs/sha256/"))
      .map((path) => `sha256:${path.slice("blobs/sha256/".length)}` as Digest);
    for (let i = 0; i < mirrorCount; i++) mirrors.push(await startMirrorServer({ root: tree }));
    const answered = new Set([`/v2/${REPOSITORY}/manifests/${TAG}`, `/v2/${REPOSITORY}/manifests/${top.digest}`]);
    const byDigest = new RegExp(`^/v2/${REPOSITORY}/manifests/sha256:[a-f0-9]{64}$`);
    frontDoor = createServer((request, response) => {
      const answer = (status: number, headers: Record<string, string>, body: string) => {
        requests.push({ url: request.url ?? "", accept: request.headers.accept ?? null, status });
        response.writeHead(status, { ...headers, Vary: "Accept" }).end(body);
      };
      if (!answered.has(request.url ?? "") && !(anyDigest && byDigest.test(request.url ?? ""))) {
        answer(404, { "Content-Type": "application/json" }, '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
        return;
      }
      if (!acceptNames(request.headers.accept, MEDIA_TYPES.metalink4)) {
        answer(406, { "Content-Type": "text/plain" }, "this stand-in serves only metalinks\n");
        return;
      }
      const locations = [...(staller === null ? [] : [staller.url]), ...mirrors.map((mirror) => mirror.url)];
      const document = renderMetalink({
        digest: top.digest,
        size: top.size,
        published: "2026-11-01T00:00:00Z",
        updated: "2026-11-01T00:00:00Z",
        locations: locations.map((base) => ({ url: blobUrl(base, top.digest), country: "DE" })),
        mediaType: MEDIA_TYPES.ociIndex,
      });
      answer(200, { "Content-Type": MEDIA_TYPES.metalink4 }, document);
    });
    const port = await listen(frontDoor);
    const server = frontDoor;
    return {
      dir,
      frontDoor: `http://127.0.0.1:${port}`,
      mirrors,
      indexDigest: top.digest,
      indexSize: top.size,
      digests,
      path: (digest) => `/${blobPath(digest)}`,
      frontDoorRequests: () => [...requests],
      answerAnyDigest() {
        anyDigest = true;
      },
      async stallFirst() {
        staller ??= await startStallingServer();
        return { url: staller.url, requests: staller.requests, stalled: staller.stalled };
      },
      async stop() {
        await close(server);
        if (staller !== null) await close(staller.server);
        for (const mirror of mirrors) await mirror.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (frontDoor !== null) await close(frontDoor);
    for (const mirror of mirrors) await mirror.stop();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Paths of blobs a mirror served with 200, in request order. */
export function servedDigests(mirror: MirrorServer): Digest[] {
  return mirror
    .log()
    .filter((entry) => entry.method === "GET" && entry.status === 200)
    .map((entry) => `sha256:${entry.path.split("/").pop()}` as Digest);
}

/**
 * Gives each test of a file a fresh fixture with `mirrorCount` mirrors and an empty output directory named
 * after `outPrefix`, both removed after the test. Returns accessors for the current test's fixture and directory.
 */
export function usePullFixture(mirrorCount: number, outPrefix: string): { fixture(): PullFixture; out(): string } {
  let fixture: PullFixture | undefined;
  let out: string | undefined;
  beforeEach(async () => {
    fixture = await startPullFixture(mirrorCount);
    out = await mkdtemp(join(tmpdir(), outPrefix));
  });
  afterEach(async () => {
    await fixture?.stop();
    if (out !== undefined) await rm(out, { recursive: true, force: true });
    fixture = undefined;
    out = undefined;
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("the pull fixture is not started: use its accessors inside tests only");
    return value;
  };
  return { fixture: () => started(fixture), out: () => started(out) };
}
