import { RegistryError } from "../errors";
import { paginate, type Page } from "../http/pagination";
import { isDigest, isRepositoryName, parseReference, TAG_GRAMMAR, type Digest, type Reference } from "../oci/reference";

/**
 * The routes' side of the grammars: src/oci and src/http say what is wrong
 * with a path segment or query, and these turn that into the error code the
 * Distribution Spec gives it, as distribution's handlers do.
 */

/** The `<name>` of a path, or NAME_INVALID. */
export function repositoryParam(name: string): string {
  if (!isRepositoryName(name)) throw new RegistryError("NAME_INVALID", { detail: { name } });
  return name;
}

/** The `<digest>` of a path, or DIGEST_INVALID. */
export function digestParam(value: string): Digest {
  if (!isDigest(value)) throw new RegistryError("DIGEST_INVALID", { message: "invalid digest", detail: { digest: value } });
  return value;
}

/**
 * The `<reference>` of a manifest path: DIGEST_INVALID for a malformed digest;
 * a malformed tag names no manifest, so it is MANIFEST_UNKNOWN with 404, as the
 * Distribution Spec's "Pulling manifests" requires for a manifest that is not
 * found (and its conformance suite checks with the tag `.INVALID_MANIFEST_NAME`).
 */
export function referenceParam(value: string): Reference {
  const parsed = parseReference(value);
  if (parsed.ok) return parsed.reference;
  if (parsed.invalid === "digest") throw new RegistryError("DIGEST_INVALID", { message: "invalid digest", detail: { digest: value } });
  throw new RegistryError("MANIFEST_UNKNOWN", {
    message: "manifest unknown: not a valid tag",
    detail: { tag: value, grammar: TAG_GRAMMAR },
  });
}

/** A page of `sorted` for `?n=&last=`, or PAGINATION_NUMBER_INVALID for `n` and `invalidLast` for `last`. */
export function pageParams(
  sorted: readonly string[],
  query: { n?: string; last?: string },
  path: string,
  isValidLast: (last: string) => boolean,
  invalidLast: (last: string) => RegistryError,
): Page {
  const result = paginate(sorted, query, path, isValidLast);
  if (result.ok) return result.page;
  if (result.invalid === "n") throw new RegistryError("PAGINATION_NUMBER_INVALID", { detail: { n: result.value } });
  throw invalidLast(result.value);
}
