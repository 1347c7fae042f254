/** KV metadata written beside every value that the isolate caches by version. */
export interface VersionMetadata {
  version: string;
}

const cache = new Map<string, { version: string; value: unknown }>();

/**
 * Reads a JSON value whose KV metadata carries a `version`, parsing it only
 * when the version differs from the copy held in this isolate. The body is
 * streamed and cancelled unread when the cached copy is current, so a large
 * mirror table costs one KV read and no parse per request.
 */
export async function readVersioned<T>(kv: KVNamespace, key: string): Promise<{ version: string; value: T } | null> {
  const { value: stream, metadata } = await kv.getWithMetadata<VersionMetadata>(key, "stream");
  if (stream === null) return null;
  const version = metadata?.version;
  const cached = cache.get(key);
  if (version !== undefined && cached?.version === version) {
    await stream.cancel();
    return cached as { version: string; value: T };
  }
  const value = JSON.parse(await new Response(stream).text()) as T;
  const entry = { version: version ?? "", value };
  if (version !== undefined) cache.set(key, entry);
  return entry;
}
