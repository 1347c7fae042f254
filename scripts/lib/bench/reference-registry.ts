import { skopeo } from "../process/daemons";
import { referenceRegistryVersion, startReferenceRegistry as startRegistry, type ReferenceRegistry as Registry } from "../process/reference-registry";

export { referenceRegistryInstalled } from "../process/reference-registry";

/** The reference registry (distribution, Debian's `docker-registry`), serving what the bench pushed into it. */
export interface ReferenceRegistry extends Registry {
  version: string;
}

/**
 * Starts the reference registry on 127.0.0.1 with a temporary config and
 * filesystem storage under `dir`, and pushes `ref` of the OCI layout `tree`
 * into it with skopeo, digests preserved, so both registries serve the same bytes.
 */
export async function startReferenceRegistry(dir: string, tree: string, ref: string): Promise<ReferenceRegistry> {
  const registry = await startRegistry(dir);
  try {
    const pushed = await skopeo(dir, ["copy", "--all", "--preserve-digests", "--dest-tls-verify=false", `oci:${tree}:${ref}`, `docker://${registry.host}/${ref}`], 120_000);
    if (pushed.code !== 0) throw new Error(`skopeo copy into the reference registry failed: ${pushed.stderr}`);
    return { ...registry, version: await referenceRegistryVersion() };
  } catch (error) {
    await registry.stop();
    throw error;
  }
}
