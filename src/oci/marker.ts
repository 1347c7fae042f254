/**
 * The content of `frontdoor/generation` (docs/kv-data-model.md, "Files the
 * publisher adds to the tree"): the publisher writes it, the crawler reads it
 * from every mirror, and both parse it with `parseMarker`.
 */
export interface GenerationMarker {
  /** The publication's number, 1 for the first. */
  generation: number;
  /** RFC 3339 time of the publication. */
  published: string;
}

/**
 * The highest generation a marker may name: a publication a minute would take
 * 1,900 years to reach it. A marker beyond it was not written by a publisher,
 * and taking it up would leave no generation to count on with.
 */
export const MAX_GENERATION = 1_000_000_000;

const encoder = new TextEncoder();

/** RFC 3339 section 5.6 `date-time`; `Date.parse` then rejects impossible dates such as month 13. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i;

export function encodeMarker(marker: GenerationMarker): Uint8Array {
  return encoder.encode(`${JSON.stringify({ generation: marker.generation, published: marker.published })}\n`);
}

/**
 * Parses marker bytes (UTF-8 JSON `{"generation": N, "published": "<RFC 3339>"}`
 * with N an integer from 1 to MAX_GENERATION), or returns null when they are not exactly that.
 */
export function parseMarker(bytes: Uint8Array): GenerationMarker | null {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const { generation, published } = value as Record<string, unknown>;
  if (typeof generation !== "number" || !Number.isInteger(generation) || generation < 1 || generation > MAX_GENERATION) return null;
  if (typeof published !== "string" || !RFC3339.test(published) || Number.isNaN(Date.parse(published))) return null;
  return { generation, published };
}

