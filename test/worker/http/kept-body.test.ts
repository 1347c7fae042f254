import { describe, expect, it } from "vitest";
import { keptBody, STREAMED_BODY_BYTES } from "../../../src/http/kept-body";

function bytesOf(length: number): Uint8Array<ArrayBuffer> {
  return Uint8Array.from({ length }, (_, i) => (i * 31) % 251);
}

describe("keptBody", () => {
  it("Should hand a small body to the Response as it is", () => {
    const bytes = bytesOf(STREAMED_BODY_BYTES);
    expect(keptBody(bytes)).toBe(bytes);
  });

  it("Should stream a large body from the kept bytes, byte for byte, and leave them as they were", async () => {
    const bytes = bytesOf(STREAMED_BODY_BYTES * 40 + 7);
    const body = keptBody(bytes);
    expect(body).toBeInstanceOf(ReadableStream);
    expect(new Uint8Array(await new Response(body).arrayBuffer())).toEqual(bytes);
    expect(bytes.byteLength).toBe(STREAMED_BODY_BYTES * 40 + 7);
    expect(new Uint8Array(await new Response(keptBody(bytes)).arrayBuffer())).toEqual(bytes);
  });

  it("Should let an answer that is never read go without an error", async () => {
    const body = keptBody(bytesOf(STREAMED_BODY_BYTES * 2)) as ReadableStream<Uint8Array>;
    await body.cancel("client gone");
    expect(body.locked).toBe(false);
  });
});
