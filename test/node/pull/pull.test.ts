import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { pullImage, PullError } from "../../../scripts/lib/pull/puller";
import { parseImageReference } from "../../../scripts/lib/pull/reference";
import { MEDIA_TYPES } from "../../../src/oci/media-types";
import { blobPath } from "../../../src/oci/layout";
import { REPOSITORY, servedDigests, TAG, usePullFixture } from "./harness";

const { fixture, out } = usePullFixture(3, "pull-out-");

const image = () => parseImageReference(`${fixture().frontDoor}/${REPOSITORY}:${TAG}`);
const target = () => join(out(), "layout");
const corrupt = (bytes: number) => new Uint8Array(bytes).fill(0x5a);
/** Short enough for a test, long enough for a loopback mirror that is not stalled. */
const IDLE_TIMEOUT_MS = 300;

/** A loopback port nothing listens on: one the system just handed out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Progress that keeps its lines. */
function recordedProgress(): { lines: string[]; line(message: string): void; bytes(): void } {
  const lines: string[] = [];
  return { lines, line: (message) => lines.push(message), bytes: () => {} };
}

describe("pullImage", () => {
  it("Should write every blob of the image into the layout", async () => {
    await pullImage({ image: image(), target: target() });
    const written = (await readdir(join(target(), "blobs", "sha256"))).map((hex) => `sha256:${hex}`);
    expect(written.sort()).toEqual([...fixture().digests].sort());
  });

  it("Should store every blob under its own digest", async () => {
    await pullImage({ image: image(), target: target() });
    for (const hex of await readdir(join(target(), "blobs", "sha256"))) {
      const bytes = await readFile(join(target(), "blobs", "sha256", hex));
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(hex);
    }
  });

  it("Should write oci-layout and an index.json naming the tag", async () => {
    await pullImage({ image: image(), target: target() });
    expect(JSON.parse(await readFile(join(target(), "oci-layout"), "utf8"))).toEqual({ imageLayoutVersion: "1.0.0" });
    expect(JSON.parse(await readFile(join(target(), "index.json"), "utf8"))).toEqual({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: [{ mediaType: MEDIA_TYPES.ociIndex, digest: fixture().indexDigest, size: fixture().indexSize, annotations: { "org.opencontainers.image.ref.name": TAG } }],
    });
  });

  it("Should fetch everything from the first mirror when its bytes are good", async () => {
    const result = await pullImage({ image: image(), target: target() });
    expect([result.mirror, servedDigests(fixture().mirrors[0]!).length, fixture().mirrors[1]!.log().length]).toEqual([fixture().mirrors[0]!.url, fixture().digests.length, 0]);
  });

  it("Should pin the second mirror for every blob when the first serves a corrupted manifest", async () => {
    fixture().mirrors[0]!.tamper(fixture().path(fixture().indexDigest), corrupt(fixture().indexSize));
    await pullImage({ image: image(), target: target() });
    expect(fixture().mirrors[0]!.log().map((entry) => entry.path)).toEqual([fixture().path(fixture().indexDigest)]);
    expect(servedDigests(fixture().mirrors[1]!).sort()).toEqual([...fixture().digests].sort());
    expect(fixture().mirrors[2]!.log()).toEqual([]);
  });

  it("Should fall back down the list only for a blob the pinned mirror lacks", async () => {
    const missing = fixture().digests.find((digest) => digest !== fixture().indexDigest)!;
    fixture().mirrors[0]!.hide(fixture().path(missing));
    const result = await pullImage({ image: image(), target: target() });
    expect(result.fallbacks.map((f) => [f.digest, f.mirror])).toEqual([[missing, fixture().mirrors[1]!.url]]);
    expect(servedDigests(fixture().mirrors[1]!)).toEqual([missing]);
  });

  it("Should fall back for a blob the pinned mirror corrupts and keep its good bytes", async () => {
    const bad = fixture().digests.find((digest) => digest !== fixture().indexDigest)!;
    fixture().mirrors[0]!.tamper(fixture().path(bad), corrupt(16));
    await pullImage({ image: image(), target: target() });
    const bytes = await readFile(join(target(), "blobs", "sha256", bad.slice("sha256:".length)));
    expect(`sha256:${createHash("sha256").update(bytes).digest("hex")}`).toBe(bad);
  });

  it("Should fail with every mirror's reason when no mirror has a good manifest", async () => {
    for (const mirror of fixture().mirrors) mirror.tamper(fixture().path(fixture().indexDigest), corrupt(fixture().indexSize));
    const error = await pullImage({ image: image(), target: target() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PullError);
    expect((error as PullError).attempts.map((a) => a.reason.startsWith("digest mismatch"))).toEqual([true, true, true]);
  });

  it("Should leave neither the layout nor a staging directory behind when it fails", async () => {
    for (const mirror of fixture().mirrors) mirror.tamper(fixture().path(fixture().indexDigest), corrupt(fixture().indexSize));
    await pullImage({ image: image(), target: target() }).catch(() => undefined);
    expect(await readdir(out())).toEqual([]);
  });

  it("Should leave nothing behind when a layer is bad everywhere after the manifests were fetched", async () => {
    const layer = fixture().digests.find((digest) => digest !== fixture().indexDigest)!;
    for (const mirror of fixture().mirrors) mirror.hide(fixture().path(layer));
    await expect(pullImage({ image: image(), target: target() })).rejects.toThrow(PullError);
    expect(await readdir(out())).toEqual([]);
  });

  it("Should refuse a target directory that is not empty before any request", async () => {
    await mkdir(target());
    await writeFile(join(target(), "keep"), "x");
    await expect(pullImage({ image: image(), target: target() })).rejects.toThrow(/not an empty directory/);
    expect(fixture().frontDoorRequests()).toEqual([]);
  });

  it("Should ask the front door for the manifest's metalink by its media type", async () => {
    await pullImage({ image: image(), target: target() });
    expect(fixture().frontDoorRequests().map((request) => [request.accept, request.status])).toEqual([[MEDIA_TYPES.metalink4, 200]]);
  });

  it("Should name the system error when the front door cannot be reached", async () => {
    const unreachable = parseImageReference(`http://127.0.0.1:${await closedPort()}/${REPOSITORY}:${TAG}`);
    await expect(pullImage({ image: unreachable, target: target() })).rejects.toThrow(/cannot reach the front door at .*: fetch failed \(ECONNREFUSED\)/);
  });

  it("Should pin the next mirror when the first stalls after the headers and one byte", async () => {
    await fixture().stallFirst();
    const result = await pullImage({ image: image(), target: target(), idleTimeoutMs: IDLE_TIMEOUT_MS });
    expect(result.mirror).toBe(fixture().mirrors[0]!.url);
  });

  it("Should report a stalled mirror as sending no bytes for the idle timeout", async () => {
    const staller = await fixture().stallFirst();
    const progress = recordedProgress();
    await pullImage({ image: image(), target: target(), idleTimeoutMs: IDLE_TIMEOUT_MS, progress });
    expect(progress.lines).toContain(`  ${staller.url}/${blobPath(fixture().indexDigest)}: no bytes for ${IDLE_TIMEOUT_MS} ms; trying the next location`);
  });

  it("Should remove the staging directory and throw the abort reason when aborted mid-download", async () => {
    const staller = await fixture().stallFirst();
    const controller = new AbortController();
    const reason = new Error("stop");
    const pulling = pullImage({ image: image(), target: target(), signal: controller.signal });
    await staller.stalled();
    expect((await readdir(out())).filter((name) => name.startsWith(".layout.partial-"))).toHaveLength(1);
    controller.abort(reason);
    await expect(pulling).rejects.toBe(reason);
    expect(await readdir(out())).toEqual([]);
  });

  it("Should report the front door's error for an unknown tag", async () => {
    const unknown = parseImageReference(`${fixture().frontDoor}/${REPOSITORY}:nope`);
    await expect(pullImage({ image: unknown, target: target() })).rejects.toThrow(/404 MANIFEST_UNKNOWN/);
  });

  it("Should refuse a metalink describing another digest than the one asked for", async () => {
    fixture().answerAnyDigest();
    const asked = `sha256:${"0".repeat(64)}`;
    const other = parseImageReference(`${fixture().frontDoor}/${REPOSITORY}@${asked}`);
    await expect(pullImage({ image: other, target: target() })).rejects.toThrow(`the metalink describes ${fixture().indexDigest}, not ${asked}`);
  });
});
