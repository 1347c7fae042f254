/** The generation marker a mirror serves at `<baseUrl>/frontdoor/generation` (docs/kv-data-model.md). */
export interface GenerationMarker {
  generation: number;
  /** RFC 3339 time of the publication. */
  published: string;
}

/** Longest marker body read; a real one is about 60 bytes. */
export const MAX_MARKER_BYTES = 1024;

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i;

/** Parses and validates a marker body; null when it is not exactly the publisher's shape. */
export function parseMarker(text: string): GenerationMarker | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const { generation, published } = value as Record<string, unknown>;
  if (typeof generation !== "number" || !Number.isSafeInteger(generation) || generation < 0) return null;
  if (typeof published !== "string" || !RFC3339.test(published) || Number.isNaN(Date.parse(published))) return null;
  return { generation, published };
}
