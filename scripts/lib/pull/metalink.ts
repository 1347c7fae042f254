import { XMLParser } from "fast-xml-parser";
import { isMediaType } from "../../../src/oci/media-types";
import { DIGEST_ALGORITHM_NAMES, isDigest, digestAlgorithm, digestHex, type Digest } from "../../../src/oci/reference";
import { FRONTDOOR_NAMESPACE, METALINK_NAMESPACE } from "../../../src/render/metalink";
import { CliError } from "../cli/error";

/** The facts of a Metalink 4 document the client relies on, checked. */
export interface MetalinkFile {
  digest: Digest;
  size: number;
  /** Download URLs, best first. */
  urls: string[];
  /** The front door's media type extension, for manifests. */
  mediaType: string | null;
}

export class MetalinkError extends CliError {
  override name = "MetalinkError";
}

type Node = Record<string, unknown>;

/** The `<hash type>` naming the digest's algorithm (RFC 5854, section 4.2.4). */
function hashType(digest: Digest): string {
  return DIGEST_ALGORITHM_NAMES[digestAlgorithm(digest)].iana;
}

function text(value: unknown): string | null {
  if (typeof value === "string") return value.trim();
  if (value !== null && typeof value === "object" && typeof (value as Node)["#text"] === "string") return ((value as Node)["#text"] as string).trim();
  return null;
}

/** Prefix the document binds to a namespace, `""` for the default one, or null. */
function prefixOf(root: Node, namespace: string): string | null {
  for (const [key, value] of Object.entries(root)) {
    if (value !== namespace) continue;
    if (key === "@_xmlns") return "";
    if (key.startsWith("@_xmlns:")) return key.slice("@_xmlns:".length);
  }
  return null;
}

/**
 * Reads a Metalink 4 document (RFC 5854) describing one file named after its
 * digest: checks the namespace, that the hash agrees with the name, the size,
 * and keeps only http(s) URLs ordered by `priority` (RFC 5854, 4.2.16.2; URLs
 * without one come last).
 */
export function parseMetalink(document: string): MetalinkFile {
  const parser = new XMLParser({
    ignoreAttributes: false,
    parseTagValue: false,
    parseAttributeValue: false,
    ignoreDeclaration: true,
    processEntities: true,
    isArray: (name) => ["file", "hash", "url"].some((element) => name === element || name.endsWith(`:${element}`)),
  });
  let parsed: Node;
  try {
    parsed = parser.parse(document, true) as Node;
  } catch (error) {
    throw new MetalinkError(`the metalink is not well-formed XML: ${(error as Error).message}`);
  }
  const rootName = Object.keys(parsed).find((key) => key === "metalink" || key.endsWith(":metalink"));
  const root = rootName === undefined ? undefined : (parsed[rootName] as Node | undefined);
  if (root === undefined || typeof root !== "object" || prefixOf(root, METALINK_NAMESPACE) === null) {
    throw new MetalinkError(`the document is not a Metalink 4 document (namespace ${METALINK_NAMESPACE})`);
  }
  const ns = prefixOf(root, METALINK_NAMESPACE) as string;
  const name = (local: string) => (ns === "" ? local : `${ns}:${local}`);
  const files = root[name("file")] as Node[] | undefined;
  if (files === undefined || files.length !== 1) throw new MetalinkError("the metalink must describe exactly one file");
  const file = files[0] as Node;
  const digest = file["@_name"];
  if (typeof digest !== "string" || !isDigest(digest)) throw new MetalinkError(`the file name is not a digest: ${String(digest)}`);
  const sizeText = text(file[name("size")]);
  const size = sizeText !== null && /^\d{1,15}$/.test(sizeText) ? Number(sizeText) : null;
  if (size === null) throw new MetalinkError("the metalink gives no valid size");
  const hashes = (file[name("hash")] as Node[] | undefined) ?? [];
  const hash = hashes.find((entry) => entry["@_type"] === hashType(digest));
  if (hash === undefined || text(hash)?.toLowerCase() !== digestHex(digest)) {
    throw new MetalinkError(`the metalink's ${hashType(digest)} hash does not match its name ${digest}`);
  }
  const urls = ((file[name("url")] as Node[] | undefined) ?? [])
    .map((entry, order) => {
      const priority = Number(entry["@_priority"]);
      return { url: text(entry), priority: Number.isInteger(priority) && priority >= 1 ? priority : Number.MAX_SAFE_INTEGER, order };
    })
    .filter((entry): entry is { url: string; priority: number; order: number } => entry.url !== null && /^https?:\/\/[^\s]+$/i.test(entry.url))
    .sort((a, b) => a.priority - b.priority || a.order - b.order)
    .map((entry) => entry.url);
  if (urls.length === 0) throw new MetalinkError("the metalink lists no http(s) URL");
  const fd = prefixOf(root, FRONTDOOR_NAMESPACE);
  const mediaTypeText = fd === null ? null : text(file[fd === "" ? "mediaType" : `${fd}:mediaType`]);
  if (mediaTypeText !== null && !isMediaType(mediaTypeText)) throw new MetalinkError(`invalid media type in the metalink: ${mediaTypeText}`);
  return { digest, size, urls, mediaType: mediaTypeText };
}
