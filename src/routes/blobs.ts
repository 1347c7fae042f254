import { Hono } from "hono";
import type { AppEnv } from "../env";
import { RegistryError } from "../errors";
import { NO_TRANSFORM } from "../http/headers";
import { blobUrl } from "../mirrors/blob-url";
import { parseDigest, parseRepositoryName } from "../oci/reference";
import { prefersMetalink } from "../render/metalink";
import { downloadLocations, duplicateLinks, instanceDigest } from "../render/redirect";
import { chooseMirrors, metalinkAnswer } from "./mirror-answers";

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
  c.header("Vary", "Accept");
  const metalink = prefersMetalink(c.req.header("Accept") ?? null, blob.mediaType ?? "application/octet-stream");
  if (!metalink) c.header("Docker-Content-Digest", digest);
  if (c.req.method === "HEAD" && !metalink) {
    c.header("Content-Type", blob.mediaType ?? "application/octet-stream");
    c.header("Content-Length", String(blob.size));
    c.header("Cache-Control", NO_TRANSFORM);
    c.header("ETag", `"${digest}"`);
    return c.body(null, 200);
  }
  const content = { repository, digest, size: blob.size, generation: blob.generation };
  const chosen = await chooseMirrors(c, content);
  if (metalink) return metalinkAnswer(c, content, chosen);
  c.header("Cache-Control", "private, no-store");
  const locations = downloadLocations(chosen, digest);
  for (const link of duplicateLinks(locations, c.var.settings.mirrorListCap)) c.header("Link", link, { append: true });
  c.header("Digest", instanceDigest(digest));
  return c.redirect(blobUrl(chosen[0].baseUrl, digest), 307);
});
