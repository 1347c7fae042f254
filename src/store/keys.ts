import type { Digest } from "../oci/reference";

/**
 * Every KV key the front door reads or writes. Callers pass values that were
 * already validated against the OCI grammars, so a key can never be forged
 * from raw client input. docs/kv-data-model.md describes each value.
 */
export const keys = {
  tag: (repository: string, tag: string) => `tag:${repository}:${tag}`,
  manifest: (repository: string, digest: Digest) => `manifest:${repository}@${digest}`,
  blob: (repository: string, digest: Digest) => `blob:${repository}@${digest}`,
  tagList: (repository: string) => `tags:${repository}`,
  referrers: (repository: string, digest: Digest) => `referrers:${repository}@${digest}`,
  /** Lookaside signature `signature-<index>` of a manifest (src/signing/lookaside.ts). */
  signature: (repository: string, digest: Digest, index: number) => `signature:${repository}@${digest}/${index}`,
  signingKey: () => "signing-key",
  catalog: () => "catalog",
  publication: () => "publication",
  generation: (generation: number) => `generation:${generation}`,
  mirrors: () => "mirrors",
  crawlState: () => "crawl:state",
  crawlCursor: () => "crawl:cursor",
} as const;
