import { blobUrl } from "../mirrors/blob-url";
import type { CrawlFailureReason } from "../mirrors/types";
import type { Digest } from "../oci/reference";
import { MAX_MARKER_BYTES, parseMarker } from "./marker";

/** A blob the publisher recorded as new in some generation, with its exact size. */
export interface SampleBlob {
  digest: Digest;
  size: number;
}

/** The outcome of one check of one mirror. */
export type CheckResult =
  | { ok: true; generation: number; responseTime: number }
  | { ok: false; reason: CrawlFailureReason; detail: string; responseTime: number };

export interface CheckOptions {
  timeoutMs: number;
  sampleSize: number;
  /** The blobs new in a generation; empty when the generation is unknown. */
  samplesOf: (generation: number) => Promise<SampleBlob[]>;
  now: () => number;
}

class CheckFailure extends Error {
  constructor(
    readonly reason: CrawlFailureReason,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/** Sorts a failed fetch into a timeout (our AbortSignal fired) or any other network failure. */
function fetchFailure(error: unknown, url: string): CheckFailure {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return new CheckFailure("timeout", `no answer within the deadline from ${url}`);
  }
  return new CheckFailure("network", `${url}: ${error instanceof Error ? error.message : String(error)}`);
}

async function fetchWithDeadline(url: string, method: "GET" | "HEAD", timeoutMs: number): Promise<Response> {
  try {
    // Clients compare the bytes as stored, so the length checked is that of the unencoded file.
    return await fetch(url, { method, signal: AbortSignal.timeout(timeoutMs), headers: { "Accept-Encoding": "identity" } });
  } catch (error) {
    throw fetchFailure(error, url);
  }
}

async function readMarker(baseUrl: string, timeoutMs: number): Promise<number> {
  const url = `${baseUrl}/frontdoor/generation`;
  const response = await fetchWithDeadline(url, "GET", timeoutMs);
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new CheckFailure("http-status", `HTTP ${response.status} for ${url}`);
  }
  const declaredLength = Number(response.headers.get("Content-Length") ?? "0");
  if (declaredLength > MAX_MARKER_BYTES) {
    await response.body?.cancel();
    throw new CheckFailure("bad-marker", `marker of ${declaredLength} bytes is larger than ${MAX_MARKER_BYTES}`);
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw fetchFailure(error, url);
  }
  const marker = text.length <= MAX_MARKER_BYTES ? parseMarker(text) : null;
  if (marker === null) throw new CheckFailure("bad-marker", `${url} is not {"generation": N, "published": "<RFC 3339>"}`);
  return marker.generation;
}

async function headSample(baseUrl: string, blob: SampleBlob, timeoutMs: number): Promise<void> {
  const url = blobUrl(baseUrl, blob.digest);
  const response = await fetchWithDeadline(url, "HEAD", timeoutMs);
  await response.body?.cancel();
  if (response.status !== 200) throw new CheckFailure("http-status", `HTTP ${response.status} for ${url}`);
  const length = response.headers.get("Content-Length");
  if (length !== String(blob.size)) {
    throw new CheckFailure("size-mismatch", `${url} has Content-Length ${length ?? "(none)"}, published size is ${blob.size}`);
  }
}

/**
 * Checks one mirror as MirrorManager's crawler and mirrorbits' health check
 * do: read its generation marker under a deadline, then HEAD a few blobs new
 * in that generation and compare their `Content-Length` with the published
 * size. The first failure ends the check.
 */
export async function checkMirror(baseUrl: string, options: CheckOptions): Promise<CheckResult> {
  const { now } = options;
  const started = now();
  let responseTime: number | undefined;
  try {
    const generation = await readMarker(baseUrl, options.timeoutMs);
    responseTime = now() - started;
    const sample = (await options.samplesOf(generation)).slice(0, options.sampleSize);
    for (const blob of sample) await headSample(baseUrl, blob, options.timeoutMs);
    return { ok: true, generation, responseTime };
  } catch (error) {
    if (!(error instanceof CheckFailure)) throw error;
    return { ok: false, reason: error.reason, detail: error.detail, responseTime: responseTime ?? now() - started };
  }
}
