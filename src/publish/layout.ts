import { blobPath } from "../oci/layout";
import { computeDigest, type Digest, type DigestAlgorithm } from "../oci/reference";
import type { Descriptor } from "../oci/descriptor";

/** The result of hashing one file of the tree. */
export interface FileDigest {
  digest: Digest;
  size: number;
}

/** Read access to an OCI image layout tree; the publisher reads nothing else. */
export interface LayoutSource {
  /** The file's bytes, or null when it does not exist. `path` is relative to the tree root. */
  readFile(path: string): Promise<Uint8Array | null>;
  /**
   * Hashes a file without handing its bytes back, so large layers can be
   * streamed; null when it does not exist. Sources without it are read whole.
   */
  hashFile?(path: string, algorithm: DigestAlgorithm): Promise<FileDigest | null>;
}

const encoder = new TextEncoder();

/** An image layout held in memory: what the demo image is built into, and what tests tamper with. */
export class MemoryLayout implements LayoutSource {
  private readonly entries = new Map<string, Uint8Array>();

  async readFile(path: string): Promise<Uint8Array | null> {
    return this.entries.get(path) ?? null;
  }

  writeFile(path: string, content: Uint8Array | string): void {
    this.entries.set(path, typeof content === "string" ? encoder.encode(content) : content);
  }

  deleteFile(path: string): boolean {
    return this.entries.delete(path);
  }

  /** Every file, paths sorted, so a directory written from it is always written in the same order. */
  files(): Array<[path: string, content: Uint8Array]> {
    return [...this.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Stores bytes under `blobs/<alg>/<hex>` and returns their descriptor. */
  async addBlob(
    content: Uint8Array,
    mediaType: string,
    extra: Pick<Descriptor, "artifactType" | "annotations"> & { platform?: Platform } = {},
  ): Promise<Descriptor & { platform?: Platform }> {
    const digest = await computeDigest(content);
    this.writeFile(blobPath(digest), content);
    return { mediaType, digest, size: content.byteLength, ...extra };
  }

  /** Stores a JSON document as a blob, serialized once so its digest covers the exact bytes. */
  addJsonBlob(document: unknown, mediaType: string, extra: { platform?: Platform } = {}): Promise<Descriptor & { platform?: Platform }> {
    return this.addBlob(encoder.encode(JSON.stringify(document)), mediaType, extra);
  }
}

/** An image index entry's platform (OCI Image Spec, "Image Index", `platform`). */
export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}
