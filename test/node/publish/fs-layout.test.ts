import { execFileSync } from "node:child_process";
import { mkdir, readdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FsLayout } from "../../../scripts/lib/publish/fs-layout";
import { computeDigest } from "../../../src/oci/reference";
import { withTempDir } from "./run-cli";

let dir: Awaited<ReturnType<typeof withTempDir>>;
beforeEach(async () => {
  dir = await withTempDir();
});
afterEach(async () => {
  await dir.remove();
});

describe("FsLayout", () => {
  it("Should hash a file to the digest of its bytes", async () => {
    const bytes = new Uint8Array(200_000).map((_, i) => (i * 31) & 0xff);
    await mkdir(join(dir.path, "blobs", "sha256"), { recursive: true });
    await writeFile(join(dir.path, "blobs", "sha256", "x"), bytes);
    expect(await new FsLayout(dir.path).hashFile("blobs/sha256/x", "sha512")).toEqual({ digest: await computeDigest(bytes, "sha512"), size: bytes.byteLength });
  });

  it("Should answer null for a file that does not exist", async () => {
    expect(await new FsLayout(dir.path).readFile("blobs/sha256/missing")).toBeNull();
  });

  it("Should refuse a path that leaves the tree", async () => {
    await expect(new FsLayout(dir.path).readFile("../outside")).rejects.toThrow("outside the tree");
  });

  it("Should write a file atomically, creating its folder", async () => {
    const tree = new FsLayout(dir.path);
    await tree.writeFileAtomic("frontdoor/generation", "{}");
    expect(new TextDecoder().decode((await tree.readFile("frontdoor/generation"))!)).toBe("{}");
  });

  it("Should leave no temporary file behind when a write fails", async () => {
    const tree = new FsLayout(dir.path);
    await mkdir(join(dir.path, "frontdoor", "generation"), { recursive: true });
    await writeFile(join(dir.path, "frontdoor", "generation", "occupied"), "");
    await expect(tree.writeFileAtomic("frontdoor/generation", "{}")).rejects.toThrow();
    expect(await readdir(join(dir.path, "frontdoor"))).toEqual(["generation"]);
  });

  describe("refuses what is not a regular file inside the tree, before opening it", () => {
    const blob = "blobs/sha256/x";

    beforeEach(async () => {
      await mkdir(join(dir.path, "blobs", "sha256"), { recursive: true });
    });

    it("Should refuse a named pipe instead of hanging on it", async () => {
      execFileSync("mkfifo", [join(dir.path, blob)]);
      await expect(new FsLayout(dir.path).hashFile(blob, "sha256")).rejects.toThrow(`${blob} is a named pipe`);
      await expect(new FsLayout(dir.path).readFile(blob)).rejects.toThrow(`${blob} is a named pipe`);
    });

    it("Should refuse a link to a device outside the tree", async () => {
      await symlink("/dev/zero", join(dir.path, blob));
      await expect(new FsLayout(dir.path).hashFile(blob, "sha256")).rejects.toThrow(`${blob} resolves outside the tree`);
    });

    it("Should name a blob that is a directory", async () => {
      await mkdir(join(dir.path, blob));
      await expect(new FsLayout(dir.path).hashFile(blob, "sha256")).rejects.toThrow(`${blob} is a directory`);
    });

    it("Should follow a link that stays inside the tree", async () => {
      await writeFile(join(dir.path, "blobs", "sha256", "real"), "bytes");
      await symlink("real", join(dir.path, blob));
      expect(new TextDecoder().decode((await new FsLayout(dir.path).readFile(blob))!)).toBe("bytes");
    });

    it("Should tell before any write whether a path can be written: not through a link out, a file or a directory in the way", async () => {
      const outside = await withTempDir();
      try {
        const layout = new FsLayout(dir.path);
        await expect(layout.checkWritable("frontdoor/sets/new/index.json")).resolves.toBeUndefined();
        await mkdir(join(dir.path, "frontdoor", "sets"), { recursive: true });
        await symlink(outside.path, join(dir.path, "frontdoor", "sets", "out"));
        await expect(layout.checkWritable("frontdoor/sets/out/deeper/generation")).rejects.toThrow("resolves outside the tree");
        await writeFile(join(dir.path, "frontdoor", "sets", "file"), "x");
        await expect(layout.checkWritable("frontdoor/sets/file/generation")).rejects.toThrow("frontdoor/sets/file is not a directory");
        await mkdir(join(dir.path, "frontdoor", "generation"));
        await expect(layout.checkWritable("frontdoor/generation")).rejects.toThrow("frontdoor/generation is a directory");
        expect(await readdir(outside.path)).toEqual([]);
      } finally {
        await outside.remove();
      }
    });

    it("Should refuse to write through a frontdoor folder that links out of the tree", async () => {
      const outside = await withTempDir();
      try {
        await symlink(outside.path, join(dir.path, "frontdoor"));
        await expect(new FsLayout(dir.path).writeFileAtomic("frontdoor/generation", "{}")).rejects.toThrow("frontdoor resolves outside the tree");
        expect(await readdir(outside.path)).toEqual([]);
      } finally {
        await outside.remove();
      }
    });
  });
});
