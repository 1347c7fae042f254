import { blobUrl, LAYOUT_FILES } from "../oci/layout";
import type { CheckFailure, CrawlFailureReason } from "../mirrors/types";
import { digestAlgorithm, digestHex, type Digest } from "../oci/reference";
import { MAX_GENERATION, parseMarker } from "../oci/marker";
import { RANGE_PROBE_BYTES, RATE_GRACE_MS, SMALL_BLOB_BYTES } from "./settings";

/** Longest marker body read; a real one is about 60 bytes. */
export const MAX_MARKER_BYTES = 1024;

/** A blob path to check: its digest and exact published size. */
export interface BlobToCheck {
  digest: Digest;
  size: number;
}

/** How requests to mirrors are bounded. */
export interface FetchLimits {
  /** Deadline until the answer's headers (time to first byte). */
  timeoutMs: number;
  /** Floor on a body's transfer rate once reading it took longer than `RATE_GRACE_MS`. */
  minBytesPerSecond: number;
  now: () => number;
}

/** Bytes of large blobs this invocation may still download whole; shared by the checks of one run. */
export class ByteBudget {
  constructor(private remaining: number) {}

  /** Takes `bytes` from the budget when that much is left. */
  take(bytes: number): boolean {
    if (bytes > this.remaining) return false;
    this.remaining -= bytes;
    return true;
  }
}

export class ProbeFailure extends Error {
  constructor(
    readonly reason: CrawlFailureReason,
    readonly detail: string,
    readonly url: string,
  ) {
    super(detail);
  }

  toRecord(): CheckFailure {
    return { url: this.url, reason: this.reason, detail: this.detail };
  }
}

/** The header algorithm names of crypto.DigestStream for the digest algorithms OCI registers. */
const DIGEST_STREAM_ALGORITHMS: ReadonlyMap<string, string> = new Map([
  ["sha256", "SHA-256"],
  ["sha512", "SHA-512"],
]);

function hex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * One GET of a mirror file as clients send it: `Accept-Encoding: identity`,
 * redirects not followed (a client given a mirror URL that redirects lands
 * somewhere the front door never checked), and a deadline on the headers.
 * After the headers, `read` consumes the body under a second deadline
 * derived from the rate floor; a hanging answer is a `timeout`, a body
 * trickling below the floor is `slow`.
 */
/** How often the rate of a body being read is compared with the floor. */
const RATE_WATCH_MS = 250;

async function getChecked<T>(
  url: string,
  limits: FetchLimits,
  headers: Record<string, string>,
  expectedBytes: number,
  read: (response: Response) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer = setTimeout(() => controller.abort(), limits.timeoutMs);
  try {
    let response: Response;
    try {
      response = await fetch(url, { method: "GET", redirect: "manual", signal: controller.signal, headers: { "Accept-Encoding": "identity", ...headers } });
    } catch (error) {
      if (controller.signal.aborted) throw new ProbeFailure("timeout", `no answer within ${limits.timeoutMs} ms from ${url}`, url);
      throw new ProbeFailure("network", `${url}: ${error instanceof Error ? error.message : String(error)}`, url);
    }
    clearTimeout(timer);
    const bodyStarted = limits.now();
    const allowedMs = RATE_GRACE_MS + Math.ceil((expectedBytes * 1000) / limits.minBytesPerSecond);
    timer = setTimeout(() => controller.abort(), allowedMs);
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      throw new ProbeFailure("redirect", `HTTP ${response.status} to ${response.headers.get("Location") ?? "(no Location)"} for ${url}: clients must get the file itself`, url);
    }
    const encoding = response.headers.get("Content-Encoding");
    if (encoding !== null && encoding.trim().toLowerCase() !== "identity" && encoding.trim() !== "") {
      await response.body?.cancel();
      throw new ProbeFailure("content-encoding", `Content-Encoding: ${encoding} for ${url}, asked with Accept-Encoding: identity`, url);
    }
    // The rate floor is watched while the body arrives, so a trickle fails a second or two in,
    // not only once the whole deadline for the blob's size has passed.
    let received = 0;
    const counted = response.body?.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, stream) {
          received += chunk.byteLength;
          stream.enqueue(chunk);
        },
      }),
    );
    const watch = setInterval(() => {
      const elapsed = limits.now() - bodyStarted;
      if (elapsed > RATE_GRACE_MS && (received * 1000) / elapsed < limits.minBytesPerSecond) controller.abort();
    }, RATE_WATCH_MS);
    try {
      const result = await read(counted === undefined ? response : new Response(counted, response));
      const elapsed = limits.now() - bodyStarted;
      if (elapsed > RATE_GRACE_MS && (expectedBytes * 1000) / elapsed < limits.minBytesPerSecond) {
        throw new ProbeFailure("slow", `${expectedBytes} bytes took ${elapsed} ms from ${url}, below ${limits.minBytesPerSecond} bytes/s`, url);
      }
      return result;
    } catch (error) {
      if (error instanceof ProbeFailure) throw error;
      if (controller.signal.aborted) {
        throw new ProbeFailure("slow", `${expectedBytes} bytes not read within ${allowedMs} ms from ${url}, below ${limits.minBytesPerSecond} bytes/s`, url);
      }
      throw new ProbeFailure("network", `${url}: body cut off: ${error instanceof Error ? error.message : String(error)}`, url);
    } finally {
      clearInterval(watch);
    }
  } finally {
    clearTimeout(timer);
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

/**
 * Streams the body through crypto.DigestStream, counting its bytes and
 * stopping past `limit`: the bytes are hashed as they arrive, never held.
 */
async function hashAtMost(body: ReadableStream<Uint8Array> | null, algorithm: string, limit: number): Promise<{ size: number; hex: string } | null> {
  const digest = new crypto.DigestStream(algorithm);
  const writer = digest.getWriter();
  let size = 0;
  if (body !== null) {
    const reader = body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel();
        await writer.abort();
        return null;
      }
      await writer.write(value);
    }
  }
  await writer.close();
  return { size, hex: hex(await digest.digest) };
}

/** Reads `frontdoor/generation` under the deadline: the generation it names, or a ProbeFailure. */
export async function readMarker(baseUrl: string, limits: FetchLimits, path: string = LAYOUT_FILES.generation): Promise<number> {
  const url = `${baseUrl}/${path}`;
  return getChecked(url, limits, {}, MAX_MARKER_BYTES, async (response) => {
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new ProbeFailure("http-status", `HTTP ${response.status} for ${url}`, url);
    }
    const tooLarge = () => new ProbeFailure("bad-marker", `${url} is larger than ${MAX_MARKER_BYTES} bytes`, url);
    if (Number(response.headers.get("Content-Length") ?? "0") > MAX_MARKER_BYTES) {
      await response.body?.cancel();
      throw tooLarge();
    }
    const bytes = await readAtMost(response.body, MAX_MARKER_BYTES);
    if (bytes === null) throw tooLarge();
    const marker = parseMarker(bytes);
    if (marker === null) throw new ProbeFailure("bad-marker", `${url} is not {"generation": N, "published": "<RFC 3339>"} with N from 1 to ${MAX_GENERATION}`, url);
    return marker.generation;
  });
}

/** GET of the whole file: 200, the published length, and the published digest over the bytes. */
async function checkWhole(url: string, blob: BlobToCheck, limits: FetchLimits): Promise<void> {
  const algorithm = DIGEST_STREAM_ALGORITHMS.get(digestAlgorithm(blob.digest));
  await getChecked(url, limits, {}, blob.size, async (response) => {
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new ProbeFailure("http-status", `HTTP ${response.status} for ${url}`, url);
    }
    const length = response.headers.get("Content-Length");
    if (length !== null && length !== String(blob.size)) {
      await response.body?.cancel();
      throw new ProbeFailure("size-mismatch", `${url} has Content-Length ${length}, published size is ${blob.size}`, url);
    }
    if (algorithm === undefined) {
      const bytes = await readAtMost(response.body, blob.size);
      if (bytes === null || bytes.byteLength !== blob.size) throw new ProbeFailure("size-mismatch", `${url} is not ${blob.size} bytes long`, url);
      return;
    }
    const found = await hashAtMost(response.body, algorithm, blob.size);
    if (found === null || found.size !== blob.size) {
      throw new ProbeFailure("size-mismatch", `${url} sent ${found === null ? `more than ${blob.size}` : found.size} bytes, published size is ${blob.size}`, url);
    }
    if (found.hex !== digestHex(blob.digest)) {
      throw new ProbeFailure("digest-mismatch", `${url} hashes to ${digestAlgorithm(blob.digest)}:${found.hex}, published digest is ${blob.digest}`, url);
    }
  });
}

/** `Range: bytes=0-65535` of a large blob: 206, a `Content-Range` naming the published size, and that many bytes. */
async function checkRange(url: string, blob: BlobToCheck, limits: FetchLimits): Promise<void> {
  const last = Math.min(blob.size, RANGE_PROBE_BYTES) - 1;
  await getChecked(url, limits, { Range: `bytes=0-${last}` }, last + 1, async (response) => {
    if (response.status === 200) {
      await response.body?.cancel();
      throw new ProbeFailure("no-range", `${url} answered 200 to Range: bytes=0-${last}; clients resume with Range and need 206`, url);
    }
    if (response.status !== 206) {
      await response.body?.cancel();
      throw new ProbeFailure("http-status", `HTTP ${response.status} for ${url}`, url);
    }
    const range = response.headers.get("Content-Range");
    if (range !== `bytes 0-${last}/${blob.size}`) {
      await response.body?.cancel();
      throw new ProbeFailure("size-mismatch", `${url} has Content-Range ${range ?? "(none)"}, expected bytes 0-${last}/${blob.size} (the published size)`, url);
    }
    const bytes = await readAtMost(response.body, last + 1);
    if (bytes === null || bytes.byteLength !== last + 1) throw new ProbeFailure("size-mismatch", `${url} sent other than ${last + 1} bytes for bytes=0-${last}`, url);
  });
}

/**
 * Checks one blob path on a mirror with one GET (docs/crawler.md, "What a
 * check is"): blobs up to `SMALL_BLOB_BYTES`, and larger ones while `hashing`
 * has bytes left, are downloaded whole and hashed; other large blobs get a
 * `Range` probe of their first 64 KiB.
 */
export async function checkBlob(baseUrl: string, blob: BlobToCheck, limits: FetchLimits, hashing: ByteBudget): Promise<void> {
  const url = blobUrl(baseUrl, blob.digest);
  if (blob.size <= SMALL_BLOB_BYTES || hashing.take(blob.size)) await checkWhole(url, blob, limits);
  else await checkRange(url, blob, limits);
}
