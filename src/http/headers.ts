export const API_VERSION_HEADER = "Docker-Distribution-API-Version";
export const API_VERSION = "registry/2.0";

/** Stops edge compression from rewriting a body whose length and digest clients check. */
export const NO_TRANSFORM = "no-transform";

/** For answers chosen for this client (redirects, metalinks, the debug view): no shared cache may keep them. */
export const PER_CLIENT = "private, no-store";

/** RFC 8288 `Link` value pointing at the next page. */
export function nextPageLink(url: string): string {
  return `<${url}>; rel="next"`;
}
