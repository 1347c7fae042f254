import { digestAlgorithm, digestHex, type Digest } from "../oci/reference";

/** A blob's place in an OCI image layout: `<base>/blobs/<alg>/<hex>` (Image Spec, "Image Layout"). */
export function blobUrl(baseUrl: string, digest: Digest): string {
  return `${baseUrl}/blobs/${digestAlgorithm(digest)}/${digestHex(digest)}`;
}
