import { digestAlgorithm, digestHex, type Digest } from "./reference";

/** Files of an OCI image layout and of the publisher's `frontdoor/` folder, relative to the tree root. */
export const LAYOUT_FILES = {
  ociLayout: "oci-layout",
  index: "index.json",
  firstSeen: "frontdoor/first-seen.json",
  generation: "frontdoor/generation",
  signingKey: "frontdoor/signing-key.pub",
} as const;

/** The `index.json` annotation naming a ref (OCI Image Spec, "Pre-Defined Annotation Keys"). */
export const REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";

/** The `oci-layout` file's content (OCI Image Spec, "Image Layout"). */
export const OCI_LAYOUT_VERSION = { imageLayoutVersion: "1.0.0" } as const;

/** Where a blob lives in the tree: `blobs/<alg>/<hex>` (OCI Image Spec, "Image Layout", "Blobs"). */
export function blobPath(digest: Digest): string {
  return `blobs/${digestAlgorithm(digest)}/${digestHex(digest)}`;
}

/** A blob's place in an OCI image layout: `<base>/blobs/<alg>/<hex>` (Image Spec, "Image Layout"). */
export function blobUrl(baseUrl: string, digest: Digest): string {
  return `${baseUrl}/${blobPath(digest)}`;
}
