/** OCI Distribution Spec, "Pulling manifests": `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*` */
const NAME = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
/** OCI Distribution Spec, "Pulling manifests": the grammar of a tag. */
export const TAG_GRAMMAR = "[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}";
const TAG = new RegExp(`^${TAG_GRAMMAR}$`);
/** OCI Image Spec, "Digests": registered algorithms with their exact encoded lengths. */
const DIGEST_ENCODINGS = {
  sha256: /^[a-f0-9]{64}$/,
  sha512: /^[a-f0-9]{128}$/,
} as const;
/** Longest repository name accepted; keeps every KV key under the 512-byte limit. */
export const MAX_NAME_LENGTH = 255;

export type DigestAlgorithm = keyof typeof DIGEST_ENCODINGS;

/**
 * Each algorithm's names elsewhere: WebCrypto's, which RFC 5843 also gives
 * the `Digest` header (RFC 3230), and the IANA "Hash Function Textual Names"
 * that Metalink's `<hash type>` uses (RFC 5854, section 4.2.4).
 */
export const DIGEST_ALGORITHM_NAMES = {
  sha256: { webCrypto: "SHA-256", iana: "sha-256" },
  sha512: { webCrypto: "SHA-512", iana: "sha-512" },
} as const satisfies Record<DigestAlgorithm, { webCrypto: string; iana: string }>;
export type Digest = `${DigestAlgorithm}:${string}`;
export type Reference = { kind: "tag"; tag: string } | { kind: "digest"; digest: Digest };
/** A parsed manifest reference, or which grammar the text failed. */
export type ReferenceParse = { ok: true; reference: Reference } | { ok: false; invalid: "digest" | "tag" };

export function isRepositoryName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && NAME.test(name);
}

export function isTag(tag: string): boolean {
  return TAG.test(tag);
}

export function isDigest(value: string): value is Digest {
  const colon = value.indexOf(":");
  if (colon < 0) return false;
  const algorithm = value.slice(0, colon);
  const encoded = value.slice(colon + 1);
  return Object.hasOwn(DIGEST_ENCODINGS, algorithm) && DIGEST_ENCODINGS[algorithm as DigestAlgorithm].test(encoded);
}

export function digestAlgorithm(digest: Digest): DigestAlgorithm {
  return digest.slice(0, digest.indexOf(":")) as DigestAlgorithm;
}

export function digestHex(digest: Digest): string {
  return digest.slice(digest.indexOf(":") + 1);
}

/** A manifest reference is a digest when it contains a colon, a tag otherwise (Distribution Spec, "Pulling manifests"). */
export function parseReference(value: string): ReferenceParse {
  if (value.includes(":")) return isDigest(value) ? { ok: true, reference: { kind: "digest", digest: value } } : { ok: false, invalid: "digest" };
  return isTag(value) ? { ok: true, reference: { kind: "tag", tag: value } } : { ok: false, invalid: "tag" };
}

/** Computes an OCI digest of bytes with the given algorithm. */
export async function computeDigest(bytes: ArrayBuffer | Uint8Array, algorithm: DigestAlgorithm = "sha256"): Promise<Digest> {
  const hash = await crypto.subtle.digest(DIGEST_ALGORITHM_NAMES[algorithm].webCrypto, bytes);
  const hex = Array.from(new Uint8Array(hash), (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${algorithm}:${hex}`;
}
