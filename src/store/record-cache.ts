/**
 * Bounds of the isolate's record cache: at most this many records, and at
 * most this many bytes of manifest bodies; a body larger than
 * `maxRecordBytes` is never held.
 */
export const RECORD_CACHE_LIMITS = {
  entries: 4096,
  bytes: 16 * 1024 * 1024,
  maxRecordBytes: 1024 * 1024,
} as const;

/** How long a record of content addressed by digest is held: such content never changes, but a later publication may delete it. */
export const IMMUTABLE_RECORD_MS = 60_000;

interface Held {
  value: unknown;
  bytes: number;
  expires: number;
}

/**
 * Published records (blob records, manifests by digest and by tag, the
 * publication) held in the isolate so that a hot record costs no KV read:
 * least recently used first out, bounded in count and in bytes
 * (`RECORD_CACHE_LIMITS`), each for as long as its caller allows. Only found
 * records are held; a miss always asks KV again, so newly published content
 * is seen at once.
 */
export class RecordCache {
  private readonly entries = new Map<string, Held>();
  private heldBytes = 0;

  constructor(
    private readonly clock: () => number = Date.now,
    private readonly limits: { entries: number; bytes: number; maxRecordBytes: number } = RECORD_CACHE_LIMITS,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.heldBytes;
  }

  /** The held value of `key`, or undefined when none is held or it expired. */
  get<T>(key: string): T | undefined {
    const held = this.entries.get(key);
    if (held === undefined) return undefined;
    this.entries.delete(key);
    if (held.expires <= this.clock()) {
      this.heldBytes -= held.bytes;
      return undefined;
    }
    this.entries.set(key, held);
    return held.value as T;
  }

  /** Holds `value` (about `bytes` large) for `forMs` milliseconds; nothing when `forMs` is 0 or it is too large. */
  set(key: string, value: unknown, bytes: number, forMs: number): void {
    this.delete(key);
    if (forMs <= 0 || bytes > this.limits.maxRecordBytes) return;
    this.entries.set(key, { value, bytes, expires: this.clock() + forMs });
    this.heldBytes += bytes;
    while (this.entries.size > this.limits.entries || this.heldBytes > this.limits.bytes) {
      const oldest = this.entries.keys().next().value as string;
      this.delete(oldest);
    }
  }

  delete(key: string): void {
    const held = this.entries.get(key);
    if (held === undefined) return;
    this.entries.delete(key);
    this.heldBytes -= held.bytes;
  }

  /**
   * `read()`'s value through the cache: a held one, or the one read, held
   * for `forMs` when it is not null. `sizeOf` gives its size in bytes.
   */
  async through<T>(key: string, forMs: number, read: () => Promise<T | null>, sizeOf: (value: T) => number): Promise<T | null> {
    if (forMs > 0) {
      const held = this.get<T>(key);
      if (held !== undefined) return held;
    }
    const value = await read();
    if (value !== null && forMs > 0) this.set(key, value, sizeOf(value), forMs);
    return value;
  }
}
