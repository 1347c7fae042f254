import type { CheckFailure, CheckRecord, MirrorHealth } from "../mirrors/types";
import { RECENT_CHECKS, type CrawlSettings } from "./settings";
import { nextBadBlobs, STALLING_REASONS, type VerificationRun } from "./verify";

/** A mirror's health before its first check: selection treats it as unchecked. */
export const UNCHECKED: MirrorHealth = Object.freeze({
  announced: -1,
  verified: -1,
  down: false,
  consecutiveFailures: 0,
  consecutivePasses: 0,
  outcomes: "",
  pass: { after: null, done: 0 },
  reverify: null,
  badBlobs: [],
  progress: { verified: 0, total: 0 },
  lastSuccess: null,
  lastFailure: null,
  lastFailureReason: null,
  lastFailureDetail: null,
  lastFailureUrl: null,
  responseTime: null,
  lastChecked: null,
  recent: [],
});

/** What one check of one mirror observed. */
export type Observation =
  | { marker: "failed"; failure: CheckFailure; responseTime: number; sets?: MirrorHealth["sets"] }
  | { marker: "read"; announced: number; responseTime: number; run: VerificationRun; progress: MirrorHealth["progress"]; sets?: MirrorHealth["sets"] };

export type HysteresisSettings = Pick<CrawlSettings, "failuresBeforeDown" | "failureWindow" | "passesBeforeUp" | "maxBadBlobs">;

/** A stored entry with every field present: entries written before a field existed get its starting value. */
export function completeHealth(stored: Partial<MirrorHealth> | undefined): MirrorHealth {
  return { ...UNCHECKED, ...stored };
}

function outcomeOf(observation: Observation): CheckRecord["outcome"] {
  if (observation.marker === "failed") return "fail";
  if (observation.run.contentErrors.length > 0) return "fail";
  return observation.run.held === null ? "pass" : "held";
}

function firstFailure(observation: Observation): CheckFailure | null {
  if (observation.marker === "failed") return observation.failure;
  return observation.run.contentErrors[0]?.failure ?? observation.run.held;
}

/**
 * Folds one check into a mirror's health: the state machine of
 * docs/crawler.md, "States". A check fails when the marker fails (a
 * network blip) or a verified blob path fails a content check; a failure
 * only of the pass toward a newer marker holds the pass back and counts as
 * no failure. `failuresBeforeDown` failed checks among the last
 * `failureWindow` make the mirror down, and so do more than `maxBadBlobs`
 * excluded blob paths, and so does one verified blob path that hangs or
 * trickles (`STALLING_REASONS`); a down mirror comes back after `passesBeforeUp`
 * passing checks in a row. Pure: the time and settings are arguments.
 */
export function nextHealth(previous: Partial<MirrorHealth> | undefined, observation: Observation, checkedAt: string, settings: HysteresisSettings): MirrorHealth {
  const before = completeHealth(previous);
  const outcome = outcomeOf(observation);
  const failed = outcome === "fail";
  const outcomes = `${before.outcomes}${failed ? "F" : "P"}`.slice(-settings.failureWindow);
  const consecutiveFailures = failed ? before.consecutiveFailures + 1 : 0;
  const consecutivePasses = outcome === "pass" ? before.consecutivePasses + 1 : outcome === "fail" ? 0 : before.consecutivePasses;
  const badBlobs = observation.marker === "read" ? nextBadBlobs(before.badBlobs, observation.run, checkedAt) : before.badBlobs;
  const failures = [...outcomes].filter((mark) => mark === "F").length;
  const tooManyBad = badBlobs.length > settings.maxBadBlobs;
  // A verified blob that hangs or trickles: clients would hang on every blob of this mirror, not on one.
  const stalls = observation.marker === "read" && observation.run.contentErrors.some(({ failure }) => STALLING_REASONS.has(failure.reason));
  const down = before.down
    ? tooManyBad || consecutivePasses < settings.passesBeforeUp
    : tooManyBad || stalls || failures >= settings.failuresBeforeDown;
  const failure = firstFailure(observation);
  const read = observation.marker === "read" ? observation : null;
  const verified = read?.run.verified ?? before.verified;
  const record: CheckRecord = {
    at: checkedAt,
    outcome,
    announced: read?.announced ?? null,
    verified,
    blobs: read?.run.checked ?? 0,
    failure,
  };
  return {
    ...before,
    announced: read?.announced ?? before.announced,
    verified,
    down,
    consecutiveFailures,
    consecutivePasses: down && !before.down ? 0 : consecutivePasses,
    outcomes,
    pass: read?.run.pass ?? before.pass,
    reverify: read?.run.reverify ?? before.reverify,
    badBlobs,
    progress: read?.progress ?? before.progress,
    lastSuccess: outcome === "fail" ? before.lastSuccess : checkedAt,
    ...(failure === null
      ? {}
      : { lastFailure: checkedAt, lastFailureReason: failure.reason, lastFailureDetail: failure.detail, lastFailureUrl: failure.url }),
    responseTime: observation.responseTime,
    lastChecked: checkedAt,
    recent: [...before.recent, record].slice(-RECENT_CHECKS),
    ...(observation.sets === undefined ? {} : { sets: observation.sets }),
  };
}
