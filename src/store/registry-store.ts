import type { Digest } from "../oci/reference";
import { keys } from "./keys";
import type { Descriptor } from "../oci/descriptor";
import type { BlobRecord, Manifest, ManifestMetadata, Publication } from "./records";

/** Read access to published content. The only module that reads content keys from KV. */
export class RegistryStore {
  constructor(private readonly kv: KVNamespace) {}

  /** One KV read: the tag entry holds the manifest bytes themselves. */
  manifestByTag(repository: string, tag: string): Promise<Manifest | null> {
    return this.readManifest(keys.tag(repository, tag));
  }

  manifestByDigest(repository: string, digest: Digest): Promise<Manifest | null> {
    return this.readManifest(keys.manifest(repository, digest));
  }

  blob(repository: string, digest: Digest): Promise<BlobRecord | null> {
    return this.kv.get<BlobRecord>(keys.blob(repository, digest), "json");
  }

  /** The repository's tags in lexical order, or null when the repository was never published. */
  tags(repository: string): Promise<string[] | null> {
    return this.kv.get<string[]>(keys.tagList(repository), "json");
  }

  async repositoryExists(repository: string): Promise<boolean> {
    return (await this.tags(repository)) !== null;
  }

  async catalog(): Promise<string[]> {
    return (await this.kv.get<string[]>(keys.catalog(), "json")) ?? [];
  }

  async referrers(repository: string, digest: Digest): Promise<Descriptor[]> {
    return (await this.kv.get<Descriptor[]>(keys.referrers(repository, digest), "json")) ?? [];
  }

  publication(): Promise<Publication | null> {
    return this.kv.get<Publication>(keys.publication(), "json");
  }

  generation(generation: number): Promise<Publication | null> {
    return this.kv.get<Publication>(keys.generation(generation), "json");
  }

  private async readManifest(key: string): Promise<Manifest | null> {
    const { value, metadata } = await this.kv.getWithMetadata<ManifestMetadata>(key, "arrayBuffer");
    if (value === null || metadata === null) return null;
    return { bytes: value, ...metadata };
  }
}
