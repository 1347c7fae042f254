import { blobUrl } from "../oci/layout";
import type { CrawlFailureReason } from "../mirrors/types";
import type { Digest } from "../oci/reference";
import { parseMarker } from "../oci/marker";

/** Longest marker body read; a real one is about 60 bytes. */
export const MAX_MARKER_BYTES = 1024;

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
  /** The blobs new in a publication (possibly none), or null when no such publication exists. */
  samplesOf: (generation: number) => Promise<SampleBlob[] | null>;
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

/**
 * The body's bytes, or null as soon as it grows past `limit`: the reader stops
 * and cancels the stream then, so a chunked reply without `Content-Length`
 * cannot keep the check reading until its deadline.
 */
async function readAtMost(body: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array | null> {
  if (body === null) return new Uint8Array();
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.byteLength;
    if (length > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

async function readMarker(baseUrl: string, timeoutMs: number): Promise<number> {
  const url = `${baseUrl}/frontdoor/generation`;
  const response = await fetchWithDeadline(url, "GET", timeoutMs);
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new CheckFailure("http-status", `HTTP ${response.status} for ${url}`);
  }
  const tooLarge = () => new CheckFailure("bad-marker", `${url} is larger than ${MAX_MARKER_BYTES} bytes`);
  if (Number(response.headers.get("Content-Length") ?? "0") > MAX_MARKER_BYTES) {
    await response.body?.cancel();
    throw tooLarge();
  }
  let bytes: Uint8Array | null;
  try {
    bytes = await readAtMost(response.body, MAX_MARKER_BYTES);
  } catch (error) {
    throw fetchFailure(error, url);
  }
  if (bytes === null) throw tooLarge();
  const marker = parseMarker(bytes);
  if (marker === null) throw new CheckFailure("bad-marker", `${url} is not {"generation": N, "published": "<RFC 3339>"} with N >= 1`);
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
 * size. A marker naming a generation that was never published fails, so a
 * mirror cannot claim content it could not have synced. The first failure
 * ends the check.
 */
export async function checkMirror(baseUrl: string, options: CheckOptions): Promise<CheckResult> {
  const { now } = options;
  const started = now();
  let responseTime: number | undefined;
  try {
    const generation = await readMarker(baseUrl, options.timeoutMs);
    responseTime = now() - started;
    const sample = await options.samplesOf(generation);
    if (sample === null) {
      throw new CheckFailure("bad-marker", `${baseUrl}/frontdoor/generation names generation ${generation}, which was never published: ahead of every publication`);
    }
    for (const blob of sample.slice(0, options.sampleSize)) await headSample(baseUrl, blob, options.timeoutMs);
    return { ok: true, generation, responseTime };
  } catch (error) {
    if (!(error instanceof CheckFailure)) throw error;
    return { ok: false, reason: error.reason, detail: error.detail, responseTime: responseTime ?? now() - started };
  }
}
