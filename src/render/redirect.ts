import { PER_CLIENT } from "../http/headers";
import type { AnswerHeaders } from "../http/registry-answer";
import type { ChosenMirror } from "../mirrors/select";
import { blobUrl } from "../oci/layout";
import { DIGEST_ALGORITHM_NAMES, digestAlgorithm, digestHex, type Digest } from "../oci/reference";
import { countryAttribute, type DownloadLocation } from "./metalink";

/** Most `Link: rel=duplicate` headers one redirect carries, whatever the mirror list cap. */
export const MAX_DUPLICATE_LINKS = 10;

/** The content's URL on each chosen mirror, in selection order (origin last). */
export function downloadLocations(chosen: readonly [ChosenMirror, ...ChosenMirror[]], digest: Digest): [DownloadLocation, ...DownloadLocation[]];
export function downloadLocations(chosen: readonly ChosenMirror[], digest: Digest): DownloadLocation[];
export function downloadLocations(chosen: readonly ChosenMirror[], digest: Digest): DownloadLocation[] {
  return chosen.map((mirror) => ({ url: blobUrl(mirror.baseUrl, digest), country: mirror.country }));
}

/** An http(s) URL of printable ASCII without the characters that could end `<...>` or a header: safe as it stands. */
const PLAIN_HTTP_URL = /^https?:\/\/[!#-;=?-[\]-~]+$/;

/**
 * Serialises a URL so it cannot break out of `<...>` in a header: WHATWG URL
 * percent-encodes `<`, `>`, `"` and spaces. A URL already free of them (every
 * well-formed mirror's) is taken as it is, without parsing it again.
 */
function headerSafeUrl(url: string): string | null {
  if (PLAIN_HTTP_URL.test(url)) return url;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

/**
 * RFC 6249, section 3 (Metalink/HTTP): one `Link: <url>; rel=duplicate; pri=N; geo=cc`
 * value per location after the redirect target, in order, at most `limit`
 * (and never more than MAX_DUPLICATE_LINKS).
 */
export function duplicateLinks(locations: readonly DownloadLocation[], limit: number): string[] {
  const links: string[] = [];
  for (const location of locations.slice(1)) {
    if (links.length >= Math.min(limit, MAX_DUPLICATE_LINKS)) break;
    const url = headerSafeUrl(location.url);
    if (url === null) continue;
    const geo = countryAttribute(location.country);
    links.push(`<${url}>; rel=duplicate; pri=${links.length + 1}${geo === null ? "" : `; geo=${geo}`}`);
  }
  return links;
}

function hexToBase64(hex: string): string {
  let binary = "";
  for (let i = 0; i < hex.length; i += 2) binary += String.fromCharCode(Number.parseInt(hex.slice(i, i + 2), 16));
  return btoa(binary);
}

/** A blob GET's 307 answer: where the client goes, and the headers that go with it. */
export interface BlobRedirect {
  /** `Location`: the target's URL. */
  location: string;
  /** `Cache-Control`, `Link` (one `rel=duplicate` value per other location, comma-separated; none without one), and `Digest`. */
  headers: AnswerHeaders;
}

/**
 * The redirect for a blob: `Location` is `locations[target]` (the best, by
 * default), every other location follows as an RFC 6249 duplicate in rank
 * order, at most `linkLimit`; the RFC 3230 `Digest` lets the client check
 * whichever copy it fetches, and the answer is this client's alone.
 */
export function blobRedirect(
  locations: readonly [DownloadLocation, ...DownloadLocation[]],
  digest: Digest,
  linkLimit: number,
  target = 0,
): BlobRedirect {
  const index = Number.isInteger(target) && target >= 0 && target < locations.length ? target : 0;
  const first = locations[index] ?? locations[0];
  const ordered = [first, ...locations.filter((_, i) => i !== index)];
  const links = duplicateLinks(ordered, linkLimit);
  return {
    location: first.url,
    headers: {
      "Cache-Control": PER_CLIENT,
      ...(links.length === 0 ? {} : { Link: links.join(", ") }),
      Digest: instanceDigest(digest),
    },
  };
}

/** RFC 3230, section 4.3.2 `Digest` instance digest, with the RFC 5843 algorithm names: `SHA-256=<base64 of the raw hash>`. */
export function instanceDigest(digest: Digest): string {
  return `${DIGEST_ALGORITHM_NAMES[digestAlgorithm(digest)].webCrypto}=${hexToBase64(digestHex(digest))}`;
}
