import { RegistryError } from "../errors";
import { nextPageLink } from "./headers";

/** Most entries one page holds, whatever `n` asks for; the `Link` header leads on. */
export const MAX_PAGE_SIZE = 1000;

export interface Page {
  items: string[];
  /** `Link` header value when more entries follow. */
  link: string | null;
}

function parsePageSize(value: string | undefined): number {
  if (value === undefined) return MAX_PAGE_SIZE;
  if (!/^\d{1,9}$/.test(value)) {
    throw new RegistryError("PAGINATION_NUMBER_INVALID", { detail: { n: value } });
  }
  return Math.min(Number(value), MAX_PAGE_SIZE);
}

/**
 * One page of a lexically sorted list, after `last` and at most `n` long
 * (Distribution Spec, "Listing Tags"); `isValidLast` guards the cursor's grammar and `invalidLast` builds the error for a bad one.
 */
export function paginate(
  sorted: readonly string[],
  query: { n?: string; last?: string },
  path: string,
  isValidLast: (last: string) => boolean,
  invalidLast: (last: string) => RegistryError,
): Page {
  const size = parsePageSize(query.n);
  if (query.last !== undefined && !isValidLast(query.last)) throw invalidLast(query.last);
  const start = query.last === undefined ? 0 : upperBound(sorted, query.last);
  const items = sorted.slice(start, start + size);
  const hasMore = size > 0 && start + size < sorted.length;
  const lastItem = items[items.length - 1];
  const link =
    hasMore && lastItem !== undefined
      ? nextPageLink(`${path}?n=${size}&last=${encodeURIComponent(lastItem)}`)
      : null;
  return { items, link };
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
