import { negotiate } from "../http/accept";
import { MEDIA_TYPES } from "../oci/media-types";
import { DIGEST_ALGORITHM_NAMES, digestAlgorithm, digestHex, type Digest } from "../oci/reference";
import { xmlDocument, type XmlElement } from "./xml";

/** RFC 5854, section 4: the Metalink 4 namespace. */
export const METALINK_NAMESPACE = "urn:ietf:params:xml:ns:metalink";
/** Our extension namespace (RFC 5854, section 7: foreign markup); holds the manifest's media type. */
export const FRONTDOOR_NAMESPACE = "urn:registry-frontdoor:metalink:1";

/** One place the bytes can be downloaded from, best first. */
export interface DownloadLocation {
  url: string;
  /** ISO 3166-1 alpha-2, or null when unknown. */
  country: string | null;
}

export interface MetalinkFile {
  digest: Digest;
  size: number;
  /** RFC 3339 time the content was first published, if known. */
  published: string | null;
  /** RFC 3339 time of the newest publication, if known. */
  updated: string | null;
  /** Download locations in priority order; the origin last. */
  locations: readonly DownloadLocation[];
  /** Set for manifests, so a client can hand the bytes to the right parser. */
  mediaType?: string;
}

/**
 * True when the client's `Accept` prefers a Metalink 4 document over the
 * content's own media type (RFC 9110, section 12.5.1; ties go to the content,
 * so `*\/*` alone never yields a metalink).
 */
export function prefersMetalink(accept: string | null, contentType: string): boolean {
  if (!mayPreferMetalink(accept)) return false;
  return negotiate(accept, [contentType, MEDIA_TYPES.metalink4]) === MEDIA_TYPES.metalink4;
}

/** Whether `accept` names Metalink 4 at all: without it, no content type can lose to a metalink (a wildcard never prefers it). */
export function mayPreferMetalink(accept: string | null): boolean {
  return accept !== null && /metalink4\+xml/i.test(accept);
}

/** Lower-case ISO 3166-1 alpha-2 code, as RFC 5854 (4.2.16.1) and RFC 6249 (3.4) write it, or null. */
export function countryAttribute(country: string | null): string | null {
  return country !== null && /^[A-Za-z]{2}$/.test(country) ? country.toLowerCase() : null;
}

/** Publication times repeat on every answer until the next publication: each is normalised once. */
const normalisedTimes = new Map<string, string | null>();
const MAX_NORMALISED_TIMES = 64;

function rfc3339(value: string | null): string | null {
  if (value === null) return null;
  const known = normalisedTimes.get(value);
  if (known !== undefined) return known;
  const time = Date.parse(value);
  const normalised = Number.isNaN(time) ? null : new Date(time).toISOString();
  if (normalisedTimes.size >= MAX_NORMALISED_TIMES) normalisedTimes.clear();
  normalisedTimes.set(value, normalised);
  return normalised;
}

function urlElement(location: DownloadLocation, index: number): XmlElement {
  const attributes: Array<[string, string]> = [["priority", String(index + 1)]];
  const country = countryAttribute(location.country);
  if (country !== null) attributes.push(["location", country]);
  return { name: "url", attributes, text: location.url };
}

/**
 * A Metalink 4 document (RFC 5854) describing one file named after its digest:
 * size, hash, and one `<url>` per location with `priority` 1 for the best.
 */
export function renderMetalink(file: MetalinkFile): string {
  if (file.locations.length === 0) throw new Error("a metalink file needs at least one url (RFC 5854, section 4.1.2)");
  if (!Number.isSafeInteger(file.size) || file.size < 0) throw new Error(`invalid size ${file.size}`);
  const children: XmlElement[] = [
    { name: "size", text: String(file.size) },
    { name: "hash", attributes: [["type", DIGEST_ALGORITHM_NAMES[digestAlgorithm(file.digest)].iana]], text: digestHex(file.digest) },
    ...file.locations.map(urlElement),
  ];
  if (file.mediaType !== undefined) children.push({ name: "fd:mediaType", text: file.mediaType });
  const root: XmlElement[] = [
    { name: "generator", text: "registry-frontdoor" },
    { name: "file", attributes: [["name", file.digest]], children },
  ];
  const published = rfc3339(file.published);
  const updated = rfc3339(file.updated);
  if (published !== null) root.push({ name: "published", text: published });
  if (updated !== null) root.push({ name: "updated", text: updated });
  const namespaces: Array<[string, string]> = [["xmlns", METALINK_NAMESPACE]];
  if (file.mediaType !== undefined) namespaces.push(["xmlns:fd", FRONTDOOR_NAMESPACE]);
  return xmlDocument({ name: "metalink", attributes: namespaces, children: root });
}
