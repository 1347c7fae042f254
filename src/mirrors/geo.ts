const RADIANS = Math.PI / 180;

/** A point on the unit sphere; the nearer of two points has the larger dot product with the client's. */
export interface UnitVector {
  x: number;
  y: number;
  z: number;
}

export function isCoordinate(latitude: unknown, longitude: unknown): latitude is number {
  return (
    typeof latitude === "number" && typeof longitude === "number" &&
    Number.isFinite(latitude) && Number.isFinite(longitude) &&
    Math.abs(latitude) <= 90 && Math.abs(longitude) <= 180
  );
}

export function unitVector(latitude: number, longitude: number): UnitVector {
  const phi = latitude * RADIANS;
  const lambda = longitude * RADIANS;
  return { x: Math.cos(phi) * Math.cos(lambda), y: Math.cos(phi) * Math.sin(lambda), z: Math.sin(phi) };
}
