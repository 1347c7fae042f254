/** A satisfiable byte range, both ends inclusive. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Reads a `Range` header against a representation of `size` bytes (RFC 9110, section 14).
 * `"none"`: no usable single range, serve the whole body (multiple ranges and bad syntax are ignored, as 14.2 allows);
 * `"unsatisfiable"`: answer 416.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | "none" | "unsatisfiable" {
  if (header === undefined) return "none";
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (match === null) return "none";
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return "none";
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === "" ? Number.MAX_SAFE_INTEGER : Number(last);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return "none";
  if (start >= size) return "unsatisfiable";
  return { start, end: Math.min(end, size - 1) };
}
