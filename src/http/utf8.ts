const encoder = new TextEncoder();

/** `text` as UTF-8, typed as the body Hono's `c.body` takes. */
export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text) as Uint8Array<ArrayBuffer>;
}
