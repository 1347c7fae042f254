import { randomBytes } from "node:crypto";
import { mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { blobPath } from "../../../src/oci/layout";
import type { Digest } from "../../../src/oci/reference";
import { CliError } from "../cli/error";

export class LayoutTargetError extends CliError {
  override name = "LayoutTargetError";
}

async function isEmptyOrMissing(directory: string): Promise<boolean> {
  try {
    if (!(await stat(directory)).isDirectory()) return false;
    return (await readdir(directory)).length === 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return true;
    throw error;
  }
}

/**
 * An OCI image layout being written beside its final place (same parent, so the
 * last step is one atomic rename). Until `commit()`, nothing at the target
 * looks like a finished layout; `discard()` removes every trace.
 */
export class StagedLayout {
  private constructor(
    readonly target: string,
    readonly root: string,
  ) {}

  /** Refuses a target that exists and is not an empty directory. */
  static async create(target: string): Promise<StagedLayout> {
    const full = resolve(target);
    if (!(await isEmptyOrMissing(full))) throw new LayoutTargetError(`${target} exists and is not an empty directory`);
    await mkdir(dirname(full), { recursive: true });
    const root = join(dirname(full), `.${basename(full)}.partial-${randomBytes(6).toString("hex")}`);
    await mkdir(root);
    return new StagedLayout(full, root);
  }

  /** `blobs/<alg>/<hex>` inside the staging directory; the digest was checked against the OCI grammar. */
  async blobPath(digest: Digest): Promise<string> {
    const path = join(this.root, blobPath(digest));
    await mkdir(dirname(path), { recursive: true });
    return path;
  }

  async writeJson(name: "oci-layout" | "index.json", value: unknown): Promise<void> {
    await writeFile(join(this.root, name), JSON.stringify(value));
  }

  /** Moves the finished layout into place (rename(2) replaces an empty directory). */
  async commit(): Promise<void> {
    if (!(await isEmptyOrMissing(this.target))) throw new LayoutTargetError(`${this.target} appeared while pulling`);
    await rename(this.root, this.target);
  }

  async discard(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}
