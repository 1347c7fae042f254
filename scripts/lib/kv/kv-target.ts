import type { MirrorTable } from "../../../src/mirrors/types";
import type { PublicationPlan } from "../../../src/publish/plan";
import type { KvEntry } from "../../../src/store/encode";
import type { Publication } from "../../../src/store/records";

/** Where the CLI writes: the local KV that `wrangler dev` reads, or a deployed namespace. */
export interface KvTarget {
  /** Names the target in messages, e.g. "local KV in .wrangler/state". */
  readonly description: string;
  /** The newest publication the namespace holds, or null when it has none. */
  readPublication(): Promise<Publication | null>;
  /** Every key the namespace holds under `PUBLISHED_PREFIXES` (src/store/keys.ts). */
  listPublishedKeys(): Promise<string[]>;
  /** Those keys and the publisher's records, each with the content hash of its metadata (`listPublished` in src/store/publication-store.ts). */
  listPublished(): Promise<Map<string, string | null>>;
  /** Writes a plan: content, then pointers, `publication` last, then deletes stale pointers and then stale content. */
  applyPlan(plan: PublicationPlan): Promise<void>;
  /** Writes the `mirrors` key with its version as metadata. */
  putMirrors(table: MirrorTable): Promise<void>;
  /** The value of one key as text, or null when the namespace has no such key. */
  readText(key: string): Promise<string | null>;
  /** Writes entries with their metadata (a dry run writes the bulk file instead). */
  putEntries(entries: readonly KvEntry[]): Promise<void>;
  close(): Promise<void>;
}
