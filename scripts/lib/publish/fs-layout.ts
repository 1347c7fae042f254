import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, relative, resolve, sep } from "node:path";
import type { DigestAlgorithm } from "../../../src/oci/reference";
import type { FileDigest, LayoutSource } from "../../../src/publish/layout";

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/** An OCI image layout in a directory; large blobs are hashed as streams, never held whole. */
export class FsLayout implements LayoutSource {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** Resolves a tree path, refusing any that would leave the tree. */
  path(path: string): string {
    const full = resolve(this.root, path);
    const inside = relative(this.root, full);
    if (inside === "" || inside.startsWith(`..${sep}`) || inside === "..") throw new RangeError(`path outside the tree: ${path}`);
    return full;
  }

  async readFile(path: string): Promise<Uint8Array | null> {
    try {
      return new Uint8Array(await readFile(this.path(path)));
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async hashFile(path: string, algorithm: DigestAlgorithm): Promise<FileDigest | null> {
    const hash = createHash(algorithm);
    let size = 0;
    try {
      for await (const chunk of createReadStream(this.path(path)) as AsyncIterable<Buffer>) {
        hash.update(chunk);
        size += chunk.byteLength;
      }
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
    return { digest: `${algorithm}:${hash.digest("hex")}`, size };
  }

  /** Writes a file through a temporary name and a rename, so a reader (or rsync) never sees half of it. */
  async writeFileAtomic(path: string, content: Uint8Array | string): Promise<void> {
    const target = this.path(path);
    await mkdir(dirname(target), { recursive: true });
    const temporary = `${target}.tmp-${process.pid}`;
    try {
      await writeFile(temporary, content);
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true }).catch(() => undefined);
      throw error;
    }
  }
}
