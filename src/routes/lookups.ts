import { RegistryError } from "../errors";
import type { Digest, Reference } from "../oci/reference";
import type { BlobRecord, Manifest } from "../store/records";
import type { RegistryStore } from "../store/registry-store";

/** NAME_UNKNOWN when the repository was never published, else the given miss. Costs a read only on a miss. */
async function missing(registry: RegistryStore, repository: string, miss: RegistryError): Promise<never> {
  if (!(await registry.repositoryExists(repository))) throw new RegistryError("NAME_UNKNOWN", { detail: { name: repository } });
  throw miss;
}

/** The manifest a tag or digest names in `repository`; a by-tag hit costs one KV read. */
export async function findManifest(registry: RegistryStore, repository: string, reference: Reference): Promise<Manifest> {
  const manifest =
    reference.kind === "tag"
      ? await registry.manifestByTag(repository, reference.tag)
      : await registry.manifestByDigest(repository, reference.digest);
  if (manifest !== null) return manifest;
  const detail = { name: repository, reference: reference.kind === "tag" ? reference.tag : reference.digest };
  return missing(registry, repository, new RegistryError("MANIFEST_UNKNOWN", { detail }));
}

/** The blob record of `digest` in `repository`, the reference registry's per-repository link. */
export async function findBlob(registry: RegistryStore, repository: string, digest: Digest): Promise<BlobRecord> {
  return (await registry.blob(repository, digest)) ?? missing(registry, repository, new RegistryError("BLOB_UNKNOWN", { detail: { digest } }));
}
