import { Hono } from "hono";
import type { AppEnv } from "../env";
import { RegistryError } from "../errors";
import { PER_CLIENT } from "../http/headers";
import { blobUrl } from "../oci/layout";
import { locateClient } from "../mirrors/client";
import { findBlob } from "./lookups";
import { selectFor } from "./mirror-answers";
import { digestParam, repositoryParam } from "./params";

/**
 * `GET /debug/selection/<name>/blobs/<digest>`, outside production only:
 * the mirror selection the blob route would make for this client, with
 * every chosen mirror's tier and every excluded mirror's reason. Production
 * answers NOT_FOUND, as for any unknown path.
 */
export const debug = new Hono<AppEnv>().get("/debug/selection/:name{.+}/blobs/:digest", async (c) => {
  if (c.get("settings").production) throw new RegistryError("NOT_FOUND", { detail: { path: new URL(c.req.url).pathname } });
  const repository = repositoryParam(c.req.param("name"));
  const digest = digestParam(c.req.param("digest"));
  const blob = await findBlob(c.get("registry"), repository, digest);
  const { location, ignored } = locateClient(c.req.raw, c.get("settings"));
  const content = { repository, digest, size: blob.size, generation: blob.generation, ...(blob.sets === undefined ? {} : { sets: blob.sets }) };
  const selection = await selectFor(c, content, { client: location, explain: true });
  c.header("Cache-Control", PER_CLIENT);
  return c.json({
    repository,
    digest,
    generation: blob.generation,
    sets: blob.sets ?? [],
    client: location,
    ignoredHeaders: ignored,
    chosen: selection.chosen.map(({ id, tier, country, baseUrl }) => ({ id, tier, country, url: blobUrl(baseUrl, digest) })),
    excluded: selection.excluded,
  });
});
