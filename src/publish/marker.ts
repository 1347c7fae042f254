import { PublishError } from "./errors";
import { LAYOUT_FILES, type LayoutSource } from "./layout";

/** The content of `frontdoor/generation` (docs/kv-data-model.md, "Files the publisher adds to the tree"). */
export interface GenerationMarker {
  generation: number;
  /** RFC 3339 time of the publication. */
  published: string;
}

const encoder = new TextEncoder();

export function encodeMarker(marker: GenerationMarker): Uint8Array {
  return encoder.encode(`${JSON.stringify({ generation: marker.generation, published: marker.published })}\n`);
}

/** Parses marker bytes, or returns null when they are not a marker. */
export function parseMarker(bytes: Uint8Array): GenerationMarker | null {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const { generation, published } = value as Record<string, unknown>;
  if (!Number.isSafeInteger(generation) || (generation as number) < 1 || typeof published !== "string") return null;
  return { generation: generation as number, published };
}

/** The tree's last published generation, or 0 when it was never published. */
export async function readTreeGeneration(source: LayoutSource): Promise<number> {
  const bytes = await source.readFile(LAYOUT_FILES.generation);
  if (bytes === null) return 0;
  const marker = parseMarker(bytes);
  if (marker === null) {
    throw new PublishError("LAYOUT_INVALID", `${LAYOUT_FILES.generation} is not a marker {"generation": N, "published": "..."}`, { path: LAYOUT_FILES.generation });
  }
  return marker.generation;
}
