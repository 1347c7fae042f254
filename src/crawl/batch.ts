import type { Mirror, MirrorTable } from "../mirrors/types";

/** The mirrors the crawler checks, in a stable order (by id) that survives a reordered config. */
export function crawlOrder(table: MirrorTable): Mirror[] {
  return table.mirrors.filter((mirror) => mirror.enabled).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * The next `size` items from `cursor`, wrapping around the end, and the cursor
 * for the invocation after. A cursor left beyond a shrunken list wraps too; a
 * list no longer than `size` is taken whole, each item once.
 */
export function pickBatch<T>(items: readonly T[], cursor: number, size: number): { batch: T[]; next: number } {
  if (items.length === 0) return { batch: [], next: 0 };
  const start = cursor % items.length;
  const count = Math.min(size, items.length);
  const batch = Array.from({ length: count }, (_, offset) => items[(start + offset) % items.length] as T);
  return { batch, next: (start + count) % items.length };
}
