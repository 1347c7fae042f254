import type { Digest } from "../oci/reference";

/** KV metadata of a `tag:` or `manifest:` entry, whose value is the manifest's exact bytes. */
export interface ManifestMetadata {
  digest: Digest;
  mediaType: string;
  /** The publication generation in which these bytes first appeared. */
  generation: number;
}

export interface Manifest extends ManifestMetadata {
  bytes: ArrayBuffer;
}

/** Value of a `blob:` entry. */
export interface BlobRecord {
  size: number;
  generation: number;
  mediaType?: string;
}

/** An OCI descriptor as listed in an index (referrers, `index.json`). */
export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** Value of `publication` (the newest) and of `generation:<n>` (each one kept). */
export interface Publication {
  generation: number;
  /** RFC 3339 time of the publication. */
  published: string;
  /** A few blobs that first appeared in this generation, for the crawler to probe. */
  sample: Array<{ digest: Digest; size: number }>;
}

/**
 * Value of a `signature:` entry: a lookaside signature file, whose bytes the
 * tree also holds as a blob, so mirrors serve it at `blobs/<alg>/<hex>`.
 */
export interface SignatureRecord {
  digest: Digest;
  size: number;
  /** The publication generation in which these bytes first appeared. */
  generation: number;
}
