import { unitHash } from "./hash";

/**
 * A weighted consistent-hash ring over one tier's mirrors: each mirror owns
 * points in proportion to its bandwidth, and a request key walks clockwise
 * from its own point. Removing a mirror removes only its points, so only the
 * keys that landed on it move (Karger et al., 1997).
 */
export interface Ring {
  /** Point positions, ascending. */
  positions: Uint32Array;
  /** Mirror (table position) owning each point. */
  owners: Int32Array;
}

/** Points a mirror of about the table's mean bandwidth gets; a share's relative error is about 1 / sqrt(points). */
export const POINTS_PER_MIRROR = 100;
const MAX_POINTS_PER_MIRROR = 10_000;

/**
 * Points per unit of bandwidth for a table: about POINTS_PER_MIRROR for a
 * mirror of mean bandwidth, rounded to a power of two so that deleting or
 * adding a mirror almost never changes it, and with it everyone's points.
 */
export function ringScale(bandwidths: ArrayLike<number>): number {
  if (bandwidths.length === 0) return 1;
  let total = 0;
  for (let i = 0; i < bandwidths.length; i++) total += bandwidths[i]!;
  return 2 ** Math.round(Math.log2((POINTS_PER_MIRROR * bandwidths.length) / total));
}

/** Sorts points by position, owners alongside: LSD radix sort, two 16-bit passes (linear, unlike a comparison sort). */
function sortPoints(positions: Uint32Array, owners: Int32Array): void {
  let fromPositions: Uint32Array = positions;
  let fromOwners: Int32Array = owners;
  let toPositions: Uint32Array = new Uint32Array(positions.length);
  let toOwners: Int32Array = new Int32Array(owners.length);
  for (const shift of [0, 16]) {
    const starts = new Uint32Array(65537);
    for (const position of fromPositions) starts[((position >>> shift) & 0xffff) + 1]!++;
    for (let digit = 1; digit <= 65536; digit++) starts[digit]! += starts[digit - 1]!;
    for (let point = 0; point < fromPositions.length; point++) {
      const position = fromPositions[point]!;
      const target = starts[(position >>> shift) & 0xffff]!++;
      toPositions[target] = position;
      toOwners[target] = fromOwners[point]!;
    }
    [fromPositions, toPositions] = [toPositions, fromPositions];
    [fromOwners, toOwners] = [toOwners, fromOwners];
  }
}

/**
 * Builds the ring for `members` (table positions). A mirror's points depend
 * only on its own id and bandwidth, never on the other members.
 */
export function buildRing(members: Int32Array, weight: Float64Array, idHash1: Uint32Array, idHash2: Uint32Array, scale: number): Ring {
  const counts = Array.from(members, (mirror) => Math.min(MAX_POINTS_PER_MIRROR, Math.max(1, Math.round(weight[mirror]! * scale))));
  const size = counts.reduce((sum, count) => sum + count, 0);
  const positions = new Uint32Array(size);
  const owners = new Int32Array(size);
  let next = 0;
  for (let slot = 0; slot < members.length; slot++) {
    const mirror = members[slot]!;
    for (let replica = 0; replica < counts[slot]!; replica++, next++) {
      positions[next] = Math.floor(unitHash(replica, 0x9e3779b9, idHash1[mirror]!, idHash2[mirror]!) * 4294967296);
      owners[next] = mirror;
    }
  }
  sortPoints(positions, owners);
  return { positions, owners };
}

/** Index of the first point at or after `position`, wrapping to 0. */
export function firstPointAt(ring: Ring, position: number): number {
  let low = 0;
  let high = ring.positions.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (ring.positions[middle]! < position) low = middle + 1;
    else high = middle;
  }
  return low === ring.positions.length ? 0 : low;
}
