import { digestAlgorithm, digestHex, isDigest, type Digest } from "../oci/reference";

/**
 * Sigstore (cosign format) signature attachments: for a manifest
 * `<alg>:<hex>`, an OCI image manifest under the tag `<alg>-<hex>.sig` whose
 * layers are simple-signing payloads, each signature in a layer annotation.
 * containers/image reads them when `use-sigstore-attachments: true`
 * (containers-registries.d(5)); cosign writes and reads the same.
 */
export const SIGSTORE = {
  /** Media type of a payload layer. */
  payloadMediaType: "application/vnd.dev.cosign.simplesigning.v1+json",
  /** Layer annotation holding the base64 signature over the payload bytes. */
  signatureAnnotation: "dev.cosignproject.cosign/signature",
} as const;

/** The attachment tag of a manifest: `sha256-<hex>.sig`. */
export function attachmentTag(digest: Digest): string {
  return `${digestAlgorithm(digest)}-${digestHex(digest)}.sig`;
}

/** The manifest digest an attachment tag names, or null when `tag` is not one. */
export function attachedDigest(tag: string): Digest | null {
  const match = /^([a-z0-9]+)-([a-f0-9]+)\.sig$/.exec(tag);
  if (match === null) return null;
  const digest = `${match[1]}:${match[2]}`;
  return isDigest(digest) ? digest : null;
}
