import type { ErrorCode } from "../errors";

/**
 * Most a request may carry before the front door looks at it: the longest
 * legitimate request target is about 420 bytes (`/v2/`, a 255-character
 * name, `/referrers/`, a sha512 digest), and a name has at most 128
 * components. Routing and parsing cost grows with these sizes, so they are
 * checked first, in time linear in the request's size. Of the headers, only
 * those the front door reads are measured (`INTERPRETED_HEADERS`): it never
 * walks the others, and walking them costs more than the whole of a
 * handshake answer; Cloudflare's edge bounds a request's headers as a whole.
 */
export const REQUEST_LIMITS = {
  pathBytes: 1024,
  pathSegments: 140,
  queryBytes: 1024,
  headerBytes: 8 * 1024,
} as const;

/** The request headers whose values the front door parses (content negotiation, ranges, pins, client identity). */
export const INTERPRETED_HEADERS = ["Accept", "Range", "Host", "User-Agent", "CF-Connecting-IP"] as const;

/** A limit the request broke: the error code to answer with and what was measured. */
export interface LimitViolation {
  code: Extract<ErrorCode, "URI_TOO_LONG" | "HEADERS_TOO_LARGE">;
  detail: { limit: keyof typeof REQUEST_LIMITS; maximum: number; actual: number; header?: string };
}

function violation(code: LimitViolation["code"], limit: keyof typeof REQUEST_LIMITS, actual: number): LimitViolation | null {
  return actual > REQUEST_LIMITS[limit] ? { code, detail: { limit, maximum: REQUEST_LIMITS[limit], actual } } : null;
}

function countOf(text: string, character: string): number {
  let count = 0;
  for (let at = text.indexOf(character); at >= 0; at = text.indexOf(character, at + 1)) count++;
  return count;
}

/** The path and query (with its `?`) of an absolute URL as the runtime serialised it, without parsing it again. */
function requestTarget(url: string): { path: string; query: string } {
  const authority = url.indexOf("//");
  const pathStart = url.indexOf("/", authority < 0 ? 0 : authority + 2);
  if (pathStart < 0) return { path: "/", query: "" };
  const queryStart = url.indexOf("?", pathStart);
  return queryStart < 0 ? { path: url.slice(pathStart), query: "" } : { path: url.slice(pathStart, queryStart), query: url.slice(queryStart) };
}

/** The first limit of REQUEST_LIMITS that `request` exceeds, or null when it is within all of them. */
export function checkRequestLimits(request: Request): LimitViolation | null {
  const { path, query } = requestTarget(request.url);
  const tooLong =
    violation("URI_TOO_LONG", "pathBytes", path.length) ??
    violation("URI_TOO_LONG", "pathSegments", countOf(path, "/")) ??
    violation("URI_TOO_LONG", "queryBytes", query.length);
  if (tooLong !== null) return tooLong;
  for (const header of INTERPRETED_HEADERS) {
    const tooLarge = violation("HEADERS_TOO_LARGE", "headerBytes", request.headers.get(header)?.length ?? 0);
    if (tooLarge !== null) return { ...tooLarge, detail: { ...tooLarge.detail, header } };
  }
  return null;
}
