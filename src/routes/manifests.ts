import { Hono } from "hono";
import type { AppEnv } from "../env";
import { keptBody } from "../http/kept-body";
import { NO_TRANSFORM } from "../http/headers";
import { registryAnswer } from "../http/registry-answer";
import { prefersMetalink } from "../render/metalink";
import { findManifest } from "./lookups";
import { metalinkAnswer } from "./mirror-answers";
import { referenceParam, repositoryParam } from "./params";

/**
 * `GET`/`HEAD /v2/<name>/manifests/<reference>`: the stored bytes as published,
 * never redirected (Distribution Spec, "Pulling manifests"). HEAD answers GET's headers.
 * A client that prefers `application/metalink4+xml` gets an RFC 5854 document
 * listing the manifest's copies on the mirrors instead.
 */
export const manifests = new Hono<AppEnv>().get("/:name{.+}/manifests/:reference", async (c) => {
  const repository = repositoryParam(c.req.param("name"));
  const manifest = await findManifest(c.get("registry"), repository, referenceParam(c.req.param("reference")));
  c.set("logDigest", manifest.digest);
  if (prefersMetalink(c.req.header("Accept") ?? null, manifest.mediaType)) {
    const content = { repository, digest: manifest.digest, size: manifest.bytes.byteLength, generation: manifest.generation, mediaType: manifest.mediaType, ...(manifest.sets === undefined ? {} : { sets: manifest.sets }) };
    return metalinkAnswer(c, content);
  }
  return registryAnswer(keptBody(new Uint8Array(manifest.bytes)), {
    "Content-Type": manifest.mediaType,
    "Content-Length": String(manifest.bytes.byteLength),
    "Docker-Content-Digest": manifest.digest,
    ETag: `"${manifest.digest}"`,
    "Cache-Control": NO_TRANSFORM,
    Vary: "Accept",
  });
});
