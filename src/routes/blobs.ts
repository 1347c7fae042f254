import { Hono } from "hono";
import type { AppEnv } from "../env";
import { NO_TRANSFORM } from "../http/headers";
import { registryAnswer } from "../http/registry-answer";
import { mayPreferMetalink, prefersMetalink } from "../render/metalink";
import { blobRedirect, downloadLocations } from "../render/redirect";
import { readTogether } from "../store/read-together";
import { findBlob } from "./lookups";
import { chooseMirrors, metalinkAnswer } from "./mirror-answers";
import { digestParam, repositoryParam } from "./params";
import { countRedirect } from "./download-count";
import { orderForAsk, recallAsks } from "./retry-target";

/**
 * `GET /v2/<name>/blobs/<digest>` redirects to a mirror (307, Range or not)
 * with RFC 6249 `Link: rel=duplicate` and RFC 3230 `Digest` headers;
 * `HEAD` is answered here from KV, so it is fast and always has Content-Length.
 * A GET that comes back (a retry, or a resume with `Range` past byte 0) is sent
 * down the client's ranked list (docs/selection.md, "Retries and resumes").
 * A client that prefers `application/metalink4+xml` gets an RFC 5854 document instead.
 */
export const blobs = new Hono<AppEnv>().get("/:name{.+}/blobs/:digest", async (c) => {
  const repository = repositoryParam(c.req.param("name"));
  const digest = digestParam(c.req.param("digest"));
  c.set("logDigest", digest);
  // A GET will need the mirror table and crawl state: read them alongside the blob record,
  // and let both reads finish even on a miss, so no KV read outlives the request.
  // A metalink answer is not an ask: retry memory is read only for a GET that can be a redirect.
  const accept = c.req.header("Accept") ?? null;
  const inputs = c.req.method === "GET" ? c.get("mirrors").selectionInputs() : undefined;
  const recall = c.req.method === "GET" && !mayPreferMetalink(accept) ? recallAsks(c, digest) : null;
  const [blob, , early] = await readTogether([findBlob(c.get("registry"), repository, digest), inputs, recall]);
  const content = { repository, digest, size: blob.size, generation: blob.generation, ...(blob.sets === undefined ? {} : { sets: blob.sets }) };
  if (prefersMetalink(accept, blob.mediaType ?? "application/octet-stream")) {
    return metalinkAnswer(c, content, inputs);
  }
  const common = { Vary: "Accept", "Docker-Content-Digest": digest };
  if (c.req.method === "HEAD") {
    return registryAnswer(null, {
      ...common,
      "Content-Type": blob.mediaType ?? "application/octet-stream",
      "Content-Length": String(blob.size),
      "Cache-Control": NO_TRANSFORM,
      ETag: `"${digest}"`,
    });
  }
  const recalled = recall === null ? await recallAsks(c, digest) : early;
  const ranked = orderForAsk(c, await chooseMirrors(c, content, inputs), recalled, blob.size);
  countRedirect(c, ranked[0], blob.size);
  const redirect = blobRedirect(downloadLocations(ranked, digest), digest, c.get("settings").mirrorListCap);
  return registryAnswer(null, { Location: redirect.location, ...common, ...redirect.headers }, 307);
});
