import { isMediaType } from "./media-types";
import { isDigest, type Digest } from "./reference";

/**
 * A content descriptor (OCI Image Spec, "Descriptors"): the required fields,
 * and the optional ones an index lists (referrers, `index.json`).
 */
export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** A checked descriptor, or what is wrong with it (and its digest, once that was found valid). */
export type DescriptorCheck = { ok: true; descriptor: Descriptor } | { ok: false; problem: string; digest?: Digest };

/**
 * Checks a descriptor's required fields (OCI Image Spec, "Descriptors"): a JSON
 * object whose `mediaType` follows RFC 6838, whose `digest` follows the digest
 * grammar with a supported algorithm (so it is safe in a path), and whose `size`
 * is a non-negative safe integer. Other fields are left to the caller, and left out
 * of the checked descriptor.
 */
export function checkDescriptor(value: unknown): DescriptorCheck {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { ok: false, problem: "a descriptor must be a JSON object" };
  const { mediaType, digest, size } = value as Record<string, unknown>;
  if (typeof mediaType !== "string" || !isMediaType(mediaType)) return { ok: false, problem: `invalid mediaType ${JSON.stringify(mediaType)}` };
  if (typeof digest !== "string" || !isDigest(digest)) return { ok: false, problem: `invalid or unsupported digest ${JSON.stringify(digest)}` };
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) return { ok: false, problem: `invalid size ${JSON.stringify(size)}`, digest };
  return { ok: true, descriptor: { mediaType, digest, size } };
}
