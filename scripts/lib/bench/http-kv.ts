/**
 * The parts of `KVNamespace` the publisher and the bench seeds use (get, put,
 * delete, list), over HTTP to one namespace socket of the bench's backing
 * services (backing-services.worker.js), counting every operation.
 */
export class HttpKv {
  readonly counts = { reads: 0, writes: 0, deletes: 0, lists: 0 };

  constructor(private readonly base: string) {}

  private url(key: string, query: Record<string, string> = {}): string {
    const search = new URLSearchParams({ urlencoded: "true", ...query });
    return `${this.base}/${encodeURIComponent(key)}?${search}`;
  }

  async get(key: string, type?: "json" | "text" | { type: "json" | "text" }): Promise<unknown> {
    this.counts.reads++;
    const response = await fetch(this.url(key));
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    if (!response.ok) throw new Error(`KV get ${key}: ${response.status}`);
    const kind = typeof type === "object" ? type.type : type;
    return kind === "json" ? response.json() : response.text();
  }

  async put(key: string, value: string | ArrayBuffer | ArrayBufferView, options: { metadata?: unknown } = {}): Promise<void> {
    this.counts.writes++;
    const headers: Record<string, string> = options.metadata === undefined || options.metadata === null ? {} : { "CF-KV-Metadata": JSON.stringify(options.metadata) };
    const body = typeof value === "string" ? value : value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    const response = await fetch(this.url(key), { method: "PUT", body, headers });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`KV put ${key}: ${response.status}`);
  }

  async delete(key: string): Promise<void> {
    this.counts.deletes++;
    const response = await fetch(this.url(key), { method: "DELETE" });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`KV delete ${key}: ${response.status}`);
  }

  async list(options: { prefix?: string; cursor?: string; limit?: number } = {}): Promise<unknown> {
    this.counts.lists++;
    const search = new URLSearchParams();
    if (options.prefix !== undefined) search.set("prefix", options.prefix);
    if (options.cursor !== undefined) search.set("cursor", options.cursor);
    if (options.limit !== undefined) search.set("key_count_limit", String(options.limit));
    const response = await fetch(`${this.base}/?${search}`);
    if (!response.ok) throw new Error(`KV list: ${response.status}`);
    const page = (await response.json()) as { keys: Array<{ name: string; metadata?: string }>; list_complete: boolean; cursor?: string };
    // workerd hands metadata over as JSON text; KVNamespace.list answers it parsed.
    return { ...page, keys: page.keys.map((key) => ({ name: key.name, ...(key.metadata === undefined ? {} : { metadata: JSON.parse(key.metadata) as unknown }) })) };
  }

  /** The same object typed as the binding, for code written against `KVNamespace`. */
  asNamespace(): KVNamespace {
    return this as unknown as KVNamespace;
  }
}
