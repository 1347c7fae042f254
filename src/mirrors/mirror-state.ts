import type { Mirror, MirrorHealth } from "./types";

/**
 * A mirror's state, one classification for selection, the `/debug/selection`
 * explain view and the status page (docs/crawler.md, "States"): `up` is
 * verified for the newest publication, `stale` only for older content,
 * `failing` failed its last check but stays in rotation, `down` is out of
 * rotation, `unchecked` was never fully verified, `disabled` is switched off
 * by the operator.
 */
export type MirrorStatus = "up" | "stale" | "failing" | "down" | "unchecked" | "disabled";

export const MIRROR_STATUSES: readonly MirrorStatus[] = ["up", "stale", "failing", "down", "unchecked", "disabled"];

/** States in which selection may send a mirror clients, for content of its verified generation or older. */
export const IN_ROTATION: ReadonlySet<MirrorStatus> = new Set(["up", "stale", "failing"]);

/**
 * Classifies one mirror. `down` wins over `unchecked`: a mirror that never
 * passed and then failed enough checks is down on every view. `newest` is
 * the newest publication's generation, null when unknown (selection does
 * not need it: `up` and `stale` are both in rotation).
 */
export function classifyMirror(mirror: Mirror, health: Pick<MirrorHealth, "verified" | "down" | "consecutiveFailures"> | undefined, newest: number | null): MirrorStatus {
  if (!mirror.enabled) return "disabled";
  if (health?.down === true) return "down";
  if (health === undefined || !(health.verified >= 0)) return "unchecked";
  if (health.consecutiveFailures > 0) return "failing";
  if (newest !== null && health.verified < newest) return "stale";
  return "up";
}
