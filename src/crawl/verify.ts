import type { BadBlob, CheckFailure, InventoryKey, MirrorHealth } from "../mirrors/types";
import type { Digest } from "../oci/reference";
import { compareKeys, type InventoryReader } from "../store/inventory-store";
import type { InventoryEntry } from "../store/records";
import { checkBlob, ProbeFailure, type ByteBudget, type FetchLimits } from "./probe";

/** What one run's blob checks found on one mirror, for `nextHealth` to fold in. */
export interface VerificationRun {
  /** Blob paths checked (one GET each). */
  checked: number;
  /** Bad blobs re-checked that passed now, and those the publication no longer lists. */
  cleared: Digest[];
  /** Verified blob paths that failed: newly found or still bad. */
  contentErrors: Array<{ entry: InventoryEntry; failure: CheckFailure }>;
  /** The first failure of the pass toward the marker: it holds the pass back and nothing else. */
  held: CheckFailure | null;
  verified: number;
  pass: MirrorHealth["pass"];
  reverify: InventoryKey | null;
}

export interface VerifyOptions {
  /** Blob checks this mirror may make in this run. */
  budget: number;
  limits: FetchLimits;
  hashing: ByteBudget;
}

async function attempt(baseUrl: string, entry: InventoryEntry, options: VerifyOptions): Promise<CheckFailure | null> {
  try {
    await checkBlob(baseUrl, entry, options.limits, options.hashing);
    return null;
  } catch (error) {
    if (error instanceof ProbeFailure) return error.toRecord();
    throw error;
  }
}

/**
 * Failures that say the mirror cannot answer in time, rather than that one
 * file is wrong: after one, the rest of this run's checks of the mirror are
 * skipped, so a mirror that hangs costs one deadline per run, not one per
 * blob; on a verified path they take the mirror down (src/crawl/health.ts).
 */
export const STALLING_REASONS: ReadonlySet<string> = new Set(["timeout", "slow"]);

function stopsTheRun(failure: CheckFailure): boolean {
  return STALLING_REASONS.has(failure.reason);
}

/** The place just after every entry first seen in `generation` or earlier. */
function afterGeneration(generation: number): InventoryKey {
  return { generation: generation + 0.5, digest: "" };
}

/**
 * Checks one mirror's blob paths against the publication's inventory
 * (docs/crawler.md, "Verification"), spending at most `budget` GETs in this
 * order: blob paths excluded as bad, re-checked first; the pass toward the
 * marker's generation, resuming after the last `(generation, digest)` that
 * passed; the rolling re-verification of everything already verified, which
 * takes a quarter of what is left while a pass runs and all of it otherwise.
 * A mirror becomes verified for `announced` only when the pass has checked
 * every entry first seen up to it. A timeout, a trickle or a network failure
 * ends the run's checks of this mirror.
 */
export async function verifyMirror(
  baseUrl: string,
  before: Pick<MirrorHealth, "verified" | "pass" | "reverify" | "badBlobs">,
  announced: number,
  inventory: InventoryReader,
  options: VerifyOptions,
): Promise<VerificationRun> {
  let left = options.budget;
  const run: VerificationRun = { checked: 0, cleared: [], contentErrors: [], held: null, verified: before.verified, pass: before.pass, reverify: before.reverify };
  // A marker that went back is believed: the mirror may have re-synced an older tree.
  if (announced < run.verified) {
    run.verified = announced;
    run.pass = { after: null, done: 0 };
  }

  const bad = new Set<string>();
  for (const badBlob of before.badBlobs) {
    bad.add(badBlob.digest);
    if (left === 0) continue;
    const entry = await inventory.find(badBlob);
    if (entry === null) {
      run.cleared.push(badBlob.digest as Digest);
      continue;
    }
    left--;
    run.checked++;
    const failure = await attempt(baseUrl, entry, options);
    if (failure === null) run.cleared.push(entry.digest);
    else {
      run.contentErrors.push({ entry, failure });
      if (stopsTheRun(failure)) return run;
    }
  }

  if (announced > run.verified && inventory.hasInventory) {
    const boundary = afterGeneration(run.verified);
    const resume = run.pass.after !== null && compareKeys(run.pass.after, boundary) > 0 ? run.pass : { after: boundary, done: 0 };
    const forReverify = run.verified >= 0 ? Math.ceil(left / 4) : 0;
    const { entries, more } = await inventory.after(resume.after, announced, left - forReverify);
    let after = resume.after;
    let done = resume.done;
    for (const entry of entries) {
      left--;
      run.checked++;
      const failure = await attempt(baseUrl, entry, options);
      if (failure !== null) {
        run.held = failure;
        if (stopsTheRun(failure)) left = 0;
        break;
      }
      after = { generation: entry.generation, digest: entry.digest };
      done++;
    }
    if (run.held === null && !more) {
      run.verified = announced;
      run.pass = { after: null, done: 0 };
    } else {
      run.pass = { after: after === boundary ? null : after, done };
    }
  }

  if (run.verified >= 0 && left > 0) {
    const start = run.reverify;
    const first = await inventory.after(start, run.verified, left);
    let entries = first.entries;
    if (!first.more && start !== null && entries.length < left) {
      const wrapped = await inventory.after(null, run.verified, left - entries.length);
      entries = [...entries, ...wrapped.entries.filter((entry) => compareKeys(entry, start) <= 0)];
    }
    for (const entry of entries) {
      run.reverify = { generation: entry.generation, digest: entry.digest };
      if (bad.has(entry.digest)) continue;
      run.checked++;
      const failure = await attempt(baseUrl, entry, options);
      if (failure !== null) {
        run.contentErrors.push({ entry, failure });
        if (stopsTheRun(failure)) break;
      }
    }
  }
  return run;
}

/** The bad-blob list after a run: cleared ones gone, new content errors added once, in the order found. */
export function nextBadBlobs(before: readonly BadBlob[], run: VerificationRun, at: string): BadBlob[] {
  const cleared = new Set<string>(run.cleared);
  const kept = before.filter((blob) => !cleared.has(blob.digest));
  const known = new Set(kept.map((blob) => blob.digest));
  for (const { entry } of run.contentErrors) {
    if (known.has(entry.digest)) continue;
    known.add(entry.digest);
    kept.push({ digest: entry.digest, generation: entry.generation, size: entry.size, since: at });
  }
  return kept;
}
