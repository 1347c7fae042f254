/** Kept bodies larger than this are streamed from the isolate's copy (`keptBody`). */
export const STREAMED_BODY_BYTES = 16 * 1024;

/**
 * The body of an answer whose bytes the isolate keeps between requests (a
 * status rendering, a stored manifest). The runtime copies a buffer handed to
 * a Response into memory that V8 frees only when it collects that Response,
 * and under a load of large answers it seldom does: serving a 1.2 MB page, one
 * workerd grew past 5 GB in 12 s. Written into a FixedLengthStream the kept
 * bytes are sent as they are, with their Content-Length, and nothing is left
 * per answer. Small bodies go as they are: that is faster, and their copies
 * are collected in step with the requests.
 */
export function keptBody(bytes: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array> {
  if (bytes.byteLength <= STREAMED_BODY_BYTES) return bytes;
  const { readable, writable } = new FixedLengthStream(bytes.byteLength);
  const writer = writable.getWriter();
  // A client that goes away fails the write; that is the end of its answer, not an error of the front door.
  writer.write(bytes).catch(() => undefined);
  writer.close().catch(() => undefined);
  return readable;
}
