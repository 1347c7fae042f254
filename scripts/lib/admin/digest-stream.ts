import { createHash, type Hash } from "node:crypto";

/** Web Crypto hash names and Node's names for them. */
const NODE_HASHES: ReadonlyMap<string, string> = new Map([
  ["SHA-1", "sha1"],
  ["SHA-256", "sha256"],
  ["SHA-384", "sha384"],
  ["SHA-512", "sha512"],
]);

/**
 * workerd's `crypto.DigestStream` in Node: a WritableStream whose `digest`
 * resolves to the hash of everything written once it closes. The crawler's
 * blob checks (src/crawl/probe.ts) stream bodies through it; Node has none.
 */
class NodeDigestStream extends WritableStream<ArrayBuffer | ArrayBufferView> {
  readonly digest: Promise<ArrayBuffer>;
  private written = 0;

  constructor(algorithm: string | { name: string }) {
    const name = typeof algorithm === "string" ? algorithm : algorithm.name;
    const nodeName = NODE_HASHES.get(name.toUpperCase());
    if (nodeName === undefined) throw new TypeError(`DigestStream: unsupported algorithm ${JSON.stringify(name)}`);
    const hash: Hash = createHash(nodeName);
    let resolve!: (value: ArrayBuffer) => void;
    let reject!: (reason: unknown) => void;
    const digest = new Promise<ArrayBuffer>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    digest.catch(() => undefined);
    super({
      write: (chunk) => {
        const bytes = chunk instanceof ArrayBuffer ? new Uint8Array(chunk) : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        this.written += bytes.byteLength;
        hash.update(bytes);
      },
      close: () => {
        const out = hash.digest();
        resolve(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength) as ArrayBuffer);
      },
      abort: (reason) => reject(reason),
    });
    this.digest = digest;
  }

  get bytesWritten(): number {
    return this.written;
  }
}

/** Gives Node's global `crypto` a `DigestStream` like workerd's, unless it has one already. */
export function installDigestStream(): void {
  const target = (globalThis as unknown as { crypto: { DigestStream?: unknown } }).crypto;
  if (typeof target.DigestStream !== "function") target.DigestStream = NodeDigestStream;
}
