import type { MirrorTable } from "../../../src/mirrors/types";
import type { PublicationPlan } from "../../../src/publish/plan";
import { mirrorsEntry, putEntry, type KvEntry } from "../../../src/store/encode";
import { keys } from "../../../src/store/keys";
import { applyPlan, listPublished, listPublishedKeys } from "../../../src/store/publication-store";
import type { Publication } from "../../../src/store/records";
import type { KvTarget } from "../kv/kv-target";
import { HttpKv } from "./http-kv";

/** The publisher's KV target over one namespace of the bench's backing services, counting its operations. */
export class BenchKvTarget implements KvTarget {
  readonly description: string;
  readonly kv: HttpKv;

  constructor(url: string) {
    this.description = `bench KV at ${url}`;
    this.kv = new HttpKv(url);
  }

  readPublication(): Promise<Publication | null> {
    return this.kv.asNamespace().get<Publication>(keys.publication(), "json");
  }

  listPublishedKeys(): Promise<string[]> {
    return listPublishedKeys(this.kv.asNamespace());
  }

  listPublished(): Promise<Map<string, string | null>> {
    return listPublished(this.kv.asNamespace());
  }

  applyPlan(plan: PublicationPlan): Promise<void> {
    return applyPlan(this.kv.asNamespace(), plan);
  }

  putMirrors(table: MirrorTable): Promise<void> {
    return putEntry(this.kv.asNamespace(), mirrorsEntry(table));
  }

  readText(key: string): Promise<string | null> {
    return this.kv.asNamespace().get(key, "text");
  }

  async putEntries(entries: readonly KvEntry[]): Promise<void> {
    for (const entry of entries) await putEntry(this.kv.asNamespace(), entry);
  }

  async close(): Promise<void> {}
}
