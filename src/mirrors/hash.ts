/**
 * Non-cryptographic hashing for rendezvous selection: cyrb53's multiply-xor
 * rounds over 32-bit words. Deterministic across isolates and runtimes,
 * which is what keeps a pull on one mirror; nobody gains from predicting it.
 */

/** Hashes a string to two 32-bit words (cyrb53). */
export function hashWords(text: string): [number, number] {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return [h1 >>> 0, h2 >>> 0];
}

const TWO_POW_MINUS_32 = 1 / 4294967296;

/**
 * Mixes a request key's words with a mirror id's words (murmur3's 32-bit
 * finalizer, fed both words) into a uniform number strictly inside (0, 1).
 */
export function unitHash(key1: number, key2: number, id1: number, id2: number): number {
  let h = key1 ^ id1;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) ^ key2 ^ id2;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h ^= h >>> 13;
  return ((h >>> 0) + 0.5) * TWO_POW_MINUS_32;
}

/**
 * Weighted rendezvous (highest random weight) score, logarithmic method:
 * `-weight / ln(u)`. The largest score wins, and each mirror wins with
 * probability weight / total weight (Schindelhauer and Schomaker, 2005).
 */
export function rendezvousScore(weight: number, unit: number): number {
  return -weight / Math.log(unit);
}
