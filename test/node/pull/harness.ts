import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach } from "vitest";
import { startMirrorServer, type MirrorServer } from "../../../scripts/lib/mirror-server";
import { blobUrl } from "../../../src/mirrors/blob-url";
import { MEDIA_TYPES } from "../../../src/oci/media-types";
import { type Digest } from "../../../src/oci/reference";
import { buildDemoLayout } from "../../../src/publish/demo-image";
import { blobPath } from "../../../src/publish/layout";
import { renderMetalink } from "../../../src/render/metalink";

export const REPOSITORY = "demo/hello";
export const TAG = "latest";

/** A demo image on several static mirrors, behind a stand-in front door that only answers manifest metalinks. */
export interface PullFixture {
  dir: string;
  frontDoor: string;
  mirrors: MirrorServer[];
  indexDigest: Digest;
  indexSize: number;
  /** Every blob of the image (index, manifests, configs, layers). */
  digests: Digest[];
  /** URL path of a blob on a mirror, for `tamper` and `hide`. */
  path(digest: Digest): string;
  stop(): Promise<void>;
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
    frontDoor = createServer((request, response) => {
      const expected = `/v2/${REPOSITORY}/manifests/${TAG}`;
      if (request.url !== expected && request.url !== `/v2/${REPOSITORY}/manifests/${top.digest}`) {
        response.writeHead(404, { "Content-Type": "application/json" }).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
        return;
      }
      const document = renderMetalink({
        digest: top.digest,
        size: top.size,
        published: "2026-11-01T00:00:00Z",
        updated: "2026-11-01T00:00:00Z",
        locations: mirrors.map((mirror) => ({ url: blobUrl(mirror.url, top.digest), country: "DE" })),
        mediaType: MEDIA_TYPES.ociIndex,
      });
      response.writeHead(200, { "Content-Type": MEDIA_TYPES.metalink4, Vary: "Accept" }).end(document);
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
      async stop() {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        for (const mirror of mirrors) await mirror.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    frontDoor?.close();
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
