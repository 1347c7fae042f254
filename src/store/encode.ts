import type { CrawlState, MirrorTable } from "../mirrors/types";
import type { Descriptor } from "../oci/descriptor";
import type { Digest } from "../oci/reference";
import { keys } from "./keys";
import type { BlobRecord, Manifest, MirrorOverride, Publication, PublishingRecord } from "./records";
import type { VersionMetadata } from "./versioned-cache";

/**
 * One KV entry as it is stored: key, value and metadata. Every writer (the
 * worker's stores, the CLI's KV targets, the bench, test seeds) builds its
 * entries with the encoders below, so each record has one encoding
 * (docs/kv-data-model.md).
 */
export interface KvEntry {
  key: string;
  value: string | Uint8Array;
  metadata?: Record<string, unknown>;
}

function versioned(version: string): Record<string, unknown> {
  const metadata: VersionMetadata = { version };
  return { ...metadata };
}

/** `mirrors`: the operator's table, with its version as metadata so isolates re-parse it only when it changes. */
export function mirrorsEntry(table: MirrorTable): KvEntry {
  return { key: keys.mirrors(), value: JSON.stringify(table), metadata: versioned(table.version) };
}

/** `mirrors:overrides`: the operator's switches of single mirrors, sorted by id. */
export function mirrorOverridesEntry(overrides: readonly MirrorOverride[]): KvEntry {
  return { key: keys.mirrorOverrides(), value: JSON.stringify([...overrides].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) };
}

/** `crawl:state` under `version`, a fresh one by default, so every isolate's cached copy is replaced. */
export function crawlStateEntry(state: CrawlState, version: string = crypto.randomUUID()): KvEntry {
  return { key: keys.crawlState(), value: JSON.stringify(state), metadata: versioned(version) };
}

/** `crawl:cursor`: `{next}`, the index of the next mirror to check. */
export function crawlCursorEntry(next: number): KvEntry {
  return { key: keys.crawlCursor(), value: JSON.stringify({ next }) };
}

/** Metadata of a `tag:` or `manifest:` entry (`ManifestMetadata`), copied so later changes to `manifest` do not leak in. */
function manifestMetadata(manifest: Omit<Manifest, "bytes">): Record<string, unknown> {
  return { digest: manifest.digest, mediaType: manifest.mediaType, generation: manifest.generation };
}

/** `manifest:<repository>@<digest>`: the manifest's exact bytes, described by its metadata. */
export function manifestEntry(repository: string, manifest: Omit<Manifest, "bytes">, bytes: Uint8Array): KvEntry {
  return { key: keys.manifest(repository, manifest.digest), value: bytes, metadata: manifestMetadata(manifest) };
}

/** `tag:<repository>:<tag>`: the same bytes and metadata as the manifest it names, so a pull by tag is one read. */
export function tagEntry(repository: string, tag: string, manifest: Omit<Manifest, "bytes">, bytes: Uint8Array): KvEntry {
  return { key: keys.tag(repository, tag), value: bytes, metadata: manifestMetadata(manifest) };
}

export function blobEntry(repository: string, digest: Digest, record: BlobRecord): KvEntry {
  return { key: keys.blob(repository, digest), value: JSON.stringify(record) };
}

/** `referrers:<repository>@<digest>`: the descriptors whose `subject` is `digest`. */
export function referrersEntry(repository: string, digest: Digest, descriptors: readonly Descriptor[]): KvEntry {
  return { key: keys.referrers(repository, digest), value: JSON.stringify(descriptors) };
}

/** `tags:<repository>`: the repository's tags, sorted. */
export function tagListEntry(repository: string, tags: readonly string[]): KvEntry {
  return { key: keys.tagList(repository), value: JSON.stringify([...tags].sort()) };
}

/** `catalog`: every repository, sorted. */
export function catalogEntry(repositories: readonly string[]): KvEntry {
  return { key: keys.catalog(), value: JSON.stringify([...repositories].sort()) };
}

/** `generation:<n>`: publication `n`, kept for good. */
export function generationEntry(publication: Publication): KvEntry {
  return { key: keys.generation(publication.generation), value: JSON.stringify(publication) };
}

/** `publication`: the newest `generation:<n>` value. */
export function publicationEntry(publication: Publication): KvEntry {
  return { key: keys.publication(), value: JSON.stringify(publication) };
}

/** `publishing`: the publication a publisher is about to write. */
export function publishingEntry(record: PublishingRecord): KvEntry {
  return { key: keys.publishing(), value: JSON.stringify({ generation: record.generation, started: record.started }) };
}

/** The `publishing` record's value, if it is one. */
export function parsePublishing(text: string | null): PublishingRecord | null {
  if (text === null) return null;
  try {
    const { generation, started } = JSON.parse(text) as Partial<PublishingRecord>;
    return Number.isSafeInteger(generation) && typeof started === "string" ? { generation: generation!, started } : null;
  } catch {
    return null;
  }
}

/** Writes one entry, with its metadata when it has any. */
export function putEntry(kv: KVNamespace, entry: KvEntry): Promise<void> {
  return kv.put(entry.key, entry.value, entry.metadata === undefined ? {} : { metadata: entry.metadata });
}
