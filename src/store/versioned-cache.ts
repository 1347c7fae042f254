/** KV metadata written beside every value that the isolate caches by version. */
export interface VersionMetadata {
  version: string;
}

interface Entry {
  /** Null while the key is absent from KV: its absence is held as long as a value would be. */
  version: string | null;
  value: unknown;
  /** When KV last confirmed this version (clock milliseconds). */
  checkedAt: number;
}

/**
 * Parsed copies of versioned KV values (`mirrors`, `crawl:state`), keyed by
 * KV key and replaced when the stored version changes. The composition root
 * (src/services.ts) makes one per isolate and hands it to the MirrorStore;
 * tests make their own. It holds one entry per key it is asked for: two.
 */
export class VersionedCache {
  private readonly entries = new Map<string, Entry>();

  /** `clock` gives milliseconds (Date.now by default); tests pass their own. */
  constructor(private readonly clock: () => number = Date.now) {}

  /**
   * Reads a JSON value whose KV metadata carries a `version`, parsing it only
   * when the version differs from the copy held here. A copy KV confirmed
   * less than `maxAgeMs` ago is answered without asking KV at all (0: ask on
   * every read). Otherwise the body is streamed and cancelled unread when
   * the cached copy is current, so a large mirror table costs one KV read
   * and no parse per `maxAgeMs`.
   */
  async read<T>(kv: KVNamespace, key: string, maxAgeMs = 0): Promise<{ version: string; value: T } | null> {
    const now = this.clock();
    const cached = this.entries.get(key);
    if (cached !== undefined && maxAgeMs > 0 && now - cached.checkedAt < maxAgeMs) return cached.version === null ? null : (cached as { version: string; value: T });
    // Other requests arriving while this one asks KV keep using the held copy.
    if (cached !== undefined) cached.checkedAt = now;
    let found: KVNamespaceGetWithMetadataResult<ReadableStream, VersionMetadata>;
    try {
      found = await kv.getWithMetadata<VersionMetadata>(key, "stream");
    } catch (error) {
      if (cached !== undefined) cached.checkedAt = -Infinity;
      throw error;
    }
    const { value: stream, metadata } = found;
    if (stream === null) {
      this.entries.set(key, { version: null, value: null, checkedAt: now });
      return null;
    }
    const version = metadata?.version;
    if (version !== undefined && cached?.version === version) {
      await stream.cancel();
      return cached as { version: string; value: T };
    }
    const value = JSON.parse(await new Response(stream).text()) as T;
    const entry: Entry = { version: version ?? "", value, checkedAt: now };
    if (version !== undefined) this.entries.set(key, entry);
    else this.entries.delete(key);
    return entry as { version: string; value: T };
  }
}
