import type { AskHistory, AskKey, SharedAskStore } from "../mirrors/retry-memory";
import { digestAlgorithm, digestHex, isDigest } from "../oci/reference";

/** Path under which memory entries are keyed; the worker serves nothing there, and nothing is ever fetched from it. */
export const ASK_CACHE_PATH = "/_frontdoor/retry-memory/v2";
/** The header of a cached entry that holds its JSON `{given, at}`. */
const ASK_HEADER = "X-Retry-Memory";

/**
 * The synthetic URL one memory entry is cached under, on the worker's own
 * origin as Cloudflare recommends for Cache API keys (`origin` is the one the
 * request was routed to). Its path is built only from the client hash (hex) and
 * a validated digest, so nothing else a client sends shapes it.
 */
export function askCacheUrl(origin: string, key: AskKey): string {
  if (!/^[0-9a-f]{16,64}$/.test(key.client) || (key.digest !== null && !isDigest(key.digest))) throw new Error("retry memory key is not a client hash and a digest");
  const base = new URL(origin);
  if (base.protocol !== "https:" && base.protocol !== "http:") throw new Error("retry memory origin must be http(s)");
  const entry = key.digest === null ? "abandoned" : `${digestAlgorithm(key.digest)}/${digestHex(key.digest)}`;
  return `${base.origin}${ASK_CACHE_PATH}/${key.client}/${entry}`;
}

/**
 * Retry memory shared by the isolates of one Cloudflare location, in the Workers
 * Cache API (`caches.default`). The cache is local to the location and never
 * replicated, which is what this memory wants: a client's retries reach the same
 * location. Entries expire by `max-age`; reading one costs no KV operation.
 */
export class CacheAskStore implements SharedAskStore {
  /** `cache` defaults to `caches.default`, looked up on first use. */
  constructor(private readonly cache?: Cache) {}

  private get target(): Cache {
    return this.cache ?? caches.default;
  }

  /** The stored JSON, unchecked: the memory checks what it reads back like any input. */
  async read(key: AskKey): Promise<unknown> {
    const response = await this.target.match(askCacheUrl(key.origin, key));
    if (response === undefined) return null;
    const stored = response.headers.get(ASK_HEADER);
    await response.body?.cancel();
    if (stored === null) return null;
    try {
      return JSON.parse(stored) as unknown;
    } catch {
      return null;
    }
  }

  /** The entry travels in a header of an empty answer: the cache hands headers back without a body stream to read. */
  async write(key: AskKey, history: AskHistory, maxAgeSeconds: number): Promise<void> {
    const value = JSON.stringify({ given: history.given, at: history.at });
    await this.target.put(askCacheUrl(key.origin, key), new Response(null, { headers: { [ASK_HEADER]: value, "Cache-Control": `max-age=${maxAgeSeconds}` } }));
  }
}
