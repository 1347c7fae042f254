import { Hono } from "hono";
import type { AppEnv } from "../env";
import { RegistryError } from "../errors";
import { NO_TRANSFORM } from "../http/headers";
import { blobUrl } from "../mirrors/blob-url";
import { clientLocation } from "../mirrors/client";
import { selectMirrors } from "../mirrors/select";
import { MEDIA_TYPES } from "../oci/media-types";
import { parseDigest, parseRepositoryName } from "../oci/reference";
import { prefersMetalink, renderMetalink } from "../render/metalink";
import { downloadLocations, duplicateLinks, instanceDigest } from "../render/redirect";

/**
 * `GET /v2/<name>/blobs/<digest>` redirects to a mirror (307, Range or not)
 * with RFC 6249 `Link: rel=duplicate` and RFC 3230 `Digest` headers;
 * `HEAD` is answered here from KV, so it is fast and always has Content-Length.
 * A client that prefers `application/metalink4+xml` gets an RFC 5854 document instead.
 */
export const blobs = new Hono<AppEnv>().get("/:name{.+}/blobs/:digest", async (c) => {
  const repository = parseRepositoryName(c.req.param("name"));
  const digest = parseDigest(c.req.param("digest"));
  c.set("logDigest", digest);
  const blob = await c.var.registry.blob(repository, digest);
  if (blob === null) {
    if (!(await c.var.registry.repositoryExists(repository))) throw new RegistryError("NAME_UNKNOWN", { detail: { name: repository } });
    throw new RegistryError("BLOB_UNKNOWN", { detail: { digest } });
  }
  c.header("Docker-Content-Digest", digest);
  c.header("Vary", "Accept");
  const metalink = prefersMetalink(c.req.header("Accept") ?? null, blob.mediaType ?? "application/octet-stream");
  if (c.req.method === "HEAD" && !metalink) {
    c.header("Content-Type", blob.mediaType ?? "application/octet-stream");
    c.header("Content-Length", String(blob.size));
    c.header("Cache-Control", NO_TRANSFORM);
    c.header("ETag", `"${digest}"`);
    return c.body(null, 200);
  }
  const [table, crawl] = await Promise.all([c.var.mirrors.table(), c.var.mirrors.crawlState()]);
  const selection = selectMirrors(table, crawl, {
    client: clientLocation(c.req.raw, c.var.settings),
    generation: blob.generation,
    repository,
    limit: c.var.settings.mirrorListCap,
  });
  const target = selection.chosen[0];
  if (target === undefined) throw new RegistryError("MIRROR_UNAVAILABLE", { detail: { digest } });
  c.set("logMirror", target.id);
  c.header("Cache-Control", "private, no-store");
  const locations = downloadLocations(selection.chosen, digest);
  if (metalink) {
    const [first, newest] = await Promise.all([c.var.registry.generation(blob.generation), c.var.registry.publication()]);
    const document = renderMetalink({
      digest,
      size: blob.size,
      published: first?.published ?? null,
      updated: newest?.published ?? null,
      locations,
    });
    c.header("Content-Type", MEDIA_TYPES.metalink4);
    c.header("Content-Length", String(new TextEncoder().encode(document).byteLength));
    return c.body(document, 200);
  }
  for (const link of duplicateLinks(locations, c.var.settings.mirrorListCap)) c.header("Link", link, { append: true });
  c.header("Digest", instanceDigest(digest));
  return c.redirect(blobUrl(target.baseUrl, digest), 307);
});
