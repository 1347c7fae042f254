/** KV metadata written beside every value that the isolate caches by version. */
export interface VersionMetadata {
  version: string;
}

/**
 * Parsed copies of versioned KV values (`mirrors`, `crawl:state`), keyed by
 * KV key and replaced when the stored version changes. The composition root
 * (src/services.ts) makes one per isolate and hands it to the MirrorStore;
 * tests make their own.
 */
export class VersionedCache {
  private readonly entries = new Map<string, { version: string; value: unknown }>();

  /**
   * Reads a JSON value whose KV metadata carries a `version`, parsing it only
   * when the version differs from the copy held here. The body is streamed
   * and cancelled unread when the cached copy is current, so a large mirror
   * table costs one KV read and no parse per request.
   */
  async read<T>(kv: KVNamespace, key: string): Promise<{ version: string; value: T } | null> {
    const { value: stream, metadata } = await kv.getWithMetadata<VersionMetadata>(key, "stream");
    if (stream === null) return null;
    const version = metadata?.version;
    const cached = this.entries.get(key);
    if (version !== undefined && cached?.version === version) {
      await stream.cancel();
      return cached as { version: string; value: T };
    }
    const value = JSON.parse(await new Response(stream).text()) as T;
    const entry = { version: version ?? "", value };
    if (version !== undefined) this.entries.set(key, entry);
    return entry;
  }
}
