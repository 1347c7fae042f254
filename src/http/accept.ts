/** One media range of an `Accept` header (RFC 9110, section 12.5.1). */
export interface MediaRange {
  type: string;
  subtype: string;
  q: number;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Media ranges read from one `Accept`; real clients send fewer than ten, and the rest are ignored. */
export const MAX_ACCEPT_RANGES = 64;

/**
 * Parses `Accept`; several header lines arrive joined by commas, which is the
 * same list. Malformed ranges are dropped, as RFC 9110 permits, and so is
 * everything past the first MAX_ACCEPT_RANGES entries.
 */
export function parseAccept(header: string | null): MediaRange[] {
  if (header === null) return [];
  const ranges: MediaRange[] = [];
  for (const part of header.split(",", MAX_ACCEPT_RANGES)) {
    const [mediaRange = "", ...parameters] = part.split(";");
    const [type = "", subtype = "", extra] = mediaRange.trim().toLowerCase().split("/");
    if (extra !== undefined || !TOKEN.test(type) || !TOKEN.test(subtype)) continue;
    if (type === "*" && subtype !== "*") continue;
    let q = 1;
    for (const parameter of parameters) {
      const [name = "", value = ""] = parameter.split("=").map((piece) => piece.trim());
      if (name.toLowerCase() !== "q") continue;
      q = /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(value) ? Number(value) : 0;
    }
    ranges.push({ type, subtype, q });
  }
  return ranges;
}

/** How specifically a range names a type: 2 exact, 1 `type/*`, 0 `*\/*`, -1 no match. */
function specificity(range: MediaRange, type: string, subtype: string): number {
  if (range.type === type && range.subtype === subtype) return 2;
  if (range.type === type && range.subtype === "*") return 1;
  if (range.type === "*") return 0;
  return -1;
}

/**
 * Picks the offered media type the client prefers: highest q first; at equal
 * q, a type the client named outright beats one it only reached through a
 * wildcard; remaining ties go to the server's order. With no `Accept` at all
 * the first offer wins. Returns null when the client accepts none.
 */
export function negotiate(header: string | null, offers: readonly string[]): string | null {
  const ranges = parseAccept(header);
  if (ranges.length === 0) return offers[0] ?? null;
  let best: { offer: string; q: number; specificity: number } | null = null;
  for (const offer of offers) {
    const [type = "", subtype = ""] = offer.toLowerCase().split("/");
    let match: { q: number; specificity: number } | null = null;
    for (const range of ranges) {
      const s = specificity(range, type, subtype);
      if (s > (match?.specificity ?? -1)) match = { q: range.q, specificity: s };
    }
    if (match === null || match.q === 0) continue;
    if (best === null || match.q > best.q || (match.q === best.q && match.specificity > best.specificity)) {
      best = { offer, ...match };
    }
  }
  return best?.offer ?? null;
}

/** Whether `Accept` prefers `application/json` to HTML (a browser asking for HTML first does not). */
export function prefersJson(accept: string | null | undefined): boolean {
  const ranges = parseAccept(accept ?? null);
  const quality = (type: string, subtype: string) => Math.max(0, ...ranges.filter((range) => range.type === type && range.subtype === subtype).map((range) => range.q));
  return quality("application", "json") > 0 && quality("application", "json") > quality("text", "html");
}
