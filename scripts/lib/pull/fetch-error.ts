/**
 * One line for a failed `fetch`: undici reports every network failure as
 * `TypeError: fetch failed` and keeps the system error (ECONNREFUSED,
 * ENOTFOUND, ...) in `cause`, which is the part worth reading.
 */
export function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  const code = typeof cause?.code === "string" ? cause.code : null;
  const detail = code ?? (typeof cause?.message === "string" && cause.message !== "" ? cause.message : null);
  return detail === null ? `${error.name}: ${error.message}` : `${error.message} (${detail})`;
}
