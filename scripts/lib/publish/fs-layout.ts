import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, mkdir, readdir, readFile, realpath, rename, rm, rmdir, stat, unlink, writeFile } from "node:fs/promises";
import type { Dirent, Stats } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import type { DigestAlgorithm } from "../../../src/oci/reference";
import { PublishError } from "../../../src/publish/errors";
import type { FileDigest, LayoutSource } from "../../../src/publish/layout";

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/** Whether `path` names something, a dangling link included. */
async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

function isInside(root: string, full: string): boolean {
  const inside = relative(root, full);
  return inside !== "" && inside !== ".." && !inside.startsWith(`..${sep}`);
}

function kindOf(info: Stats): string {
  if (info.isDirectory()) return "a directory";
  if (info.isSymbolicLink()) return "a link";
  if (info.isFile()) return "a file";
  if (info.isFIFO()) return "a named pipe";
  if (info.isSocket()) return "a socket";
  if (info.isCharacterDevice() || info.isBlockDevice()) return "a device";
  return "not a regular file";
}

/** What one entry of a tree folder is, a link taken as a link, not as what it names. */
export type EntryKind = "file" | "directory" | "link" | "other";

function entryKind(entry: Dirent): EntryKind {
  if (entry.isSymbolicLink()) return "link";
  if (entry.isFile()) return "file";
  if (entry.isDirectory()) return "directory";
  return "other";
}

function temporaryPath(target: string): string {
  return `${target}.tmp-${process.pid}`;
}

/** Whether `name` is a temporary file `writeFileAtomic` left behind, cut off before its rename, for a file of one of `names`. */
export function isTemporaryOf(name: string, names: readonly string[]): boolean {
  const match = /^(.+)\.tmp-\d+$/.exec(name);
  return match !== null && names.includes(match[1]!);
}

/** Refuses a tree path that names a file or anything else but a folder; a missing one is left to the layout's own checks. */
export async function checkTreeFolder(root: string): Promise<void> {
  const info = await stat(root).catch((error: unknown) => {
    if (isMissing(error)) return null;
    throw error;
  });
  if (info !== null && !info.isDirectory()) {
    throw new PublishError("LAYOUT_INVALID", `${root} is ${kindOf(info)}, not a folder: an OCI image layout is a folder`);
  }
}

/**
 * An OCI image layout in a directory; large blobs are hashed as streams, never
 * held whole. Every file is checked before it is opened: it must be a regular
 * file whose real path (links resolved) lies inside the tree, so a FIFO, a
 * device or a link out of the tree can neither hang the publisher nor make it
 * read or write elsewhere.
 */
export class FsLayout implements LayoutSource {
  readonly root: string;
  private realRoot: Promise<string> | undefined;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** Resolves a tree path, refusing any that would leave the tree. */
  path(path: string): string {
    const full = resolve(this.root, path);
    if (!isInside(this.root, full)) throw new RangeError(`path outside the tree: ${path}`);
    return full;
  }

  private treeRoot(): Promise<string> {
    this.realRoot ??= realpath(this.root);
    return this.realRoot;
  }

  /** The real path of an existing tree file, checked; null when it does not exist. */
  private async checkedFile(path: string): Promise<string | null> {
    let real: string;
    try {
      real = await realpath(this.path(path));
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
    if (!isInside(await this.treeRoot(), real)) {
      throw new PublishError("LAYOUT_INVALID", `${path} resolves outside the tree (to ${real})`, { path });
    }
    const info = await stat(real);
    if (!info.isFile()) throw new PublishError("LAYOUT_INVALID", `${path} is ${kindOf(info)}; the tree may hold only regular files`, { path });
    return real;
  }

  async readFile(path: string): Promise<Uint8Array | null> {
    const real = await this.checkedFile(path);
    if (real === null) return null;
    try {
      return new Uint8Array(await readFile(real));
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async hashFile(path: string, algorithm: DigestAlgorithm): Promise<FileDigest | null> {
    const real = await this.checkedFile(path);
    if (real === null) return null;
    const hash = createHash(algorithm);
    let size = 0;
    try {
      for await (const chunk of createReadStream(real) as AsyncIterable<Buffer>) {
        hash.update(chunk);
        size += chunk.byteLength;
      }
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
    return { digest: `${algorithm}:${hash.digest("hex")}`, size };
  }

  /** Refuses to `doing` (write `path` by default) in `folder`, an existing one, unless its real path is the tree or inside it. */
  private async checkFolder(folder: string, path: string, doing = `write ${path}`): Promise<void> {
    const real = await realpath(folder);
    const root = await this.treeRoot();
    if (real !== root && !isInside(root, real)) {
      throw new PublishError("LAYOUT_INVALID", `${relative(this.root, folder)} resolves outside the tree (to ${real}); refusing to ${doing}`, { path });
    }
  }

  /** The entries of a tree folder, name -> kind; null when it does not exist. Refuses one that is not a folder or resolves outside the tree. */
  async listFolder(path: string): Promise<Map<string, EntryKind> | null> {
    const folder = this.path(path);
    if (!(await exists(folder))) return null;
    if (!(await stat(folder)).isDirectory()) throw new PublishError("LAYOUT_INVALID", `${path} is not a directory`, { path });
    await this.checkFolder(folder, path, `list ${path}`);
    const entries = await readdir(folder, { withFileTypes: true });
    return new Map(entries.map((entry) => [entry.name, entryKind(entry)]));
  }

  /**
   * Removes a tree folder that holds only regular files named `names` (some may
   * be missing): unlinks each, then the folder, which fails if it holds anything
   * else by then. A folder that is a link, or resolves outside the tree, is
   * refused, so nothing outside the tree is ever removed.
   */
  async removeFolder(path: string, names: readonly string[]): Promise<void> {
    const folder = this.path(path);
    const info = await lstat(folder);
    if (!info.isDirectory()) throw new PublishError("LAYOUT_INVALID", `${path} is ${kindOf(info)}; refusing to remove it`, { path });
    await this.checkFolder(folder, path, `remove ${path}`);
    for (const name of names) {
      const file = join(folder, name);
      const entry = await lstat(file).catch((error: unknown) => {
        if (isMissing(error)) return null;
        throw error;
      });
      if (entry === null) continue;
      if (!entry.isFile()) throw new PublishError("LAYOUT_INVALID", `${path}/${name} is ${kindOf(entry)}; refusing to remove ${path}`, { path });
      await unlink(file);
    }
    await rmdir(folder);
  }

  /**
   * Refuses, before anything is written anywhere, a path that `writeFileAtomic`
   * could not replace: one under a folder that leaves the tree or is not a
   * folder, or one that names something other than a regular file.
   */
  async checkWritable(path: string): Promise<void> {
    let folder = dirname(this.path(path));
    while (!(await exists(folder))) folder = dirname(folder);
    if (!(await stat(folder)).isDirectory()) {
      throw new PublishError("LAYOUT_INVALID", `${relative(this.root, folder)} is not a directory; refusing to write ${path}`, { path });
    }
    await this.checkFolder(folder, path);
    await this.checkedFile(path);
  }

  /**
   * Writes a file through a temporary name and a rename, so a reader (or rsync)
   * never sees half of it. The folder must resolve inside the tree: a
   * `frontdoor/` that links elsewhere is refused before anything is written.
   */
  async writeFileAtomic(path: string, content: Uint8Array | string): Promise<void> {
    const target = this.path(path);
    await mkdir(dirname(target), { recursive: true });
    await this.checkFolder(dirname(target), path);
    const temporary = temporaryPath(target);
    try {
      await rm(temporary, { force: true });
      await writeFile(temporary, content, { flag: "wx" });
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true }).catch(() => undefined);
      throw error;
    }
  }
}
