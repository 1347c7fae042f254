import { Hono } from "hono";
import type { AppEnv } from "../env";
import { RegistryError } from "../errors";
import { NO_TRANSFORM } from "../http/headers";
import { clientLocation } from "../mirrors/client";
import { selectMirrors } from "../mirrors/select";
import { MEDIA_TYPES } from "../oci/media-types";
import { parseReference, parseRepositoryName } from "../oci/reference";
import { prefersMetalink, renderMetalink } from "../render/metalink";
import { downloadLocations } from "../render/redirect";
import type { Manifest } from "../store/records";
import type { RegistryStore } from "../store/registry-store";

async function findManifest(registry: RegistryStore, repository: string, reference: string): Promise<Manifest> {
  const parsed = parseReference(reference);
  const manifest =
    parsed.kind === "tag"
      ? await registry.manifestByTag(repository, parsed.tag)
      : await registry.manifestByDigest(repository, parsed.digest);
  if (manifest !== null) return manifest;
  if (!(await registry.repositoryExists(repository))) throw new RegistryError("NAME_UNKNOWN", { detail: { name: repository } });
  throw new RegistryError("MANIFEST_UNKNOWN", { detail: { name: repository, reference } });
}

/**
 * `GET`/`HEAD /v2/<name>/manifests/<reference>`: the stored bytes as published,
 * never redirected (Distribution Spec, "Pulling manifests"). HEAD answers GET's headers.
 * A client that prefers `application/metalink4+xml` gets an RFC 5854 document
 * listing the manifest's copies on the mirrors instead.
 */
export const manifests = new Hono<AppEnv>().get("/:name{.+}/manifests/:reference", async (c) => {
  const repository = parseRepositoryName(c.req.param("name"));
  const manifest = await findManifest(c.var.registry, repository, c.req.param("reference"));
  c.set("logDigest", manifest.digest);
  c.header("Vary", "Accept");
  if (prefersMetalink(c.req.header("Accept") ?? null, manifest.mediaType)) {
    const [table, crawl, first, newest] = await Promise.all([
      c.var.mirrors.table(),
      c.var.mirrors.crawlState(),
      c.var.registry.generation(manifest.generation),
      c.var.registry.publication(),
    ]);
    const selection = selectMirrors(table, crawl, {
      client: clientLocation(c.req.raw, c.var.settings),
      generation: manifest.generation,
      repository,
      limit: c.var.settings.mirrorListCap,
    });
    if (selection.chosen.length === 0) throw new RegistryError("MIRROR_UNAVAILABLE", { detail: { digest: manifest.digest } });
    const document = renderMetalink({
      digest: manifest.digest,
      size: manifest.bytes.byteLength,
      published: first?.published ?? null,
      updated: newest?.published ?? null,
      locations: downloadLocations(selection.chosen, manifest.digest),
      mediaType: manifest.mediaType,
    });
    c.header("Content-Type", MEDIA_TYPES.metalink4);
    c.header("Content-Length", String(new TextEncoder().encode(document).byteLength));
    c.header("Docker-Content-Digest", manifest.digest);
    c.header("Cache-Control", "private, no-store");
    return c.body(document);
  }
  c.header("Content-Type", manifest.mediaType);
  c.header("Content-Length", String(manifest.bytes.byteLength));
  c.header("Docker-Content-Digest", manifest.digest);
  c.header("ETag", `"${manifest.digest}"`);
  c.header("Cache-Control", NO_TRANSFORM);
  return c.body(manifest.bytes);
});
