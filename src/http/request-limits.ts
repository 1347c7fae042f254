import type { ErrorCode } from "../errors";

/**
 * Most a request may carry before the front door looks at it: the longest
 * legitimate request target is about 420 bytes (`/v2/`, a 255-character
 * name, `/referrers/`, a sha512 digest), and a name has at most 128
 * components. Routing and parsing cost grows with these sizes, so they are
 * checked first, in time linear in the request's size.
 */
export const REQUEST_LIMITS = {
  pathBytes: 1024,
  pathSegments: 140,
  queryBytes: 1024,
  headerCount: 100,
  headerBytes: 16 * 1024,
} as const;

/** A limit the request broke: the error code to answer with and what was measured. */
export interface LimitViolation {
  code: Extract<ErrorCode, "URI_TOO_LONG" | "HEADERS_TOO_LARGE">;
  detail: { limit: keyof typeof REQUEST_LIMITS; maximum: number; actual: number };
}

function violation(code: LimitViolation["code"], limit: keyof typeof REQUEST_LIMITS, actual: number): LimitViolation | null {
  return actual > REQUEST_LIMITS[limit] ? { code, detail: { limit, maximum: REQUEST_LIMITS[limit], actual } } : null;
}

function countOf(text: string, character: string): number {
  let count = 0;
  for (let at = text.indexOf(character); at >= 0; at = text.indexOf(character, at + 1)) count++;
  return count;
}

/** The first limit of REQUEST_LIMITS that `request` exceeds, or null when it is within all of them. */
export function checkRequestLimits(request: Request): LimitViolation | null {
  const url = new URL(request.url);
  const tooLong =
    violation("URI_TOO_LONG", "pathBytes", url.pathname.length) ??
    violation("URI_TOO_LONG", "pathSegments", countOf(url.pathname, "/")) ??
    violation("URI_TOO_LONG", "queryBytes", url.search.length);
  if (tooLong !== null) return tooLong;
  let count = 0;
  let bytes = 0;
  for (const [name, value] of request.headers) {
    count += 1;
    bytes += name.length + value.length + 4;
  }
  return violation("HEADERS_TOO_LARGE", "headerCount", count) ?? violation("HEADERS_TOO_LARGE", "headerBytes", bytes);
}
