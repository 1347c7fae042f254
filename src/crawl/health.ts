import type { MirrorHealth } from "../mirrors/types";
import type { CheckResult } from "./probe";

/** A mirror's health before its first check: selection treats it as unchecked. */
export const UNCHECKED: MirrorHealth = Object.freeze({
  generation: -1,
  down: false,
  consecutiveFailures: 0,
  lastSuccess: null,
  lastFailure: null,
  lastFailureReason: null,
  lastFailureDetail: null,
  responseTime: null,
  lastChecked: null,
});

/**
 * Folds one check into a mirror's health (docs/crawler.md, "States"): a pass
 * records the marker's generation, even an older one, and clears any down
 * state at once; a failure keeps the last generation seen, and the
 * `failuresBeforeDown`-th failure in a row marks the mirror down.
 */
export function nextHealth(previous: MirrorHealth | undefined, result: CheckResult, checkedAt: string, failuresBeforeDown: number): MirrorHealth {
  const before = previous ?? UNCHECKED;
  if (result.ok) {
    return {
      ...before,
      generation: result.generation,
      down: false,
      consecutiveFailures: 0,
      lastSuccess: checkedAt,
      responseTime: result.responseTime,
      lastChecked: checkedAt,
    };
  }
  const consecutiveFailures = before.consecutiveFailures + 1;
  return {
    ...before,
    down: consecutiveFailures >= failuresBeforeDown,
    consecutiveFailures,
    lastFailure: checkedAt,
    lastFailureReason: result.reason,
    lastFailureDetail: result.detail,
    responseTime: result.responseTime,
    lastChecked: checkedAt,
  };
}
