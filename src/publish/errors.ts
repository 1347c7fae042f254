/** Why a tree cannot be published. */
export type PublishErrorCode =
  | "LAYOUT_INVALID"
  | "BLOB_MISSING"
  | "DIGEST_MISMATCH"
  | "SIZE_MISMATCH"
  | "REF_INVALID"
  | "MEDIA_TYPE_UNKNOWN"
  | "MANIFEST_INVALID"
  | "DESCRIPTOR_INVALID"
  | "TOO_LARGE"
  | "DROPS_TOO_MUCH";

/** A tree that cannot be published as it is; the message names the file or digest at fault. */
export class PublishError extends Error {
  readonly code: PublishErrorCode;
  /** The tree file at fault, relative to the tree root, when there is one. */
  readonly path: string | null;
  readonly digest: string | null;

  constructor(code: PublishErrorCode, message: string, options: { path?: string; digest?: string } = {}) {
    super(message);
    this.name = "PublishError";
    this.code = code;
    this.path = options.path ?? null;
    this.digest = options.digest ?? null;
  }
}
