import { nextPageLink } from "./headers";

/** Most entries one page holds, whatever `n` asks for; the `Link` header leads on. */
export const MAX_PAGE_SIZE = 1000;

export interface Page {
  items: string[];
  /** `Link` header value when more entries follow. */
  link: string | null;
}

/** A page, or which query parameter was malformed and its value; `n` is checked before `last`. */
export type PageResult = { ok: true; page: Page } | { ok: false; invalid: "n" | "last"; value: string };

/** `n` as a page size capped at MAX_PAGE_SIZE, the cap when absent, null when it is not a decimal number. */
function parsePageSize(value: string | undefined): number | null {
  if (value === undefined) return MAX_PAGE_SIZE;
  if (!/^\d{1,9}$/.test(value)) return null;
  return Math.min(Number(value), MAX_PAGE_SIZE);
}

/**
 * One page of a lexically sorted list, after `last` and at most `n` long
 * (Distribution Spec, "Listing Tags"); `isValidLast` guards the cursor's grammar.
 */
export function paginate(
  sorted: readonly string[],
  query: { n?: string; last?: string },
  path: string,
  isValidLast: (last: string) => boolean,
): PageResult {
  const size = parsePageSize(query.n);
  if (size === null) return { ok: false, invalid: "n", value: query.n ?? "" };
  if (query.last !== undefined && !isValidLast(query.last)) return { ok: false, invalid: "last", value: query.last };
  const start = query.last === undefined ? 0 : upperBound(sorted, query.last);
  const items = sorted.slice(start, start + size);
  const hasMore = size > 0 && start + size < sorted.length;
  const lastItem = items[items.length - 1];
  const link =
    hasMore && lastItem !== undefined
      ? nextPageLink(`${path}?n=${size}&last=${encodeURIComponent(lastItem)}`)
      : null;
  return { ok: true, page: { items, link } };
}

/** Index of the first entry strictly greater than `value`. */
function upperBound(sorted: readonly string[], value: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((sorted[middle] as string) <= value) low = middle + 1;
    else high = middle;
  }
  return low;
}
