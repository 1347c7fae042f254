import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { digestAlgorithm, digestHex, type Digest } from "../../../src/oci/reference";
import { describeFetchError } from "./fetch-error";

/** Why one mirror could not supply one item, or that it did. */
export type DownloadOutcome = { ok: true } | { ok: false; reason: string };

export interface DownloadOptions {
  /** Called with the byte count so far as the body arrives. */
  onBytes?: (received: number) => void;
  /** Milliseconds one download may take before it counts as failed. */
  timeoutMs?: number;
  /** Milliseconds without a byte (or, before the body, without the headers) after which the download counts as failed. */
  idleTimeoutMs?: number;
  /** Aborts the download; unlike the time limits this is not a failure of the mirror, so `signal.reason` is thrown. */
  signal?: AbortSignal;
}

export const DEFAULT_DOWNLOAD_TIMEOUT_MS = 600_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

/** A failure whose message is the whole reason. */
class DownloadFailure extends Error {}

/** An abort signal that fires once `ms` pass without a call to `touch()`. */
function idleWatch(ms: number): { signal: AbortSignal; touch(): void; stop(): void } {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new DownloadFailure(`no bytes for ${ms} ms`)), ms);
  };
  touch();
  return { signal: controller.signal, touch, stop: () => clearTimeout(timer) };
}

/**
 * Downloads `url` into `destination`, hashing as it streams: the body must be
 * exactly `size` bytes with the given digest, or the file is removed and the
 * reason returned. Nothing is decoded (`Accept-Encoding: identity`), so the
 * bytes hashed are the bytes the mirror stores. A mirror that stalls for
 * `idleTimeoutMs` has failed, like one that answers badly.
 */
export async function downloadVerified(
  url: string,
  expected: { digest: Digest; size: number },
  destination: string,
  { onBytes, timeoutMs = DEFAULT_DOWNLOAD_TIMEOUT_MS, idleTimeoutMs = DEFAULT_IDLE_TIMEOUT_MS, signal }: DownloadOptions = {},
): Promise<DownloadOutcome> {
  signal?.throwIfAborted();
  const partial = `${destination}.part`;
  const idle = idleWatch(idleTimeoutMs);
  const limits = [AbortSignal.timeout(timeoutMs), idle.signal, ...(signal === undefined ? [] : [signal])];
  try {
    const response = await fetch(url, { headers: { "Accept-Encoding": "identity" }, redirect: "follow", signal: AbortSignal.any(limits) });
    idle.touch();
    if (response.status !== 200 || response.body === null) {
      await response.body?.cancel();
      return { ok: false, reason: `HTTP ${response.status}` };
    }
    const encoding = response.headers.get("Content-Encoding");
    if (encoding !== null && encoding.toLowerCase() !== "identity") {
      await response.body.cancel();
      return { ok: false, reason: `the mirror added Content-Encoding: ${encoding}` };
    }
    const hash = createHash(digestAlgorithm(expected.digest));
    let received = 0;
    const verify = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        idle.touch();
        received += chunk.byteLength;
        if (received > expected.size) return done(new DownloadFailure(`more than the expected ${expected.size} bytes`));
        hash.update(chunk);
        onBytes?.(received);
        done(null, chunk);
      },
    });
    await pipeline(Readable.fromWeb(response.body as import("node:stream/web").ReadableStream), verify, createWriteStream(partial));
    if (received !== expected.size) return await fail(partial, `${received} bytes, expected ${expected.size}`);
    const actual = hash.digest("hex");
    if (actual !== digestHex(expected.digest)) return await fail(partial, `digest mismatch (got ${digestAlgorithm(expected.digest)}:${actual})`);
    await rename(partial, destination);
    return { ok: true };
  } catch (error) {
    if (signal?.aborted) {
      await rm(partial, { force: true });
      throw signal.reason;
    }
    const cause = idle.signal.aborted ? idle.signal.reason : error;
    return await fail(partial, cause instanceof DownloadFailure ? cause.message : describeFetchError(cause));
  } finally {
    idle.stop();
  }
}

async function fail(partial: string, reason: string): Promise<DownloadOutcome> {
  await rm(partial, { force: true });
  return { ok: false, reason };
}
