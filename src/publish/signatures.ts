import { blobPath, LAYOUT_FILES } from "../oci/layout";
import { computeDigest, type Digest } from "../oci/reference";
import { lookasidePath, MAX_LOOKASIDE_SIGNATURES, type LookasideEntry } from "../signing/lookaside";
import { keys } from "../store/keys";
import type { SignatureRecord } from "../store/records";
import { PublishError } from "./errors";
import type { Inventory } from "./inventory";
import type { LayoutSource } from "./layout";
import type { KvWrite } from "./plan";

/** A lookaside signature file found in the tree, its blob copy checked. */
export interface TreeSignature extends LookasideEntry {
  /** Digest and size of the file's bytes, which the tree also holds at `blobs/<alg>/<hex>`. */
  blob: Digest;
  size: number;
}

/** The signatures a tree holds beside its images (docs/signing.md). Sigstore attachments are ordinary tags and are not listed here. */
export interface TreeSignatures {
  lookaside: TreeSignature[];
  /** The PEM public key in `frontdoor/signing-key.pub`, or null. */
  signingKey: string | null;
}

/** A PEM public key is a few hundred bytes; a rotation may list two or three. */
const MAX_KEY_FILE_BYTES = 16 * 1024;
const PEM_PUBLIC_KEY = /^(?:-----BEGIN PUBLIC KEY-----\r?\n[A-Za-z0-9+/=\r\n]+-----END PUBLIC KEY-----\r?\n?)+$/;

async function readSigningKey(source: LayoutSource): Promise<string | null> {
  const path = LAYOUT_FILES.signingKey;
  const bytes = await source.readFile(path);
  if (bytes === null) return null;
  const text = bytes.byteLength <= MAX_KEY_FILE_BYTES ? new TextDecoder().decode(bytes) : "";
  if (!PEM_PUBLIC_KEY.test(text)) throw new PublishError("LAYOUT_INVALID", `${path} must hold PEM public keys ("-----BEGIN PUBLIC KEY-----")`, { path });
  return text;
}

/**
 * Finds the lookaside signature files (`signatures/<repository>@<alg>=<hex>/signature-<n>`)
 * of every manifest the inventory holds, numbered from 1 without gaps as
 * containers/image reads them, and checks that each also sits in the tree as
 * a blob with the same bytes: mirrors serve that content-addressed copy.
 */
export async function readTreeSignatures(source: LayoutSource, inventory: Inventory): Promise<TreeSignatures> {
  const lookaside: TreeSignature[] = [];
  for (const [repository, content] of inventory.repositories) {
    for (const digest of content.manifests) {
      for (let index = 1; index <= MAX_LOOKASIDE_SIGNATURES; index++) {
        const entry = { repository, digest, index };
        const path = lookasidePath(entry);
        const bytes = await source.readFile(path);
        if (bytes === null) break;
        const blob = await computeDigest(bytes);
        const copy = await source.readFile(blobPath(blob));
        if (copy === null || (await computeDigest(copy)) !== blob) {
          throw new PublishError("BLOB_MISSING", `${path} has no copy at ${blobPath(blob)}; \`frontdoor sign <tree>\` adds it`, { path, digest: blob });
        }
        lookaside.push({ ...entry, blob, size: bytes.byteLength });
      }
    }
  }
  return { lookaside, signingKey: await readSigningKey(source) };
}

/** The KV entries of a tree's signatures: one `signature:` record per lookaside file, and the `signing-key`. */
export function signatureWrites(signatures: TreeSignatures, generationOf: (digest: Digest) => number): KvWrite[] {
  const writes: KvWrite[] = signatures.lookaside.map(({ repository, digest, index, blob, size }) => {
    const record: SignatureRecord = { digest: blob, size, generation: generationOf(blob) };
    return { key: keys.signature(repository, digest, index), value: JSON.stringify(record) };
  });
  if (signatures.signingKey !== null) writes.push({ key: keys.signingKey(), value: signatures.signingKey });
  return writes;
}
