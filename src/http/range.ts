/**
 * The first byte a `Range` header asks for (RFC 9110, section 14.1.2), against a
 * representation of `size` bytes: the smallest start over its byte ranges, a
 * suffix range `-N` starting at `size - N`. Null when there is no header, or it is
 * not a byte-range set, which a server may ignore (section 14.2).
 */
export function rangeFirstByte(header: string | null | undefined, size: number): number | null {
  if (header === null || header === undefined) return null;
  const match = /^\s*bytes\s*=\s*(.+)$/i.exec(header);
  if (match === null) return null;
  let first: number | null = null;
  for (const spec of match[1]!.split(",")) {
    const range = /^\s*(\d*)\s*-\s*(\d*)\s*$/.exec(spec);
    if (range === null) return null;
    const [, start = "", end = ""] = range;
    if (start === "" && end === "") return null;
    const byte = start === "" ? Math.max(0, size - Number(end)) : Number(start);
    if (!Number.isSafeInteger(byte)) return null;
    first = first === null ? byte : Math.min(first, byte);
  }
  return first;
}
