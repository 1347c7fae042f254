import { Hono } from "hono";
import type { AppEnv } from "../env";
import { RegistryError } from "../errors";
import { NO_TRANSFORM } from "../http/headers";
import { blobUrl } from "../mirrors/blob-url";
import { clientLocation } from "../mirrors/client";
import { selectMirrors } from "../mirrors/select";
import { parseDigest, parseRepositoryName } from "../oci/reference";

/**
 * `GET /v2/<name>/blobs/<digest>` redirects to a mirror (307, Range or not);
 * `HEAD` is answered here from KV, so it is fast and always has Content-Length.
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
  if (c.req.method === "HEAD") {
    c.header("Content-Type", blob.mediaType ?? "application/octet-stream");
    c.header("Content-Length", String(blob.size));
    c.header("Cache-Control", NO_TRANSFORM);
    c.header("ETag", `"${digest}"`);
    return c.body(null, 200);
  }
  const [table, crawl] = await Promise.all([c.var.mirrors.table(), c.var.mirrors.crawlState()]);
  const selection = selectMirrors(table, crawl, {
    client: clientLocation(c.req.raw),
    generation: blob.generation,
    repository,
    limit: c.var.settings.mirrorListCap,
  });
  const target = selection.chosen[0];
  if (target === undefined) throw new RegistryError("MIRROR_UNAVAILABLE", { detail: { digest } });
  c.set("logMirror", target.id);
  c.header("Cache-Control", "private, no-store");
  return c.redirect(blobUrl(target.baseUrl, digest), 307);
});
