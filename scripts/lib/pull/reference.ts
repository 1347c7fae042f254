import { isDigest, isRepositoryName, isTag, type Digest } from "../../../src/oci/reference";
import { CliError } from "../cli/error";

/** What to pull and from which front door. */
export interface ImageReference {
  /** The front door's origin, e.g. `http://127.0.0.1:8787`. */
  registry: string;
  repository: string;
  /** A tag or a digest, as the manifest endpoint takes it. */
  reference: string;
  tag: string | null;
  digest: Digest | null;
}

export class ImageReferenceError extends CliError {
  override name = "ImageReferenceError";
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/i;

/**
 * Reads `<scheme>://<host>[:port]/<repository>[:tag|@digest]`, or the same without
 * a scheme (plain HTTP for loopback hosts, HTTPS otherwise, as container clients
 * treat 127.0.0.0/8). The name and tag or digest must match the OCI grammars.
 */
export function parseImageReference(input: string): ImageReference {
  const schemeMatch = /^(https?):\/\//i.exec(input);
  const rest = schemeMatch === null ? input : input.slice(schemeMatch[0].length);
  const slash = rest.indexOf("/");
  const host = slash < 0 ? rest : rest.slice(0, slash);
  // The path is taken raw: a URL parser would resolve `..` segments before the grammar sees them.
  const path = slash < 0 ? "" : rest.slice(slash + 1);
  const scheme = schemeMatch?.[1]?.toLowerCase() ?? (LOOPBACK.test(host) ? "http" : "https");
  let url: URL;
  try {
    url = new URL(`${scheme}://${host}`);
  } catch {
    throw new ImageReferenceError(`not an image reference: ${input}`);
  }
  if (host === "" || /[@?#\\]/.test(host) || url.username !== "" || url.password !== "") {
    throw new ImageReferenceError(`the host part must carry no credentials, query or fragment: ${input}`);
  }
  return { registry: url.origin, ...parseRepositoryPath(path) };
}

/** Reads `<repository>[:tag|@digest]` (tag `latest` when none), checked against the OCI grammars. */
export function parseRepositoryPath(path: string): Omit<ImageReference, "registry"> {
  let repository: string;
  let tag: string | null = null;
  let digest: Digest | null = null;
  const at = path.indexOf("@");
  if (at >= 0) {
    repository = path.slice(0, at);
    const value = path.slice(at + 1);
    if (!isDigest(value)) throw new ImageReferenceError(`invalid digest: ${value}`);
    digest = value;
  } else {
    const colon = path.lastIndexOf(":");
    repository = colon >= 0 ? path.slice(0, colon) : path;
    tag = colon >= 0 ? path.slice(colon + 1) : "latest";
    if (!isTag(tag)) throw new ImageReferenceError(`invalid tag: ${tag}`);
  }
  if (!isRepositoryName(repository)) throw new ImageReferenceError(`invalid repository name: ${repository}`);
  return { repository, reference: digest ?? (tag as string), tag, digest };
}
