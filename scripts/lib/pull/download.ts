import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { digestAlgorithm, digestHex, type Digest } from "../../../src/oci/reference";

/** Why one mirror could not supply one item, or that it did. */
export type DownloadOutcome = { ok: true } | { ok: false; reason: string };

export interface DownloadOptions {
  /** Called with the byte count so far as the body arrives. */
  onBytes?: (received: number) => void;
  /** Milliseconds one download may take before it counts as failed. */
  timeoutMs?: number;
}

class BadBytes extends Error {}

/**
 * Downloads `url` into `destination`, hashing as it streams: the body must be
 * exactly `size` bytes with the given digest, or the file is removed and the
 * reason returned. Nothing is decoded (`Accept-Encoding: identity`), so the
 * bytes hashed are the bytes the mirror stores.
 */
export async function downloadVerified(
  url: string,
  expected: { digest: Digest; size: number },
  destination: string,
  { onBytes, timeoutMs = 600_000 }: DownloadOptions = {},
): Promise<DownloadOutcome> {
  const partial = `${destination}.part`;
  try {
    const response = await fetch(url, { headers: { "Accept-Encoding": "identity" }, redirect: "follow", signal: AbortSignal.timeout(timeoutMs) });
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
        received += chunk.byteLength;
        if (received > expected.size) return done(new BadBytes(`more than the expected ${expected.size} bytes`));
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
    const reason = error instanceof BadBytes ? error.message : `${(error as Error).name}: ${(error as Error).message}`;
    return await fail(partial, reason);
  }
}

async function fail(partial: string, reason: string): Promise<DownloadOutcome> {
  await rm(partial, { force: true });
  return { ok: false, reason };
}
