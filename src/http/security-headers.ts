/**
 * The status pages are server-rendered HTML with one inline style sheet and
 * nothing else: no script, no frame, no form, no outside resource.
 */
export const HTML_CONTENT_SECURITY_POLICY =
  "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * On every answer, so an error body that quotes client input is never read as
 * anything but its declared type.
 */
export const NOSNIFF = { "X-Content-Type-Options": "nosniff" } as const;

/** NOSNIFF on every answer, and on HTML a strict Content-Security-Policy and no referrer. */
export function addSecurityHeaders(headers: Headers): void {
  headers.set("X-Content-Type-Options", NOSNIFF["X-Content-Type-Options"]);
  if (headers.get("Content-Type")?.startsWith("text/html")) {
    headers.set("Content-Security-Policy", HTML_CONTENT_SECURITY_POLICY);
    headers.set("Referrer-Policy", "no-referrer");
  }
}
