import { MAX_GENERATION, parseMarker } from "../oci/marker";
import { LAYOUT_FILES } from "../oci/layout";
import { PublishError } from "./errors";
import type { LayoutSource } from "./layout";

/** The tree's last published generation, or 0 when it was never published. */
export async function readTreeGeneration(source: LayoutSource): Promise<number> {
  const bytes = await source.readFile(LAYOUT_FILES.generation);
  if (bytes === null) return 0;
  const marker = parseMarker(bytes);
  if (marker === null) {
    throw new PublishError("LAYOUT_INVALID", `${LAYOUT_FILES.generation} is not a marker {"generation": N, "published": "<RFC 3339>"} with N from 1 to ${MAX_GENERATION}`, { path: LAYOUT_FILES.generation });
  }
  return marker.generation;
}
