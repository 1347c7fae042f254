import { join, resolve } from "node:path";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import type { MirrorTable } from "../../../src/mirrors/types";
import type { PublicationPlan } from "../../../src/publish/plan";
import { mirrorsEntry, putEntry, type KvEntry } from "../../../src/store/encode";
import { applyPlan, listPublished, listPublishedKeys } from "../../../src/store/publication-store";
import { keys } from "../../../src/store/keys";
import type { Publication } from "../../../src/store/records";
import type { KvTarget } from "./kv-target";

/**
 * The directory under `--persist-to` where wrangler keeps local resources;
 * `wrangler dev --persist-to <dir>` and `wrangler kv ... --local --persist-to <dir>` both read it.
 */
export function resourcePersistencePath(persistDir: string): string {
  return join(resolve(persistDir), "v3");
}

/**
 * The local KV namespace `wrangler dev --persist-to <persistDir>` serves,
 * opened through Miniflare the way wrangler's own `kv --local` commands open it.
 * `namespaceId` must be the id wrangler dev binds (`preview_id`, else `id`, of wrangler.toml).
 */
export class LocalKvTarget implements KvTarget {
  readonly description: string;
  private readonly miniflare: Miniflare;
  private namespace: Promise<KVNamespace> | null = null;

  constructor(persistDir: string, namespaceId: string) {
    this.description = `local KV ${namespaceId} in ${resolve(persistDir)}`;
    this.miniflare = new Miniflare(
      convertV4MiniflareOptions({
        modules: true,
        script: "export default {}",
        resourcePersistencePath: resourcePersistencePath(persistDir),
        kvNamespaces: { REGISTRY: namespaceId },
      }),
    );
  }

  /** The namespace itself, for reading back what was written. */
  kv(): Promise<KVNamespace> {
    this.namespace ??= this.miniflare.getKVNamespace("REGISTRY") as unknown as Promise<KVNamespace>;
    return this.namespace;
  }

  async readPublication(): Promise<Publication | null> {
    return (await this.kv()).get<Publication>(keys.publication(), "json");
  }

  async listPublishedKeys(): Promise<string[]> {
    return listPublishedKeys(await this.kv());
  }

  async listPublished(): Promise<Map<string, string | null>> {
    return listPublished(await this.kv());
  }

  async applyPlan(plan: PublicationPlan): Promise<void> {
    await applyPlan(await this.kv(), plan);
  }

  async putMirrors(table: MirrorTable): Promise<void> {
    await putEntry(await this.kv(), mirrorsEntry(table));
  }

  async readText(key: string): Promise<string | null> {
    return (await this.kv()).get(key, "text");
  }

  async putEntries(entries: readonly KvEntry[]): Promise<void> {
    const kv = await this.kv();
    for (const entry of entries) await putEntry(kv, entry);
  }

  async close(): Promise<void> {
    await this.miniflare.dispose();
  }
}
