import { digestAlgorithm, digestHex, isDigest, isRepositoryName, type Digest } from "../oci/reference";

/**
 * Simple-signing signatures in a lookaside store, laid out as containers/image
 * reads them (its docs/containers-signature.5 and `lookasideStorageURL`):
 * `<base>/<repository>@<algorithm>=<hex>/signature-<n>`, n counting from 1; a
 * client reads signature-1, signature-2, ... until the first miss.
 * In the tree the base is the folder `signatures/`.
 */
export const LOOKASIDE_DIR = "signatures";

/** Most signatures per manifest that the publisher looks for and the front door answers. */
export const MAX_LOOKASIDE_SIGNATURES = 64;

/** One lookaside signature file's place: which manifest of which repository, which number. */
export interface LookasideEntry {
  repository: string;
  digest: Digest;
  /** 1 for `signature-1`. */
  index: number;
}

const INDEX = /^[1-9][0-9]{0,2}$/;

/** `<repository>@<algorithm>=<hex>/signature-<n>`, relative to the lookaside base. */
export function lookasideName({ repository, digest, index }: LookasideEntry): string {
  return `${repository}@${digestAlgorithm(digest)}=${digestHex(digest)}/signature-${index}`;
}

/** The file's path in the tree: `signatures/<repository>@<algorithm>=<hex>/signature-<n>`. */
export function lookasidePath(entry: LookasideEntry): string {
  return `${LOOKASIDE_DIR}/${lookasideName(entry)}`;
}

/**
 * Reads `<repository>@<algorithm>=<hex>/signature-<n>` (the part after the
 * lookaside base), every part checked against the OCI grammars: repository
 * name, registered digest algorithm and its exact hex length, and n from 1 to
 * `MAX_LOOKASIDE_SIGNATURES`. Null for anything else.
 */
export function parseLookasideName(name: string): LookasideEntry | null {
  const slash = name.lastIndexOf("/");
  if (slash < 0) return null;
  const file = name.slice(slash + 1);
  if (!file.startsWith("signature-")) return null;
  const number = file.slice("signature-".length);
  if (!INDEX.test(number) || Number(number) > MAX_LOOKASIDE_SIGNATURES) return null;
  const folder = name.slice(0, slash);
  const at = folder.lastIndexOf("@");
  if (at < 0) return null;
  const repository = folder.slice(0, at);
  const encoded = folder.slice(at + 1);
  if (encoded.includes(":")) return null;
  const digest = encoded.replace("=", ":");
  if (!isRepositoryName(repository) || !isDigest(digest)) return null;
  return { repository, digest, index: Number(number) };
}
