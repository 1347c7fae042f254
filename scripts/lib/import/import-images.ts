import { mkdir, readdir } from "node:fs/promises";
import { resolve } from "node:path";
import { INDEX_MEDIA_TYPES, MEDIA_TYPES } from "../../../src/oci/media-types";
import { computeDigest, isDigest, type Digest } from "../../../src/oci/reference";
import { formatBytes } from "../../../src/render/bytes";
import { runCommand, type CommandResult } from "../process/processes";
import { FsLayout } from "../publish/fs-layout";
import type { ImportSource } from "./import-list";
import { refDigest, removeRef, setRef, treeClosure, writeManifestBlob } from "./tree-refs";

/** Runs skopeo with these arguments. */
export type SkopeoRunner = (args: string[]) => Promise<CommandResult>;

export interface ImportOptions {
  /** Talk to the source registries over plain HTTP or without verifying TLS (`--src-tls-verify=false`): a local registry. */
  insecure?: boolean;
  /** Credentials for the source registries, in containers-auth.json(5) format. */
  authfile?: string;
  /** One line per image and per companion, as each is done. */
  progress?: (message: string) => void;
  skopeo?: SkopeoRunner;
}

/** What happened to one image or companion. */
export interface ImportedRef {
  source: string;
  refName: string;
  digest: Digest;
  /** `copied` by skopeo, `named` from blobs the tree had, `unchanged` when the tree already named that digest. */
  outcome: "copied" | "named" | "unchanged";
  /** Blobs (manifests included) the copy wrote into the tree, and their bytes. */
  fetchedBlobs: number;
  fetchedBytes: number;
  /** Companion tags (`.sig`, `.att`, `.sbom`, referrers) copied with it. */
  companions: ImportedRef[];
}

/**
 * Tags other tools keep next to an image, named after its digest `<alg>:<hex>`:
 * cosign's signature, attestation and SBOM tags `<alg>-<hex>.sig|.att|.sbom`, and the
 * referrers tag `<alg>-<hex>` of the OCI Distribution Spec v1.1 ("Referrers Tag Schema"),
 * an image index of the manifests whose `subject` is the image, which registries without
 * the referrers API hold.
 */
export function companionTags(digest: Digest): string[] {
  const base = digest.replace(":", "-");
  return [`${base}.sig`, `${base}.att`, `${base}.sbom`, base];
}

const COPY_TIMEOUT_MS = 6 * 60 * 60_000;
const LOOKUP_TIMEOUT_MS = 5 * 60_000;

/** skopeo on PATH; a missing skopeo is named with the package that brings it. */
export const defaultSkopeo: SkopeoRunner = async (args) => {
  try {
    return await runCommand("skopeo", args, { timeoutMs: args[0] === "copy" ? COPY_TIMEOUT_MS : LOOKUP_TIMEOUT_MS });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new Error("skopeo is not installed; the import runs it (Debian and Ubuntu: apt-get install skopeo)");
    throw error;
  }
};

function failed(result: CommandResult, what: string): Error {
  const how = result.timedOut ? "timed out" : `failed (exit ${result.code ?? result.signal})`;
  return new Error(`${what}: skopeo ${how}\n${result.stderr.trim()}`);
}

/** The media type of a manifest document, from its `mediaType` or, where OCI lets it be left out, its shape. */
function manifestMediaType(document: Record<string, unknown>): string {
  if (typeof document.mediaType === "string") return document.mediaType;
  return Array.isArray(document.manifests) ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.ociManifest;
}

async function blobFiles(tree: string): Promise<Set<string>> {
  const names = await readdir(resolve(tree, "blobs", "sha256")).catch(() => []);
  return new Set(names.map((name) => `sha256:${name}`));
}

/**
 * Copies images from registries into an OCI image layout, each named `<tree repository>:<tag>` in
 * `index.json` (the publisher's ref names), every platform, with the companion tags of the image
 * and of each of its platform manifests. Incremental: an image whose manifest the tree already
 * holds with every blob is named without fetching anything, and skopeo reuses every layer the tree
 * has (it still reads the configs, hence the check first).
 */
export class Importer {
  private readonly tree: FsLayout;
  private readonly skopeo: SkopeoRunner;
  private readonly lookupFlags: string[];
  private readonly tagLists = new Map<string, Promise<Set<string> | null>>();

  constructor(
    private readonly treeDir: string,
    private readonly options: ImportOptions = {},
  ) {
    if (resolve(treeDir).includes(":")) throw new Error(`the tree path ${resolve(treeDir)} holds a colon, which skopeo's oci: transport reads as the end of the path`);
    this.tree = new FsLayout(treeDir);
    this.skopeo = options.skopeo ?? defaultSkopeo;
    this.lookupFlags = [...(options.insecure ? ["--tls-verify=false"] : []), ...(options.authfile === undefined ? [] : ["--authfile", options.authfile])];
  }

  /** Imports every source in order; stops at the first that fails. */
  async importAll(sources: readonly ImportSource[]): Promise<ImportedRef[]> {
    // skopeo creates the layout but not the folders above it.
    await mkdir(this.treeDir, { recursive: true });
    const done: ImportedRef[] = [];
    for (const [i, source] of sources.entries()) {
      const step = `[${i + 1}/${sources.length}]`;
      const { imported, manifests } = await this.importOne(source, step);
      this.options.progress?.(`${step} ${describe(imported)}`);
      imported.companions = await this.companions(source, manifests);
      done.push(imported);
    }
    return done;
  }

  /** Copies or names one image; returns what was done and the manifests the image reaches. */
  private async importOne({ source, registry, repository, treeRepository, tag }: ImportSource, step: string): Promise<{ imported: ImportedRef; manifests: Digest[] }> {
    const refName = `${treeRepository}:${tag}`;
    const inspected = await this.skopeo(["inspect", "--raw", ...this.lookupFlags, `docker://${source}`]);
    if (inspected.code !== 0) throw failed(inspected, `reading the manifest of ${source}`);
    const bytes = new TextEncoder().encode(inspected.stdout);
    let digest = await computeDigest(bytes);
    const document = JSON.parse(inspected.stdout) as Record<string, unknown>;

    let outcome: ImportedRef["outcome"];
    let fetchedBlobs = 0;
    let fetchedBytes = 0;
    let closure = await treeClosure(this.tree, digest, bytes.byteLength);
    if (closure !== null && (await refDigest(this.tree, refName)) === digest) outcome = "unchanged";
    else if (closure !== null) {
      await setRef(this.tree, refName, { mediaType: manifestMediaType(document), digest, size: bytes.byteLength });
      outcome = "named";
    } else {
      this.options.progress?.(`${step} copying ${source} into ${refName} ...`);
      const before = await blobFiles(this.treeDir);
      const copied = await this.copy(source, refName);
      if (copied.code !== 0) {
        // skopeo rewrites an index whose entries carry fields it does not know (OCI 1.1 `artifactType`), which
        // --preserve-digests forbids: then each entry is copied on its own and the index's own bytes written.
        if (!INDEX_MEDIA_TYPES.has(manifestMediaType(document)) || !/cannot modify it/.test(copied.stderr)) throw failed(copied, `copying ${source}`);
        await this.copyIndexEntries({ source, registry, repository, treeRepository, tag }, document);
        await writeManifestBlob(this.tree, digest, bytes);
        await setRef(this.tree, refName, { mediaType: manifestMediaType(document), digest, size: bytes.byteLength });
      }
      // The tag may have moved between the look-up and the copy: what was copied is what counts.
      const named = await refDigest(this.tree, refName);
      closure = named === null ? null : await treeClosure(this.tree, named);
      if (named === null || closure === null) throw new Error(`copying ${source}: ${refName} in ${this.treeDir} is missing or incomplete after the copy`);
      digest = named;
      for (const [blob, size] of closure.blobs) {
        if (before.has(blob)) continue;
        fetchedBlobs++;
        fetchedBytes += size;
      }
      outcome = "copied";
    }
    return { imported: { source, refName, digest, outcome, fetchedBlobs, fetchedBytes, companions: [] }, manifests: closure.manifests };
  }

  /** skopeo copy of every platform into the tree; `--preserve-digests` makes a copy that would rewrite a manifest fail, so signatures keep matching. */
  private copy(source: string, refName: string): Promise<CommandResult> {
    const tlsFlags = this.options.insecure ? ["--src-tls-verify=false"] : [];
    const authFlags = this.options.authfile === undefined ? [] : ["--src-authfile", this.options.authfile];
    return this.skopeo(["copy", "--all", "--preserve-digests", ...tlsFlags, ...authFlags, `docker://${source}`, `oci:${resolve(this.treeDir)}:${refName}`]);
  }

  /**
   * Copies each manifest an index lists, by digest, under a scratch ref name that is removed
   * afterwards, so the image's own ref keeps its old value until the whole index is in the tree.
   */
  private async copyIndexEntries({ registry, repository, treeRepository, tag }: ImportSource, document: Record<string, unknown>): Promise<void> {
    const scratchRef = `${treeRepository}:${tag.slice(0, 119)}.partial`;
    for (const entry of Array.isArray(document.manifests) ? document.manifests : []) {
      const child = entry as { digest?: unknown; size?: unknown };
      if (typeof child.digest !== "string" || !isDigest(child.digest) || typeof child.size !== "number") throw new Error(`${registry}/${repository}:${tag}: an index entry has no digest or size`);
      if ((await treeClosure(this.tree, child.digest, child.size)) !== null) continue;
      const copied = await this.copy(`${registry}/${repository}@${child.digest}`, scratchRef);
      if (copied.code !== 0) throw failed(copied, `copying ${registry}/${repository}@${child.digest}`);
    }
    await removeRef(this.tree, scratchRef);
  }

  /** The source repository's tags, listed once per import; null when the registry does not list them. */
  private tagsOf(registry: string, repository: string): Promise<Set<string> | null> {
    const key = `${registry}/${repository}`;
    let tags = this.tagLists.get(key);
    if (tags === undefined) {
      tags = this.skopeo(["list-tags", ...this.lookupFlags, `docker://${key}`]).then((result) => {
        if (result.code !== 0) {
          this.options.progress?.(`        ! ${key} does not list its tags, so no signatures or referrers are looked for: ${result.stderr.trim().split("\n").at(-1) ?? ""}`);
          return null;
        }
        return new Set((JSON.parse(result.stdout) as { Tags?: string[] }).Tags ?? []);
      });
      this.tagLists.set(key, tags);
    }
    return tags;
  }

  /** Copies the companion tags the source has for the image and for each manifest below it. */
  private async companions({ registry, repository, treeRepository }: ImportSource, manifests: readonly Digest[]): Promise<ImportedRef[]> {
    const tags = await this.tagsOf(registry, repository);
    if (tags === null) return [];
    const found: ImportedRef[] = [];
    for (const manifest of manifests) {
      for (const tag of companionTags(manifest)) {
        if (!tags.has(tag)) continue;
        const { imported: companion } = await this.importOne({ source: `${registry}/${repository}:${tag}`, registry, repository, treeRepository, tag }, "      +");
        this.options.progress?.(`      + ${describe(companion)}`);
        found.push(companion);
      }
    }
    return found;
  }
}

function describe(imported: ImportedRef): string {
  const what = `${imported.source} -> ${imported.refName} (${imported.digest})`;
  if (imported.outcome === "unchanged") return `${what}: unchanged, nothing fetched`;
  if (imported.outcome === "named") return `${what}: named from blobs the tree has, nothing fetched`;
  return `${what}: copied, ${imported.fetchedBlobs} new ${imported.fetchedBlobs === 1 ? "blob" : "blobs"} (${formatBytes(imported.fetchedBytes)}) fetched`;
}
